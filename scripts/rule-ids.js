#!/usr/bin/env node
// (a plain Node script: the project service types node:* loosely here)
/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument */
// Every rule id a test name cites ([CART-3], PERS-4, [WEB-CART-2], [P4.1] …) is defined in a SPEC.md or PROTOCOL.md:
// as a bold rule (**CART-3 — …**), a range in a rule table (COMMIT-1…4) or a PROTOCOL.md section (P4.1).
// Run by `pnpm lint`; prints the ids without a definition and fails.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const git = (...args) => execFileSync('git', args, { encoding: 'utf8' }).split('\n').filter(Boolean)
const tests = git('ls-files', '*.ts', '*.tsx').filter((f) =>
  /(\.test|\.spec)\.tsx?$|\/test\/|\/testing\/|e2e\/tests\//.test(f),
)
const docs = git('ls-files', '--cached', '--others', '--exclude-standard', '*.md')

/** @type {RegExp} */
const ID = /\b([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d+(?:\.\d+)?|P\d+(?:\.\d+)?)\b/g
/** @type {Map<string, string[]>} */
const cited = new Map()
for (const file of tests) {
  const text = readFileSync(file, 'utf8')
  for (const m of text.matchAll(/\b(?:it|test|describe)(?:\.each\([^)]*\))?\(\s*['"`]([^'"`]*)/g))
    for (const [, id] of (m[1] ?? '').matchAll(ID))
      cited.set(String(id), [...(cited.get(String(id)) ?? []), file])
}
const defined = new Set()
for (const file of docs) {
  const text = readFileSync(file, 'utf8')
  for (const [, id] of text.matchAll(
    /\*\*([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d+(?:\.\d+)?|P\d+(?:\.\d+)?)\b/g,
  ))
    defined.add(id)
  for (const [, prefix, from, to] of text.matchAll(/\b([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*)-(\d+)…(\d+)/g))
    for (let k = Number(from); k <= Number(to); k++) defined.add(`${prefix}-${k}`)
  for (const [, id] of text.matchAll(/^#+ (P\d+(?:\.\d+)?)\b/gm)) defined.add(id)
}
const missing = [...cited].filter(([id]) => !defined.has(id))
if (missing.length > 0) {
  for (const [id, files] of missing)
    console.error(`rule ${id} is cited by ${[...new Set(files)].join(', ')} but defined in no SPEC.md`)
  process.exit(1)
}
console.log(`rule ids: ${cited.size} cited by tests, each defined in a SPEC.md or PROTOCOL.md`)
