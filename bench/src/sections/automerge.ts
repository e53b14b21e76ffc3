/**
 * 8. Automerge spaces: the same measurements for a space on Automerge as for one on Yjs, on the same
 * Converge server, beside automerge-repo 2's sync server (the peer for Automerge, bench/peers):
 *
 * - fan-out, shapes (a) 1 space × 50 clients and (d) 20 spaces × 10 clients all typing (section 1's
 *   shapes, its measurement and its load generators; `workers/automerge-loadgen.ts` for Automerge);
 * - join: a fresh client joins a space holding the same cart history and note on each engine, warm
 *   (the space is loaded) and cold (the server was restarted), time to holding the whole document and
 *   bytes on the wire;
 * - storage: what the server keeps on disk for that space, after a graceful stop.
 *
 * Subjects: `converge-yjs` (a Yjs space), `converge-automerge` (an Automerge space), `automerge-repo`.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import * as A from '@automerge/automerge'
import { type EngineKind, type Space, createSpace, loadEngine, openSpace } from '@converge/merge'
import { decodeList, encodeList } from '@converge/merge/validate'
import { ackCovers } from '@converge/sync-client'
import * as Y from 'yjs'
import type { Config } from '../config.js'
import { loadRepo, type RepoModules } from '../lib/automerge-repo.js'
import { cached } from '../lib/docs.js'
import { BENCH_DIR } from '../lib/paths.js'
import { sleep, waitIdle } from '../lib/proc.js'
import type { Results } from '../lib/results.js'
import { type RunningServer, startServer } from '../lib/servers.js'
import { median } from '../lib/stats.js'
import { insertedText, loadTrace } from '../lib/trace.js'
import { SyncClient } from '../lib/wire.js'
import type { ToAutomergeWorker } from '../workers/automerge-loadgen.js'
import { type Gen, type GenOptions, SHAPES, type Shape, measure, startGen } from './fanout.js'
import { covers } from './join.js'

export const AUTOMERGE_SECTION = '8 Automerge spaces'
const S = AUTOMERGE_SECTION
export const AUTOMERGE_SUBJECTS = ['converge-yjs', 'converge-automerge', 'automerge-repo'] as const
type Subject = (typeof AUTOMERGE_SUBJECTS)[number]
export const AUTOMERGE_LABEL: Record<Subject, string> = {
  'converge-yjs': 'Converge, Yjs space',
  'converge-automerge': 'Converge, Automerge space',
  'automerge-repo': 'automerge-repo 2 (file system)',
}

const NOTE = 'bench'
const WORKER = join(BENCH_DIR, 'src/workers/automerge-loadgen.ts')

/**
 * Creates a Converge Automerge space (POST /api/spaces) holding the note the writers type into, or
 * `seed`'s state uploaded change by change (so the server's log and compactions are a typed space's).
 */
async function convergeAutomergeSpace(server: RunningServer, id: string, seed?: Space): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/spaces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, engine: 'automerge' }),
  })
  if (res.status !== 201) throw new Error(`POST /api/spaces ${id}: ${res.status} ${await res.text()}`)
  const space = seed ?? createSpace({ engine: 'automerge', spaceId: id, name: 'Bench' })
  if (!seed) space.createNote({ id: NOTE, title: 'Bench' })
  await upload(server, space, !!seed)
  if (!seed) space.destroy()
}

/**
 * Sends `space`'s whole state — one update, or (`pieces`) one update per change, as the space was
 * typed — and waits for the durable ack that covers it (the sync client's own check).
 */
async function upload(server: RunningServer, space: Space, pieces = false): Promise<void> {
  const id = space.id
  const engine = space.engineKind
  const state = space.encodeStateAsUpdate()
  let done!: () => void
  const acked = new Promise<void>((resolve) => (done = resolve))
  const c = new SyncClient({
    url: server.wsUrl(id),
    space: id,
    flavour: 'yws',
    hello: true,
    engine,
    onAck: (v) => {
      if (ackCovers(space, v)) done()
    },
  })
  await c.synced
  if (!pieces) c.sendUpdate(state)
  else
    for (const [i, change] of decodeList(state, 'update').entries()) {
      c.sendUpdate(encodeList([change]))
      if (i % 100 === 99) await sleep(5) // under the per-connection byte rate (4 MB/s)
    }
  const ok = await Promise.race([acked.then(() => true), sleep(60_000).then(() => false)])
  await c.close()
  if (!ok) throw new Error(`${id}: no durable ack covering the upload within 60 s`)
}

/** Waits until a fresh Repo finds `url` on the server: then the server holds it. */
async function repoHolds(R: RepoModules, server: RunningServer, url: string): Promise<void> {
  const until = Date.now() + 30_000
  for (;;) {
    const repo = new R.Repo({ network: [new R.WebSocketClientAdapter(server.wsUrl(''), 200)] })
    try {
      await repo.find(url)
      return
    } catch (e) {
      if (Date.now() > until) throw new Error(`automerge-repo: ${url} not found on the server`, { cause: e })
    } finally {
      await repo.shutdown()
    }
    await sleep(200)
  }
}

/** Documents for a shape on automerge-repo: created by one client, held by the server. */
async function repoDocs(R: RepoModules, server: RunningServer, n: number): Promise<string[]> {
  const repo = new R.Repo({ network: [new R.WebSocketClientAdapter(server.wsUrl(''), 200)] })
  const urls = Array.from({ length: n }, () => repo.create({ text: '' }).url)
  try {
    for (const url of urls) await repoHolds(R, server, url)
  } finally {
    await repo.shutdown()
  }
  return urls
}

async function fanout(
  cfg: Config,
  results: Results,
  subject: Subject,
  server: RunningServer,
  R: RepoModules | null,
): Promise<void> {
  const t = cfg.quick
    ? { warm: 500, win: 1000, windows: 2, grace: 500 }
    : { warm: 1500, win: 1500, windows: 5, grace: 1000 }
  const only = process.env.BENCH_SHAPES?.split(',') // as in section 1
  for (const full of SHAPES.filter((s) => (s.id === 'a' || s.id === 'd') && (!only || only.includes(s.id)))) {
    const shape: Shape = cfg.quick && full.id === 'd' ? { ...full, spaces: 5 } : full
    let o: GenOptions | undefined
    if (subject !== 'converge-yjs') {
      const spaceIds =
        subject === 'automerge-repo'
          ? await repoDocs(R!, server, shape.spaces)
          : Array.from({ length: shape.spaces }, (_, s) => `am-fan-${shape.id}-${s}`)
      if (subject === 'converge-automerge')
        for (const id of spaceIds) await convergeAutomergeSpace(server, id)
      o = {
        worker: WORKER,
        spaceIds,
        setup: (clients, i, text): ToAutomergeWorker => ({
          t: 'setup',
          mode: subject === 'automerge-repo' ? 'repo' : 'converge',
          clients,
          noteId: NOTE,
          text,
          seed: i + 1,
        }),
      }
    }
    const gen: Gen = await startGen(server, shape, cfg.runDir, `am-${subject}`, o)
    try {
      const r = await measure(server, gen, shape.ratePerWriter, t.warm, t.win, t.windows, t.grace)
      const m = `fan-out (${shape.id})`
      results.set(S, `${m} latency p50`, 'ms', true, subject, r.p50)
      results.set(S, `${m} latency p99`, 'ms', true, subject, r.p99)
      results.set(S, `${m} delivered updates/s`, '/s', false, subject, r.deliveredPerSec)
      results.set(S, `${m} drops`, 'updates', true, subject, r.drops)
      results.set(S, `${m} server CPU per 1,000 delivered`, 'CPU s', true, subject, r.cpuPer1k)
      results.set(S, `${m} server peak RSS`, 'MB', true, subject, r.peakRss / 1e6)
      results.set(S, `${m} busiest load generator`, 'cores', true, subject, r.generatorCores)
      if (subject !== 'automerge-repo')
        results.set(S, `${m} keystroke → durable ack p99`, 'ms', true, subject, r.ackP99)
    } finally {
      await gen.close()
    }
  }
}

/* ---- the join document: the same cart history and note on both engines ---- */

const JOIN_SPACE = 'am-join-space'
const CART_UPDATES = 2_000

/** The join space's state on `engine` (cached): cart updates, then the trace's first characters typed into a note one keystroke at a time. */
function joinState(engine: EngineKind, keystrokes: number): Uint8Array {
  return cached(`am-join-${engine}-${keystrokes}-v1`, () => {
    let seed = 7
    const random = (): number => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return (seed >>> 0) / 2 ** 32
    }
    const space = createSpace({ engine, spaceId: JOIN_SPACE, name: 'Big shop', random })
    let updates = 0
    space.onUpdate(() => updates++)
    const names = Array.from({ length: 100 }, (_, i) => `item ${i}`)
    for (let i = 0; updates < CART_UPDATES; i++) {
      const name = names[i % names.length]!
      const it = space.item(name)
      if (!it) space.addItem(name)
      else if (i % 7 === 0) space.removeItem(it.key)
      else if (i % 5 === 0) space.check(it.key, 'bench')
      else space.increment(it.key)
    }
    space.createNote({ id: NOTE, title: 'Paper' })
    const text = insertedText(loadTrace()).slice(0, keystrokes)
    for (let i = 0; i < text.length; i++) space.editNote(NOTE, i, 0, text[i]!)
    const state = space.encodeStateAsUpdate()
    space.destroy()
    return state
  })
}

interface Joined {
  ms: number
  bytes: number
  ok: boolean
}

/** Bytes both ways on a ws socket's TCP connection (automerge-repo's adapter hides its frames). */
const tcpBytes = (ws: unknown): number => {
  const s = (ws as { _socket?: { bytesRead: number; bytesWritten: number } })._socket
  return s ? s.bytesRead + s.bytesWritten : NaN
}

const headsKey = (heads: readonly string[]): string => [...heads].sort().join(',')

/** A join of a Converge space; `target`: the heads (Automerge) or the state vector (Yjs) of the whole space. */
async function joinConverge(
  server: RunningServer,
  engine: EngineKind,
  target: string | Map<number, number>,
): Promise<Joined> {
  const t0 = performance.now()
  let done!: () => void
  const complete = new Promise<void>((resolve) => (done = resolve))
  // the joiner holds the raw library's document, as section 3's does
  let amDoc = A.init()
  const yDoc = new Y.Doc()
  const c = new SyncClient({
    url: server.wsUrl(JOIN_SPACE),
    space: JOIN_SPACE,
    flavour: 'yws',
    hello: true,
    engine,
    onUpdate: (u) => {
      if (engine === 'automerge') {
        amDoc = A.applyChanges(amDoc, decodeList(u, 'update'))[0]
        if (headsKey(A.getHeads(amDoc)) === target) done()
      } else {
        Y.applyUpdate(yDoc, u)
        if (typeof target !== 'string' && covers(yDoc, target)) done()
      }
    },
  })
  await c.synced
  const ok = await Promise.race([complete.then(() => true), sleep(60_000).then(() => false)])
  const ms = performance.now() - t0
  const bytes = c.bytesIn + c.bytesOut
  await c.close()
  yDoc.destroy()
  return { ms, bytes, ok }
}

async function joinRepo(R: RepoModules, server: RunningServer, url: string, target: string): Promise<Joined> {
  const t0 = performance.now()
  const adapter = new R.WebSocketClientAdapter(server.wsUrl(''), 1000)
  const repo = new R.Repo({ network: [adapter] })
  try {
    const handle = await repo.find(url)
    const whole = (): boolean => headsKey(R.A.getHeads(handle.doc())) === target
    if (!whole())
      await Promise.race([
        new Promise<void>((resolve) => handle.on('change', () => whole() && resolve())),
        sleep(60_000),
      ])
    return { ms: performance.now() - t0, bytes: tcpBytes(adapter.socket), ok: whole() }
  } finally {
    await repo.shutdown()
  }
}

/** Bytes of every file under `dir`. */
function du(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    n += e.isDirectory() ? du(p) : statSync(p).size
  }
  return n
}

async function joinAndStorage(
  cfg: Config,
  results: Results,
  subject: Subject,
  server: RunningServer,
  R: RepoModules | null,
): Promise<void> {
  // 5,000 keystrokes in both modes: uploaded one change at a time, 20,000 took the server over a minute
  // (each keystroke's apply is linear in the note on Automerge 3.5: section 5's B6, ENGINE_BOUND)
  const keystrokes = 5_000
  const engine: EngineKind = subject === 'converge-yjs' ? 'yjs' : 'automerge'
  const state = joinState(engine, keystrokes)
  const reps = cfg.quick ? 2 : 5
  let join: () => Promise<Joined>
  if (subject === 'automerge-repo') {
    const doc = R!.A.applyChanges(R!.A.init(), decodeList(state, 'update'))[0]
    const target = headsKey(R!.A.getHeads(doc))
    const holder = new R!.Repo({ network: [new R!.WebSocketClientAdapter(server.wsUrl(''), 200)] })
    const url = holder.import(R!.A.save(doc)).url
    await repoHolds(R!, server, url)
    await holder.shutdown()
    join = () => joinRepo(R!, server, url, target)
  } else {
    let target: string | Map<number, number>
    if (engine === 'automerge') {
      const doc = A.applyChanges(A.init(), decodeList(state, 'update'))[0]
      target = headsKey(A.getHeads(doc))
      const space = openSpace({ engine, spaceId: JOIN_SPACE, state })
      await convergeAutomergeSpace(server, JOIN_SPACE, space)
      space.destroy()
    } else {
      target = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(state))
      const space = openSpace({ engine, spaceId: JOIN_SPACE, state })
      await upload(server, space)
      space.destroy()
    }
    join = () => joinConverge(server, engine, target)
  }
  results.set(S, 'join: document', 'KB', true, subject, state.length / 1000)
  await waitIdle(server.pid)
  // warm: a holder keeps the space loaded on Converge; automerge-repo keeps every document it served
  const holder =
    subject === 'automerge-repo'
      ? null
      : new SyncClient({
          url: server.wsUrl(JOIN_SPACE),
          space: JOIN_SPACE,
          flavour: 'yws',
          hello: true,
          engine,
        })
  await holder?.synced
  await join()
  const warm: Joined[] = []
  for (let i = 0; i < reps; i++) warm.push(await join())
  await holder?.close()
  if (warm.some((w) => !w.ok))
    results.note(`automerge ${subject}: a warm join did not hold the whole document`)
  results.set(S, 'join warm: time to synced', 'ms', true, subject, median(warm.map((w) => w.ms)))
  results.set(S, 'join warm: bytes on the wire', 'KB', true, subject, median(warm.map((w) => w.bytes)) / 1000)
  await sleep(1000) // the space unloads once its last client left
  if (subject !== 'automerge-repo') {
    // what the server stores for the space (snapshot + log), as it counts it: its `limits` message
    const probe = new SyncClient({
      url: server.wsUrl(JOIN_SPACE),
      space: JOIN_SPACE,
      flavour: 'yws',
      hello: true,
      engine,
      helloVersion: 4,
    })
    await probe.synced
    results.set(
      S,
      'storage: bytes stored (snapshot + log)',
      'KB',
      true,
      subject,
      (probe.storedBytes ?? NaN) / 1000,
    )
    await probe.close()
    await sleep(1000)
  }
  await server.stop()
  // files: SQLite keeps the pages a compaction freed (it reuses them), automerge-repo its files
  const files = du(server.dataDir) / 1000
  results.set(S, 'storage: bytes on disk (every file, after a graceful stop)', 'KB', true, subject, files)
  if (subject === 'automerge-repo')
    results.set(S, 'storage: bytes stored (snapshot + log)', 'KB', true, subject, files)
  const cold: Joined[] = []
  for (let i = 0; i < reps; i++) {
    await server.restart()
    await waitIdle(server.pid)
    cold.push(await join())
  }
  if (cold.some((w) => !w.ok))
    results.note(`automerge ${subject}: a cold join did not hold the whole document`)
  results.set(
    S,
    'join cold (from storage): time to synced',
    'ms',
    true,
    subject,
    median(cold.map((w) => w.ms)),
  )
  results.set(S, 'join cold: bytes on the wire', 'KB', true, subject, median(cold.map((w) => w.bytes)) / 1000)
}

/**
 * What bounds Converge's figures on an Automerge space, as profiled (kept beside the section so that
 * BENCHMARKS.md carries it; measured again when the server's Automerge path changes).
 */
const AUTOMERGE_BOUND =
  'what bounds Converge on an Automerge space (a V8 CPU profile of the server through shape (d), 1,000 keystrokes/s into 20 spaces: the main thread busy 69% of the time, against about 30% for a Yjs space): Automerge applying each change (its wasm applyChanges, 29% of the busy time — Automerge 3.5 applies a change in time that grows with the document and with its concurrent branches), then updating the JavaScript view of the document it returns (progressDocument → applyAndReturnPatches, 11%), which the server never reads but Automerge’s JavaScript API always builds; packages/merge checking each change before any is applied (BAD-1…7: decoding it and checking its operations against the domain, 13%); and the socket writes, as on Yjs. Near saturation each turn waits for the one before, which is the latency and durable-ack tail of shape (d). What would remove it: applying through Automerge’s low-level handle without materialising the document, and checking and applying in one decode. automerge-repo pays Automerge’s apply too, and its sync protocol sends at most every 100 ms per document and peer (DocSynchronizer’s throttle), which is its latency floor. On storage and joins: Converge sends a joiner the list of changes (each checked before any is applied), about 140 bytes a change here, where automerge-repo sends the compressed saved document; both store the saved document (server-core DOC-5), and a cold join on Converge replays every change of it'

export async function runAutomerge(cfg: Config, results: Results): Promise<void> {
  await loadEngine('automerge')
  const R = await loadRepo()
  results.note(AUTOMERGE_BOUND)
  results.note(
    `automerge: fan-out shapes (a) and (d) as in section 1${cfg.quick ? ' ((d) with 5 spaces in --quick)' : ''}; join and storage: a space holding ${CART_UPDATES} cart updates and a note of 5,000 keystrokes (the automerge-paper trace's first characters), the same on both engines; automerge-repo holds the Automerge document of that space`,
  )
  // BENCH_SUBJECTS=converge-automerge (a profiling knob, bench/README.md): only those subjects
  const only = process.env.BENCH_SUBJECTS?.split(',')
  for (const subject of AUTOMERGE_SUBJECTS.filter((s) => !only || only.includes(s))) {
    console.log(`\n== automerge: ${subject}`)
    const kind = subject === 'automerge-repo' ? 'automerge-repo' : 'converge'
    const server = await startServer(kind, cfg.runDir, { idleUnloadMs: 500 })
    try {
      await fanout(cfg, results, subject, server, R)
    } finally {
      await server.dispose()
    }
    if (process.env.BENCH_JOIN === '0') continue
    const fresh = await startServer(kind, cfg.runDir, { idleUnloadMs: 500 })
    try {
      await joinAndStorage(cfg, results, subject, fresh, R)
    } finally {
      await fresh.dispose()
    }
  }
}
