/**
 * 5. Engines: workloads after dmonad/crdt-benchmarks (B1, B2, B4; reimplemented) and a cart workload on
 * raw Yjs, raw Automerge and packages/merge on each engine. Each variant runs in its own process; cold
 * load is timed in further fresh processes.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config.js'
import { BENCH_DIR } from '../lib/paths.js'
import type { Results } from '../lib/results.js'
import { median } from '../lib/stats.js'
import type { Measured, Variant } from '../workers/engines.js'

const S = '5 engines'
const VARIANTS: readonly Variant[] = ['raw yjs', 'merge/yjs', 'raw automerge', 'merge/automerge']

function node(args: string[], timeoutMs: number): string {
  return execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(BENCH_DIR, 'src/workers/engines.ts'), ...args],
    {
      cwd: BENCH_DIR,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    },
  )
}

export async function runEngines(cfg: Config, results: Results): Promise<void> {
  const n = cfg.quick ? 1000 : 6000
  const b4 = cfg.quick ? 5000 : 40_000
  const reps = cfg.quick ? 2 : 5
  const dir = join(cfg.runDir, 'engines')
  mkdirSync(dir, { recursive: true })
  results.note(
    `engines: N = ${n}, B4 on the first ${b4.toLocaleString('en')} edits of automerge-paper (the whole trace exceeds the time budget on raw Automerge's one-change-per-keystroke path), median of ${reps} runs after one warm-up, each workload of each variant in its own process (--quick: each variant); cold load = median of ${reps} fresh processes${cfg.quick ? ' (--quick: smaller N, fewer runs)' : ''}. B3 with √N clients (B3.1 a shared value, B3.4 text inserts), where crdt-benchmarks uses 20·√N for its map writes`,
  )
  for (const v of VARIANTS) {
    console.log(`\n== engines: ${v}`)
    const args = [v, dir, String(n), String(b4), String(reps)]
    // full run: each workload in its own process (a long sequence once crashed V8's deoptimizer on
    // raw Automerge); --quick: one process per variant, its sequence is short
    const out = cfg.quick
      ? (JSON.parse(node(['run', ...args], 300_000)) as Measured[])
      : (JSON.parse(node(['list', ...args], 60_000)) as string[]).flatMap(
          (_, k) => JSON.parse(node(['run', ...args, String(k)], 300_000)) as Measured[],
        )
    const loads: number[][] = []
    for (let r = 0; r < reps; r++)
      loads.push(JSON.parse(node(['load', v, dir, String(n), String(b4), '1'], 120_000)) as number[])
    out.forEach((m, k) => {
      results.set(S, `${m.workload}: time`, 'ms', true, v, median(m.ms))
      results.set(S, `${m.workload}: update bytes`, 'KB', true, v, m.updateBytes / 1000)
      results.set(S, `${m.workload}: document size`, 'KB', true, v, m.docBytes / 1000)
      results.set(S, `${m.workload}: encode`, 'ms', true, v, m.encodeMs)
      results.set(
        S,
        `${m.workload}: cold load (fresh process)`,
        'ms',
        true,
        v,
        median(loads.map((l) => l[k]!)),
      )
      results.set(S, `${m.workload}: heap`, 'MB', true, v, m.heapMB)
    })
  }
  await Promise.resolve()
}
