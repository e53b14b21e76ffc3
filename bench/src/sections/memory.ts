/**
 * 2. Memory: the server's RSS with 1,000 small spaces open (a ~1 KB cart each, one client each), with 20
 * large spaces (the whole automerge-paper trace each), and after every client has left and the spaces
 * were unloaded. Clients run in this (the orchestrator's) process, never in the server's.
 */
import type { Config } from '../config.js'
import { cached, paperDoc, smallCart } from '../lib/docs.js'
import { sample, sleep, waitIdle } from '../lib/proc.js'
import type { Results } from '../lib/results.js'
import { type RunningServer, startServer } from '../lib/servers.js'
import { SyncClient, openAll } from '../lib/wire.js'
import * as Y from 'yjs'

const S = '2 memory'

async function openSpaces(
  server: RunningServer,
  prefix: string,
  n: number,
  update: (i: number) => Uint8Array,
): Promise<SyncClient[]> {
  const clients = await openAll(
    (i) =>
      new SyncClient({
        url: server.wsUrl(`${prefix}-${i}`),
        space: `${prefix}-${i}`,
        flavour: server.flavour,
        hello: server.acks,
      }),
    n,
    50,
  )
  clients.forEach((c, i) => c.sendUpdate(update(i)))
  await sleep(500)
  await waitIdle(server.pid, 30_000)
  return clients
}

async function leave(server: RunningServer, clients: SyncClient[], unloadMs: number): Promise<void> {
  await Promise.all(clients.map((c) => c.close()))
  await sleep(unloadMs)
  await waitIdle(server.pid, 30_000)
}

export async function runMemory(cfg: Config, results: Results): Promise<void> {
  const small = cfg.quick ? 200 : 1000
  const large = cfg.quick ? 3 : 20
  const carts = Array.from({ length: small }, (_, i) => smallCart(`small-${i}`)) // each cart names its own space (BAD-3)
  const paper = cached('paper-v1', () => Y.encodeStateAsUpdate(paperDoc()))
  results.note(
    `memory: ${small} small spaces of ${carts[0]!.length} bytes (a cart through packages/merge), ${large} large spaces of ${paper.length} bytes (automerge-paper as Yjs); Converge unloads an empty space after IDLE_UNLOAD_MS=1000 here (30000 by default), the peers at once${cfg.quick ? ' (--quick: fewer spaces; Converge, the classic server and Hocuspocus in memory only)' : ''}`,
  )
  const mb = (b: number): number => b / 1e6
  const servers = cfg.quick
    ? cfg.servers.filter((k) => k === 'converge' || k === 'yws' || k === 'hocuspocus')
    : cfg.servers
  for (const kind of servers) {
    console.log(`\n== memory: ${kind}`)
    const server = await startServer(kind, cfg.runDir, { idleUnloadMs: 1000 })
    try {
      await waitIdle(server.pid)
      results.set(S, 'RSS at start', 'MB', true, kind, mb(sample(server.pid).rss))
      let clients = await openSpaces(server, 'small', small, (i) => carts[i]!)
      results.set(S, `RSS, ${small} small spaces open`, 'MB', true, kind, mb(sample(server.pid).rss))
      await leave(server, clients, 2500)
      results.set(
        S,
        `RSS after the ${small} small spaces' clients left`,
        'MB',
        true,
        kind,
        mb(sample(server.pid).rss),
      )
      clients = await openSpaces(server, 'large', large, () => paper)
      results.set(S, `RSS, ${large} large spaces open`, 'MB', true, kind, mb(sample(server.pid).rss))
      await leave(server, clients, 2500)
      results.set(S, 'RSS after all clients left', 'MB', true, kind, mb(sample(server.pid).rss))
    } finally {
      await server.dispose()
    }
  }
}
