/** Prints the table and writes BENCHMARKS.md: machine, peer versions, targets met/missed, every figure. */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import type { Config } from './config.js'
import type { Versions } from './lib/peers.js'
import { REPO_DIR } from './lib/paths.js'
import { lineChart, ratioChart } from './lib/charts.js'
import { type Results, type Row, fmt } from './lib/results.js'
import { SERVER_LABEL, type ServerKind } from './lib/servers.js'
import { AUTOMERGE_LABEL, AUTOMERGE_SECTION } from './sections/automerge.js'
import { RAMP_CURVE } from './sections/fanout.js'
import { ENGINE_LIMITS, TARGETS, mergeRatio } from './targets.js'

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
  [AUTOMERGE_SECTION]: 'converge-automerge',
}

function subjectLabel(s: string): string {
  return SERVER_LABEL[s as ServerKind] ?? AUTOMERGE_LABEL[s as keyof typeof AUTOMERGE_LABEL] ?? s
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

const CHART_DIR = 'bench/charts'
const ENGINE_METRICS = ['time', 'document size', 'cold load (fresh process)'] as const

/** Writes the charts this run has data for; returns section → the Markdown that shows them. */
function writeCharts(results: Results): Map<string, string> {
  const out = new Map<string, string>()
  const dir = join(REPO_DIR, CHART_DIR)
  const ramp = results.series.get(RAMP_CURVE)
  if (ramp && ramp.size > 0) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'ramp.svg'),
      lineChart({
        title: 'Ramp on shape (a): fan-out p99 against the offered rate',
        xLabel: 'offered updates/s (10 writers, 1 space × 50)',
        yLabel: 'p99 ms',
        limit: { y: 50, label: 'p99 limit 50 ms' },
        series: [...ramp].map(([kind, points]) => ({
          name: subjectLabel(kind),
          points,
          highlight: kind === 'converge',
        })),
      }),
    )
    out.set(
      '1 fan-out',
      `![The ramp: p99 latency against offered rate, one line per server](${CHART_DIR}/ramp.svg)`,
    )
  }
  const engineRows = results.rows.filter((r) => r.section === '5 engines')
  const workloads = engineRows.filter((r) => r.metric.endsWith(': time')).map((r) => r.metric.slice(0, -6))
  if (workloads.length > 0) {
    const engines = ['yjs', 'automerge'] as const
    const ratio = (w: string, metric: string, e: (typeof engines)[number]): number =>
      mergeRatio(
        engineRows.find((r) => r.metric === `${w}: ${metric}`),
        e,
      )
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'engines.svg'),
      ratioChart({
        title: 'packages/merge ÷ the raw library on the same engine (log scale; 1× = as raw)',
        engines: ['on Yjs', 'on Automerge'],
        panels: ENGINE_METRICS.map((metric) => ({
          title: metric,
          rows: workloads.map((w) => ({ label: w, values: engines.map((e) => ratio(w, metric, e)) })),
          targets: engines.map((e) => ENGINE_LIMITS.find(([en, m]) => en === e && m === metric)?.[2] ?? NaN),
        })),
      }),
    )
    out.set(
      '5 engines',
      `![packages/merge ÷ raw library per workload: time, document size, cold load](${CHART_DIR}/engines.svg)`,
    )
  }
  return out
}

/** Where and when a run measured: kept with its figures, so that a report written again says the same. */
export interface RunInfo {
  readonly date: string
  readonly machine: string
  readonly runtime: string
  readonly seconds: number
  readonly quick: boolean
  readonly sections: readonly string[]
  readonly peers: Versions
}

export function runInfo(cfg: Config, peers: Versions, seconds: number): RunInfo {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    machine: `${cpus.length} cores (${cpus[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}`,
    runtime: `Node ${process.version}; ${chromiumVersion()}`,
    seconds,
    quick: cfg.quick,
    sections: cfg.sections,
    peers,
  }
}

export function writeReport(info: RunInfo, results: Results): string {
  const { peers, seconds } = info
  const sections = [...new Set(results.rows.map((r) => r.section))]
  const charts = writeCharts(results)
  const targetLines = TARGETS.map((t) => {
    const e = t.evaluate(results)
    const status = e.met === undefined ? 'not measured' : e.met ? '**met**' : '**missed**'
    return `| ${t.name} | ${t.threshold} | ${e.measured} | ${status} | ${e.met === false ? e.reason : ''} |`
  })
  const md = [
    '# Benchmarks',
    '',
    `Written by \`pnpm bench${info.quick ? ' --quick' : ''}\` (bench/README.md says what each section measures and how; bench/results.json holds its figures).`,
    info.quick
      ? '**This is a --quick run: fewer repetitions, shorter windows and smaller sizes than the full run; its figures are indicative only.**'
      : '',
    '',
    `- date: ${info.date}`,
    `- machine: ${info.machine}`,
    `- ${info.runtime}`,
    `- run time: ${(seconds / 60).toFixed(1)} min; sections: ${info.sections.join(', ')}`,
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
      ...(charts.has(s) ? [charts.get(s)!, ''] : []),
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
