#!/usr/bin/env node
// Prints one SHA-256 over the given files and folders (their paths and contents, in a fixed order),
// skipping node_modules, build output and caches: scripts/start.sh compares it with the one it
// recorded to skip an install or a build whose inputs have not changed. Missing paths count as such.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const SKIP = new Set(['node_modules', 'dist', 'dist-e2e', 'coverage', '.cache', '.git', 'data'])
const hash = createHash('sha256')

/** @param {string} path */
function add(path) {
  let info
  try {
    info = statSync(path)
  } catch {
    hash.update(`missing ${path}\0`)
    return
  }
  if (info.isDirectory()) {
    for (const name of readdirSync(path).sort()) if (!SKIP.has(name)) add(join(path, name))
  } else if (info.isFile()) {
    hash.update(`file ${path}\0`)
    hash.update(readFileSync(path))
    hash.update('\0')
  }
}

for (const arg of process.argv.slice(2)) add(arg)
process.stdout.write(`${hash.digest('hex')}\n`)
