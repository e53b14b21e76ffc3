/**
 * 1. Fan-out: shapes (a) 1 space × 50 clients, (b) 1 space × 500 clients with 50 writers, (c) 500 spaces ×
 * 3 clients, (d) 20 spaces × 10 clients all typing at 5 Hz; sender → receiver latency on one clock, delivered updates/s, drops, server CPU per 1,000
 * delivered updates, peak RSS; then a ramp on shape (a) to the highest rate holding p99 < 50 ms with
 * nothing dropped. Clients live in two load-generator processes, never in the server's.
 */
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Config } from '../config.js'
import { BENCH_DIR } from '../lib/paths.js'
import { forkWorker, kill, peakSampler, sample, waitIdle } from '../lib/proc.js'
import type { Results } from '../lib/results.js'
import { LAG_SERIES, quantileMs, scrapeHistograms } from '../lib/server-lag.js'
import { SERVER_KINDS, type RunningServer, startServer } from '../lib/servers.js'
import { median, percentile, sortNumbers } from '../lib/stats.js'
import { insertedText, loadTrace } from '../lib/trace.js'
import type { ToAutomergeWorker } from '../workers/automerge-loadgen.js'
import type { ClientSpec, FromWorker, ToWorker } from '../workers/loadgen.js'

export interface Shape {
  readonly id: 'a' | 'b' | 'c' | 'd'
  readonly spaces: number
  readonly clientsPerSpace: number
  readonly writersPerSpace: number
  readonly ratePerWriter: number
  /** every n-th reader records receive times (all writers do) */
  readonly probeEvery: number
}

export const SHAPES: readonly Shape[] = [
  { id: 'a', spaces: 1, clientsPerSpace: 50, writersPerSpace: 10, ratePerWriter: 6, probeEvery: 1 },
  { id: 'b', spaces: 1, clientsPerSpace: 500, writersPerSpace: 50, ratePerWriter: 6, probeEvery: 10 },
  { id: 'c', spaces: 500, clientsPerSpace: 3, writersPerSpace: 1, ratePerWriter: 2, probeEvery: 1 },
  // the outside run's shape: 200 clients over 20 spaces, every one typing at 5 Hz
  { id: 'd', spaces: 20, clientsPerSpace: 10, writersPerSpace: 10, ratePerWriter: 5, probeEvery: 1 },
]

const WORKERS = 2

export interface Gen {
  readonly procs: ChildProcess[]
  readonly writerSpace: Map<number, string>
  readonly members: Map<string, number>
  call(m: ToWorker): Promise<FromWorker[]>
  close(): Promise<void>
}

/** Another load generator than workers/loadgen.ts (section 8's Automerge clients). */
export interface GenOptions {
  readonly worker: string
  /** the ids of the shape's spaces, in order (Converge space ids, automerge-repo document URLs) */
  readonly spaceIds: readonly string[]
  /** the setup message of load generator `i` for its clients */
  setup(clients: ClientSpec[], i: number, text: string): ToAutomergeWorker
}

function request(p: ChildProcess, m: ToWorker | ToAutomergeWorker, timeoutMs: number): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMsg = (r: FromWorker): void => {
      cleanup()
      if (r.t === 'error') reject(new Error(`load generator: ${r.message}`))
      else resolve(r)
    }
    const onExit = (code: number | null): void => {
      cleanup()
      reject(new Error(`load generator exited (${code})`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`load generator: no answer to ${m.t} within ${timeoutMs} ms`))
    }, timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      p.off('message', onMsg)
      p.off('exit', onExit)
    }
    p.on('message', onMsg)
    p.on('exit', onExit)
    p.send(m)
  })
}

export async function startGen(
  server: RunningServer,
  shape: Shape,
  runDir: string,
  tag: string,
  o?: GenOptions,
): Promise<Gen> {
  const text = insertedText(loadTrace())
  const specs: ClientSpec[][] = Array.from({ length: WORKERS }, () => [])
  const members = new Map<string, number>()
  let k = 0
  for (let s = 0; s < shape.spaces; s++) {
    const space = o?.spaceIds[s] ?? `fan-${tag}-${shape.id}-${s}`
    members.set(space, shape.clientsPerSpace)
    for (let c = 0; c < shape.clientsPerSpace; c++) {
      const writer = c < shape.writersPerSpace
      specs[k++ % WORKERS]!.push({
        url: server.wsUrl(server.flavour === 'automerge-repo' ? '' : space),
        space,
        writer,
        probe: writer || c % shape.probeEvery === 0,
      })
    }
  }
  const procs = specs.map((_, i) =>
    forkWorker(o?.worker ?? join(BENCH_DIR, 'src/workers/loadgen.ts'), [], {
      logFile: join(runDir, `loadgen-${i}.log`),
    }),
  )
  const writerSpace = new Map<number, string>()
  const gen: Gen = {
    procs,
    writerSpace,
    members,
    call: (m) => Promise.all(procs.map((p) => request(p, m, 180_000))),
    close: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null) return resolve()
              const t = setTimeout(() => void kill(p).then(resolve), 5000)
              p.once('exit', () => {
                clearTimeout(t)
                resolve()
              })
              p.send({ t: 'exit' } satisfies ToWorker)
            }),
        ),
      )
    },
  }
  try {
    const ready = await Promise.all(
      procs.map((p, i) =>
        request(
          p,
          o?.setup(specs[i]!, i, text) ??
            ({
              t: 'setup',
              flavour: server.flavour,
              hello: server.acks,
              clients: specs[i]!,
              text,
              seed: i + 1,
            } satisfies ToWorker),
          180_000,
        ),
      ),
    )
    for (const r of ready) if (r.t === 'ready') for (const w of r.writers) writerSpace.set(w.client, w.space)
  } catch (e) {
    await Promise.all(procs.map((p) => kill(p)))
    throw e
  }
  return gen
}

export interface RunStats {
  p50: number
  p99: number
  p999: number
  deliveredPerSec: number
  drops: number
  cpuPer1k: number
  peakRss: number
  ackP99: number
  sent: number
  /** the server's CPU over the run and its grace, in cores (CPU s per s) */
  serverCores: number
  /** the busiest load-generator process's CPU while it sent, in cores: at 1 it is its own bound */
  generatorCores: number
}

/** One send phase: warm-up, then `windows` windows; medians over the windows. */
export async function measure(
  server: RunningServer,
  gen: Gen,
  rate: number,
  warmMs: number,
  windowMs: number,
  windows: number,
  graceMs: number,
): Promise<RunStats> {
  await waitIdle(server.pid)
  const before = sample(server.pid)
  const peak = peakSampler(server.pid)
  const durationMs = warmMs + windowMs * windows
  const out = await gen.call({ t: 'run', ratePerWriter: rate, durationMs, graceMs })
  const after = sample(server.pid)
  const peakRss = peak.stop()
  const sendTime = new Map<number, number>()
  let expected = 0
  let start = Infinity
  let delivered = 0
  let closed = 0
  const ackLat: number[] = []
  for (const r of out) {
    if (r.t !== 'done') continue
    for (let i = 0; i < r.sends.length; i += 2) {
      const key = r.sends[i]!
      const t = r.sends[i + 1]!
      sendTime.set(key, t)
      start = Math.min(start, t)
      const space = gen.writerSpace.get(Math.floor(key / 2_097_152))
      expected += (gen.members.get(space ?? '') ?? 1) - 1
    }
    delivered += r.delivered
    closed += r.closed
    for (const a of r.acks) ackLat.push(a)
  }
  const perWindow: number[][] = Array.from({ length: windows }, () => [])
  const deliveredPerWindow = new Array<number>(windows).fill(0)
  for (const r of out) {
    if (r.t !== 'done') continue
    for (let i = 0; i < r.recvs.length; i += 2) {
      const s = sendTime.get(r.recvs[i]!)
      if (s === undefined) continue
      const w = Math.floor((s - start - warmMs) / windowMs)
      if (w < 0 || w >= windows) continue
      perWindow[w]!.push(r.recvs[i + 1]! - s)
    }
  }
  const pct = (p: number): number => median(perWindow.map((l) => percentile(sortNumbers(l), p)))
  for (let w = 0; w < windows; w++) deliveredPerWindow[w] = perWindow[w]!.length
  const drops = Math.max(0, expected - delivered) + 0 * closed
  const cpu = after.cpu - before.cpu
  return {
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    deliveredPerSec: delivered / ((durationMs + 0) / 1000),
    drops,
    cpuPer1k: delivered > 0 ? cpu / (delivered / 1000) : NaN,
    peakRss,
    ackP99: ackLat.length ? percentile(sortNumbers(ackLat), 99) : NaN,
    sent: sendTime.size,
    serverCores: cpu / ((durationMs + graceMs) / 1000),
    generatorCores: Math.max(...out.map((r) => (r.t === 'done' ? r.cores : 0))),
  }
}

export async function runFanout(cfg: Config, results: Results): Promise<void> {
  const S = '1 fan-out'
  const t = cfg.quick
    ? { warm: 500, win: 1000, windows: 2, grace: 500, rampWin: 500, rampFactor: 4 }
    : { warm: 1500, win: 1500, windows: 5, grace: 1000, rampWin: 1500, rampFactor: 1.5 }
  results.note(
    `fan-out: ${t.windows} windows of ${t.win / 1000} s after a ${t.warm / 1000} s warm-up per shape (median of the windows' percentiles); drops counted after a ${t.grace / 1000} s grace`,
  )
  // --quick: the in-memory configurations only (the persistent ones are measured by the full run)
  const servers = cfg.quick
    ? cfg.servers.filter((k) => k === 'converge' || k === 'yws' || k === 'hocuspocus')
    : cfg.servers
  if (cfg.quick)
    results.note(
      'fan-out --quick: Converge, the classic server and Hocuspocus in memory only; shapes (b) and (c) scaled down to 200 clients (20 writers) and 100 spaces',
    )
  if (servers.includes('converge'))
    results.note(
      "fan-out: the rows 'server: …' are Converge's own lag histograms (/metrics, server-core LAG-1…3) over the measured windows, warm-up included — no peer has them; one instance, so no fan-out lag between instances (that one is in apps/server/test/scale.test.ts's three-instance runs and on the dashboard)",
    )
  for (const kind of servers) {
    console.log(`\n== fan-out: ${kind}`)
    const server = await startServer(kind, cfg.runDir)
    try {
      // profiling knobs (bench/README.md): BENCH_SHAPES=a,c (or none) and BENCH_RAMP=0
      const only = process.env.BENCH_SHAPES?.split(',')
      for (const full of only ? SHAPES.filter((x) => only.includes(x.id)) : SHAPES) {
        const shape: Shape = !cfg.quick
          ? full
          : full.id === 'b'
            ? { ...full, clientsPerSpace: 200, writersPerSpace: 20 }
            : full.id === 'c'
              ? { ...full, spaces: 100 }
              : full
        const gen = await startGen(server, shape, cfg.runDir, `${kind}`)
        try {
          // issue 19: the server's own lag histograms around the measurement (Converge only)
          const lagBefore = server.acks ? await scrapeHistograms(server.port) : null
          const r = await measure(server, gen, shape.ratePerWriter, t.warm, t.win, t.windows, t.grace)
          const m = `(${shape.id})`
          if (lagBefore) {
            const lagAfter = await scrapeHistograms(server.port)
            for (const [series, words] of LAG_SERIES)
              for (const [q, label] of [
                [0.5, 'p50'],
                [0.99, 'p99'],
              ] as const) {
                const v = quantileMs(lagBefore.get(series), lagAfter.get(series), q)
                if (v !== undefined) results.set(S, `${m} ${words} ${label}`, 'ms', true, kind, v)
              }
          }
          results.set(S, `${m} latency p50`, 'ms', true, kind, r.p50)
          results.set(S, `${m} latency p99`, 'ms', true, kind, r.p99)
          results.set(S, `${m} latency p99.9`, 'ms', true, kind, r.p999)
          results.set(S, `${m} delivered updates/s`, '/s', false, kind, r.deliveredPerSec)
          results.set(S, `${m} drops`, 'updates', true, kind, r.drops)
          results.set(S, `${m} server CPU per 1,000 delivered`, 'CPU s', true, kind, r.cpuPer1k)
          results.set(S, `${m} server peak RSS`, 'MB', true, kind, r.peakRss / 1e6)
          if (server.acks) results.set(S, `${m} keystroke → durable ack p99`, 'ms', true, kind, r.ackP99)
        } finally {
          await gen.close()
        }
      }
      if (process.env.BENCH_RAMP === '0') continue
      // ramp on shape (a): the highest offered rate with p99 < 50 ms and no drop
      const shape = SHAPES[0]!
      const gen = await startGen(server, shape, cfg.runDir, `${kind}-ramp`)
      try {
        let best = 0
        let atBest: RunStats | null = null
        await measure(server, gen, 6, 1000, t.rampWin, 1, 500) // warm-up: fresh load generators are JIT-cold
        let lastFail: RunStats | null = null
        for (let rate = Number(process.env.BENCH_RAMP_FROM ?? 6); rate <= 4000; rate *= t.rampFactor) {
          const total = rate * shape.writersPerSpace
          // a step that fails is measured once more, and fails only if both do: one stall in a
          // single window (a GC, a checkpoint) does not end the ramp — for every server alike
          let r: RunStats | null = null
          let failed: RunStats | null = null
          let ok = false
          for (let attempt = 0; attempt < 2 && !ok; attempt++) {
            r = await measure(server, gen, rate, 500, t.rampWin, 1, Math.min(t.grace, 1000))
            ok = r.p99 < 50 && r.drops === 0
            // of two failures, the busier one: a server that shed its clients in the first is idle in the second
            if (!ok && (!failed || r.serverCores > failed.serverCores)) failed = r
            console.log(
              `  ramp ${kind}: ${total.toFixed(0)} updates/s in → p99 ${r.p99.toFixed(1)} ms, drops ${r.drops}, CPU: server ${r.serverCores.toFixed(2)} cores, busiest load generator ${r.generatorCores.toFixed(2)} ${ok ? 'ok' : 'FAIL'}`,
            )
          }
          const shown = ok ? r! : failed!
          results.point(RAMP_CURVE, kind, { x: total, y: shown.p99, ok })
          if (!ok) {
            lastFail = failed
            break
          }
          best = total
          atBest = r
        }
        results.set(S, 'ramp: highest rate, p99 < 50 ms, no drop (a)', 'updates/s in', false, kind, best)
        // the generator's own limit: what it used at that rate, of the machine's cores (issue: is it the bound?)
        if (lastFail)
          results.set(
            S,
            'ramp: server CPU at the first rate that failed',
            'cores',
            true,
            kind,
            lastFail.serverCores,
          )
        if (atBest) {
          results.set(S, 'ramp: server CPU at the highest rate', 'cores', true, kind, atBest.serverCores)
          results.set(
            S,
            'ramp: CPU of the busiest load generator at the highest rate (1 = its limit)',
            'cores',
            true,
            kind,
            atBest.generatorCores,
          )
        }
      } finally {
        await gen.close()
      }
    } finally {
      await server.dispose()
    }
  }
}

export const ALL_SERVERS = SERVER_KINDS

/** The ramp's curve in Results.series: offered updates/s → p99 ms, per server. */
export const RAMP_CURVE = 'ramp (a)'
