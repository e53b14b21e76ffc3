/** Prints the table and writes BENCHMARKS.md: machine, peer versions, targets met/missed, every figure. */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import type { Config } from './config.js'
import type { Versions } from './lib/peers.js'
import { REPO_DIR } from './lib/paths.js'
import { type Results, type Row, fmt } from './lib/results.js'
import { SERVER_LABEL, type ServerKind } from './lib/servers.js'
import { TARGETS } from './targets.js'

function chromiumVersion(): string {
  for (const bin of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    try {
      return execFileSync(bin, ['--version'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim()
    } catch {
      /* next */
    }
  }
  return 'not found'
}

/** The subject every other column is compared with, per section. */
const REFERENCE: Record<string, string> = {
  '1 fan-out': 'converge',
  '2 memory': 'converge',
  '3 join': 'converge',
  '4 client storage': 'IdbStore',
}

function subjectLabel(s: string): string {
  return SERVER_LABEL[s as ServerKind] ?? s
}

function sectionTable(rows: Row[]): string {
  const subjects: string[] = []
  for (const r of rows) for (const k of Object.keys(r.values)) if (!subjects.includes(k)) subjects.push(k)
  const ref = REFERENCE[rows[0]!.section]
  const lines = [
    `| metric | unit | ${subjects.map(subjectLabel).join(' | ')} |`,
    `| --- | --- | ${subjects.map(() => '---:').join(' | ')} |`,
  ]
  for (const r of rows) {
    const cells = subjects.map((s) => {
      const v = r.values[s]
      if (v === undefined) return ''
      // engines: a packages/merge column shows its ratio to the raw library on the same engine
      const base =
        ref && s !== ref
          ? r.values[ref]
          : s.startsWith('merge/')
            ? r.values[s.replace('merge/', 'raw ')]
            : undefined
      if (base === undefined || !Number.isFinite(base) || !Number.isFinite(v) || v === 0) return fmt(v)
      const ratio = ref ? base / v : v / base
      return `${fmt(v)} (${ratio.toFixed(2)}×)`
    })
    lines.push(`| ${r.metric} | ${r.unit} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

export function writeReport(cfg: Config, results: Results, peers: Versions, seconds: number): string {
  const cpus = os.cpus()
  const sections = [...new Set(results.rows.map((r) => r.section))]
  const targetLines = TARGETS.map((t) => {
    const e = t.evaluate(results)
    const status = e.met === undefined ? 'not measured' : e.met ? '**met**' : '**missed**'
    return `| ${t.name} | ${t.threshold} | ${e.measured} | ${status} | ${e.met === false ? e.reason : ''} |`
  })
  const md = [
    '# Benchmarks',
    '',
    `Written by \`pnpm bench${cfg.quick ? ' --quick' : ''}\` (bench/README.md says what each section measures and how).`,
    cfg.quick
      ? '**This is a --quick run: fewer repetitions, shorter windows and smaller sizes than the full run; its figures are indicative only.**'
      : '',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus.length} cores (${cpus[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}`,
    `- Node ${process.version}; ${chromiumVersion()}`,
    `- run time: ${(seconds / 60).toFixed(1)} min; sections: ${cfg.sections.join(', ')}`,
    `- peers: ${Object.entries(peers)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    'Ratios: in the server and storage tables each peer cell shows `Converge ÷ peer` (below 1 means Converge is lower:',
    'better for times, sizes and CPU, worse for rates); in the engine table each packages/merge cell shows',
    '`merge ÷ raw library` on the same engine.',
    '',
    '## Targets',
    '',
    '| target | threshold | measured | status | what bounds it |',
    '| --- | --- | --- | --- | --- |',
    ...targetLines,
    '',
    ...sections.flatMap((s) => [
      `## ${s}`,
      '',
      sectionTable(results.rows.filter((r) => r.section === s)),
      '',
    ]),
    '## Notes',
    '',
    ...results.notes.map((n) => `- ${n}`),
    '',
  ].join('\n')
  const file = join(REPO_DIR, 'BENCHMARKS.md')
  writeFileSync(file, md)
  console.log(`\n${md}`)
  return file
}
