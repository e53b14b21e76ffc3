/**
 * `pnpm bench [--quick] [--only=fanout,memory,join,idb,engines,firstvisit,listrender,automerge] [--servers=converge,yws,…]`: runs every
 * section, prints the table and writes BENCHMARKS.md at the repository root, its charts in bench/charts
 * and its figures in bench/results.json (`--merge`: over the other sections' figures there). `pnpm bench --report` writes BENCHMARKS.md and the charts again
 * from bench/results.json without measuring (after a change to the targets' texts or the report).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Config, SECTIONS, type SectionId } from './config.js'
import { BENCH_DIR, REPO_DIR } from './lib/paths.js'
import { ensurePeers } from './lib/peers.js'
import { installReaper } from './lib/proc.js'
import { Results, type SavedResults } from './lib/results.js'
import { SERVER_KINDS, type ServerKind } from './lib/servers.js'
import { type RunInfo, runInfo, writeReport } from './report.js'
import { runAutomerge } from './sections/automerge.js'
import { runEngines } from './sections/engines.js'
import { runFanout } from './sections/fanout.js'
import { runFirstVisit } from './sections/first-visit.js'
import { runIdb } from './sections/idb.js'
import { runJoin } from './sections/join.js'
import { runListRender } from './sections/list-render.js'
import { runMemory } from './sections/memory.js'

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)

const SAVED = join(BENCH_DIR, 'results.json')

async function main(): Promise<void> {
  if (process.argv.includes('--report')) {
    const saved = JSON.parse(readFileSync(SAVED, 'utf8')) as { info: RunInfo; results: SavedResults }
    console.log(`\nwrote ${writeReport(saved.info, Results.fromJSON(saved.results))} from ${SAVED}`)
    return
  }
  installReaper()
  const quick = process.argv.includes('--quick')
  const runDir = join(BENCH_DIR, '.runs', new Date().toISOString().replace(/[:.]/g, '-'))
  mkdirSync(runDir, { recursive: true })
  const sections = (arg('only')?.split(',') as SectionId[] | undefined) ?? SECTIONS
  const servers = (arg('servers')?.split(',') as ServerKind[] | undefined) ?? SERVER_KINDS
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}`)
  for (const s of servers) if (!SERVER_KINDS.includes(s)) throw new Error(`unknown server ${s}`)
  const cfg: Config = { quick, runDir, servers, sections }
  const started = Date.now()
  console.log(`converge bench${quick ? ' --quick' : ''}: sections ${sections.join(', ')}; logs in ${runDir}`)
  const peers = ensurePeers(runDir)
  // Converge as shipped: the bundle `pnpm start` runs (apps/server/build.ts)
  const built = spawnSync('pnpm', ['--filter', '@converge/server', 'build'], {
    cwd: REPO_DIR,
    stdio: 'inherit',
  })
  if (built.status !== 0) throw new Error('building apps/server failed')
  const results = new Results()
  const run: Record<SectionId, (c: Config, r: Results) => Promise<void>> = {
    fanout: runFanout,
    memory: runMemory,
    join: runJoin,
    idb: runIdb,
    engines: runEngines,
    firstvisit: runFirstVisit,
    listrender: runListRender,
    automerge: runAutomerge,
  }
  const failed: string[] = []
  for (const s of sections) {
    const t0 = Date.now()
    console.log(`\n=== section ${s}`)
    try {
      await run[s](cfg, results)
    } catch (e) {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e)
      console.error(`section ${s} failed: ${msg}`)
      failed.push(s)
      results.note(`section ${s} FAILED: ${e instanceof Error ? e.message : String(e)}`)
    }
    console.log(`=== section ${s}: ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  }
  const seconds = (Date.now() - started) / 1000
  let info = runInfo(cfg, peers, seconds)
  let report = results
  // --merge: keep the sections not measured now from bench/results.json (a part measured again)
  if (process.argv.includes('--merge')) {
    const saved = JSON.parse(readFileSync(SAVED, 'utf8')) as { info: RunInfo; results: SavedResults }
    report = results.over(
      Results.fromJSON(saved.results),
      `sections ${sections.join(', ')} measured on ${info.date} (--merge); the others on ${saved.info.date}, in a run of ${(saved.info.seconds / 60).toFixed(0)} min`,
    )
    info = {
      ...info,
      sections: [...new Set([...saved.info.sections, ...sections])],
      quick: saved.info.quick || quick,
    }
  }
  writeFileSync(SAVED, `${JSON.stringify({ info, results: report }, null, 1)}\n`)
  const file = writeReport(info, report)
  console.log(`\nwrote ${file} in ${seconds.toFixed(0)} s`)
  // logs stay for a failed section (or with --keep)
  if (!process.argv.includes('--keep') && failed.length === 0)
    rmSync(runDir, { recursive: true, force: true })
  else console.log(`logs kept in ${runDir}`)
  process.exit(failed.length ? 1 : 0)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
