/**
 * deploy/: the Grafana dashboard and the Prometheus alerts watch metrics that a real server exposes
 * (a renamed or dropped metric would leave a panel empty and an alert silent for ever), the rules
 * pass promtool's checks and their own unit tests, and the dashboard is well-formed.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REDIS_URL, haveRedis } from '@converge/test-services'
import { afterEach, describe, expect, it } from 'vitest'
import { PACKAGE_DIR, cleanup, startTestServer } from './helpers.js'

afterEach(cleanup)

const ROOT = join(PACKAGE_DIR, '..', '..')
const DASHBOARD = 'deploy/grafana/converge-dashboard.json'
const ALERTS = 'deploy/prometheus/alerts.yml'
const ALERT_TESTS = 'deploy/prometheus/alerts.test.yml'
const PROMETHEUS = 'deploy/prometheus/prometheus.yml'
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

/** Registered only once a Redis fan-out connection reports (REDIS_URL set): checked on a server with Redis. */
const FANOUT_CONNECTED = 'converge_fanout_connected'
const FANOUT_GAP = 'converge_fanout_gap_seconds'
const WITH_REDIS_ONLY = new Set([FANOUT_CONNECTED, FANOUT_GAP])

interface Target {
  readonly expr?: string
}
interface Panel {
  readonly id?: number
  readonly type?: string
  readonly title?: string
  readonly description?: string
  readonly datasource?: unknown
  readonly targets?: readonly Target[]
  readonly panels?: readonly Panel[]
}
interface Dashboard {
  readonly schemaVersion: number
  readonly panels: readonly Panel[]
  readonly templating: { readonly list: readonly { name: string; type: string; query?: unknown }[] }
}

const dashboard = (): Dashboard => JSON.parse(read(DASHBOARD)) as Dashboard

/** Every panel, those inside collapsed rows included. */
const allPanels = (panels: readonly Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])])

/**
 * The `expr` of every rule in a rules file: a one-line `expr: …` or a block (`expr: |`, `>`) whose
 * lines are indented deeper than the key. (The workspace has no YAML parser; the files are ours.)
 */
function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n')
  const out: string[] = []
  lines.forEach((line, i) => {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(line)
    if (!m) return
    const [, indent, rest] = m as unknown as [string, string, string]
    if (!/^[|>][-+]?$/.test(rest.trim())) {
      out.push(rest)
      return
    }
    const block: string[] = []
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= indent.length) break
      block.push(next.trim())
    }
    out.push(block.join(' '))
  })
  return out
}

/** The `series` of every input series of a promtool test file. */
const inputSeries = (yaml: string): string[] =>
  [...yaml.matchAll(/^\s*- series:\s*['"]?([^'"\n]+)/gm)].map((m) => m[1]!)

const metricNames = (exprs: readonly string[]): Set<string> =>
  new Set(exprs.flatMap((e) => [...e.matchAll(/converge_[a-z_]+/g)].map((m) => m[0])))

/** Every series name a scrape can hold, from its `# TYPE` lines (a histogram: _bucket, _sum, _count). */
async function exposedNames(url: string): Promise<Set<string>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const names = new Set<string>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!)
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s)
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name! + s)
  }
  return names
}

function dashboardExprs(): string[] {
  const d = dashboard()
  const queries = d.templating.list.map((v) =>
    typeof v.query === 'string' ? v.query : JSON.stringify(v.query),
  )
  return [...allPanels(d.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')), ...queries]
}

describe('deploy: the dashboard and the alerts', () => {
  it('every metric the dashboard, the alerts and their tests name exists on a real server', async () => {
    const alertExprs = ruleExprs(read(ALERTS))
    expect(alertExprs.length, 'one expr per alert').toBe(read(ALERTS).match(/^\s*- alert:/gm)?.length)
    const named = new Map<string, Set<string>>([
      [DASHBOARD, metricNames(dashboardExprs())],
      [ALERTS, metricNames(alertExprs)],
      [ALERT_TESTS, metricNames(inputSeries(read(ALERT_TESTS)))],
    ])
    for (const [file, names] of named) expect(names.size, `${file} names metrics`).toBeGreaterThan(3)

    const server = await startTestServer()
    const exposed = await exposedNames(server.url)
    for (const name of WITH_REDIS_ONLY) expect(exposed.has(name), `no ${name} without REDIS_URL`).toBe(false)
    for (const [file, names] of named) {
      const missing = [...names].filter((n) => !WITH_REDIS_ONLY.has(n) && !exposed.has(n))
      expect(missing, `metrics ${file} names that /metrics does not expose`).toEqual([])
    }
    // the dashboard and the alerts both watch the fan-out: it is checked below, with Redis
    for (const name of WITH_REDIS_ONLY)
      expect(named.get(DASHBOARD)!.has(name) && named.get(ALERTS)!.has(name), name).toBe(true)
  })

  it(`${FANOUT_CONNECTED} and ${FANOUT_GAP} exist on a server with REDIS_URL`, async (ctx) => {
    if (!(await haveRedis())) return ctx.skip() // loud; fails under CI=true
    const server = await startTestServer({ redisUrl: REDIS_URL })
    // the gauge is registered at the fan-out's first connection report
    const deadline = Date.now() + 10_000
    let text = ''
    while (!text.includes(`\n${FANOUT_CONNECTED} 1\n`) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      text = await (await fetch(`${server.url}/metrics`)).text()
    }
    expect(text).toContain(`# TYPE ${FANOUT_CONNECTED} gauge`)
    expect(text).toContain(`\n${FANOUT_CONNECTED} 1\n`)
    expect(text).toContain(`\n${FANOUT_GAP} 0\n`) // in step
  })

  it('the dashboard parses, its panels have unique ids, a title, a description, a datasource and a query', () => {
    const d = dashboard()
    expect(d.schemaVersion).toBeGreaterThanOrEqual(38)
    const instance = d.templating.list.find((v) => v.name === 'instance')
    expect(JSON.stringify(instance?.query)).toContain('label_values(converge_connections, instance)')
    expect(d.templating.list.some((v) => v.type === 'datasource')).toBe(true)

    const panels = allPanels(d.panels)
    const ids = panels.map((p) => p.id)
    expect(ids.every((id) => typeof id === 'number')).toBe(true)
    expect(new Set(ids).size, 'unique panel ids').toBe(ids.length)
    expect(panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Consistency',
      'Sync',
      'Storage',
      'Refusals',
    ])
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.title, `panel ${p.id} title`).toBeTruthy()
      expect(
        p.description?.length ?? 0,
        `${p.title}: a description of what a bad value means`,
      ).toBeGreaterThan(40)
      expect(p.datasource, `${p.title}: datasource`).toBeTruthy()
      expect(p.targets?.length ?? 0, `${p.title}: targets`).toBeGreaterThan(0)
      for (const t of p.targets!) expect(t.expr, `${p.title}: every target has a query`).toMatch(/converge_/)
    }
  })
})

/** PROMTOOL, then `promtool` on PATH, then the copy scripts/test.sh extracts into .cache/. */
function findPromtool(): string | null {
  if (process.env.PROMTOOL) return process.env.PROMTOOL
  for (const candidate of ['promtool', join(ROOT, '.cache/promtool/usr/bin/promtool')])
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate
  return null
}

describe('deploy: promtool', () => {
  const promtool = findPromtool()
  let warned = false
  const runs: [string, string[]][] = [
    ['checks the rules', ['check', 'rules', ALERTS]],
    ["passes the rules' unit tests", ['test', 'rules', ALERT_TESTS]],
    ['checks the sample configuration', ['check', 'config', PROMETHEUS]],
  ]
  for (const [what, args] of runs) {
    it(`promtool ${what} (promtool ${args.join(' ')})`, (ctx) => {
      if (promtool === null) {
        const message = 'promtool not found (PROMTOOL, PATH, .cache/promtool/usr/bin/promtool)'
        if (process.env.CI === 'true') throw new Error(`${message} (CI=true: these tests must run)`)
        if (!warned)
          console.warn(
            `\n${'!'.repeat(100)}\n!!! ${message} — the alert rules' checks are SKIPPED.\n` +
              `!!! Get it: bash scripts/test.sh extracts it from Debian's prometheus package into .cache/promtool,\n` +
              `!!! or apt-get install prometheus, or set PROMTOOL=/path/to/promtool.\n${'!'.repeat(100)}\n`,
          )
        warned = true
        return ctx.skip()
      }
      const run = spawnSync(promtool, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
      expect(run.error).toBeUndefined()
      expect(run.status, `promtool ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`).toBe(0)
    })
  }
})
