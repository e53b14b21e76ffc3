/**
 * 3. Join: a fresh client joins a space holding the whole automerge-paper trace and 20,000 cart updates:
 * time from opening the socket to holding the whole document (its syncStep2 applied to a new Y.Doc), and
 * bytes on the wire both ways. Warm: the space is loaded (another client holds it open). Cold: the server
 * was restarted and loads the space from storage (servers without storage: not applicable).
 */
import * as Y from 'yjs'
import type { Config } from '../config.js'
import { cachedJoinDoc } from '../lib/docs.js'
import { sleep, waitIdle } from '../lib/proc.js'
import type { Results } from '../lib/results.js'
import { PERSISTENT, type RunningServer, startServer } from '../lib/servers.js'
import { median } from '../lib/stats.js'
import { SyncClient } from '../lib/wire.js'

const S = '3 join'
const SPACE = 'join-space'

/** Whether the document has everything `target` (a decoded state vector) has. */
export const covers = (doc: Y.Doc, target: Map<number, number>): boolean => {
  const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const [client, clock] of target) if ((sv.get(client) ?? 0) < clock) return false
  return true
}

/**
 * Joins and waits until the new client holds the whole document (its state vector is the seed's): the
 * classic server with LevelDB answers syncStep1 before it has loaded the space and sends the rest later.
 */
async function join(
  server: RunningServer,
  target: Map<number, number>,
): Promise<{ ms: number; bytes: number; ok: boolean }> {
  const doc = new Y.Doc()
  const t0 = performance.now()
  let done!: () => void
  const complete = new Promise<void>((resolve) => (done = resolve))
  const c = new SyncClient({
    url: server.wsUrl(SPACE),
    space: SPACE,
    flavour: server.flavour,
    hello: server.acks,
    onUpdate: (u) => {
      Y.applyUpdate(doc, u)
      if (covers(doc, target)) done()
    },
  })
  await c.synced
  const ok = await Promise.race([complete.then(() => true), sleep(30_000).then(() => false)])
  const ms = performance.now() - t0
  const bytes = c.bytesIn + c.bytesOut
  await c.close()
  doc.destroy()
  return { ms, bytes, ok }
}

/** A writer typing a character every 20 ms in the space; returns how to stop it. */
function typist(server: RunningServer): () => Promise<void> {
  const doc = new Y.Doc()
  const text = doc.getText('body:typist')
  const c = new SyncClient({
    url: server.wsUrl(SPACE),
    space: SPACE,
    flavour: server.flavour,
    hello: server.acks,
  })
  let running = true
  const loop = (async () => {
    await c.synced
    while (running) {
      const before = Y.encodeStateVector(doc)
      text.insert(text.length, 'k')
      c.sendUpdate(Y.encodeStateAsUpdate(doc, before))
      await sleep(20)
    }
  })()
  return async () => {
    running = false
    await loop
    await c.close()
  }
}

export async function runJoin(cfg: Config, results: Results): Promise<void> {
  const full = cachedJoinDoc()
  const target = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(full))
  const reps = cfg.quick ? 2 : 5
  results.note(
    `join: the document is ${full.length} bytes as one Yjs update (automerge-paper + 20,000 cart updates); median of ${reps} joins after one warm-up; cold = server restarted before each join`,
  )
  for (const kind of cfg.servers) {
    console.log(`\n== join: ${kind}`)
    const server = await startServer(kind, cfg.runDir, { idleUnloadMs: 500 })
    try {
      // seed: one client uploads the document, then stays to keep the space loaded (warm)
      const holder = new SyncClient({
        url: server.wsUrl(SPACE),
        space: SPACE,
        flavour: server.flavour,
        hello: server.acks,
      })
      await holder.synced
      holder.sendUpdate(full)
      await sleep(300)
      await waitIdle(server.pid)
      const warm: { ms: number; bytes: number; ok: boolean }[] = []
      await join(server, target)
      for (let i = 0; i < reps; i++) warm.push(await join(server, target))
      if (warm.some((w) => !w.ok))
        results.note(`join ${kind}: a warm join did not receive the whole document`)
      results.set(S, 'warm: time to synced', 'ms', true, kind, median(warm.map((w) => w.ms)))
      results.set(S, 'warm: bytes on the wire', 'KB', true, kind, median(warm.map((w) => w.bytes)) / 1000)
      // the same joins while someone types in the space: Converge answers a joiner once what it holds
      // is committed (server-core COMMIT-5), so a join waits for the commit in flight; the peers do not
      const busy: { ms: number; bytes: number; ok: boolean }[] = []
      const stopTyping = typist(server)
      try {
        await sleep(200)
        for (let i = 0; i < reps; i++) busy.push(await join(server, target))
      } finally {
        await stopTyping()
      }
      results.set(S, 'warm, someone typing: time to synced', 'ms', true, kind, median(busy.map((w) => w.ms)))
      await holder.close()
      if (!PERSISTENT[kind]) {
        results.set(S, 'cold (from storage): time to synced', 'ms', true, kind, NaN)
        continue
      }
      await sleep(1000) // the space unloads (and Hocuspocus stores it) once its last client left
      await waitIdle(server.pid)
      const cold: { ms: number; bytes: number; ok: boolean }[] = []
      for (let i = 0; i < reps; i++) {
        await server.restart()
        await waitIdle(server.pid)
        cold.push(await join(server, target))
      }
      if (cold.some((w) => !w.ok)) {
        results.note(`join ${kind}: a cold join did not receive the whole document (not stored?)`)
        results.set(S, 'cold (from storage): time to synced', 'ms', true, kind, NaN)
        continue
      }
      results.set(S, 'cold (from storage): time to synced', 'ms', true, kind, median(cold.map((w) => w.ms)))
      results.set(S, 'cold: bytes on the wire', 'KB', true, kind, median(cold.map((w) => w.bytes)) / 1000)
    } finally {
      await server.dispose()
    }
  }
}
