/**
 * The servers under test, each started as its own process on 127.0.0.1 and a free port:
 * Converge (apps/server, SQLite, durable acks), the classic y-websocket 2 server (in memory, and with
 * LevelDB), Hocuspocus 4 (default, and with its SQLite extension); for Automerge spaces, automerge-repo 2's
 * sync server (its file system storage; not in SERVER_KINDS: it serves no Yjs document).
 */
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PEERS_DIR, REPO_DIR } from './paths.js'
import { freePort, start, stop, kill, waitForHttp } from './proc.js'

export type ServerKind =
  'converge' | 'yws' | 'yws-leveldb' | 'hocuspocus' | 'hocuspocus-sqlite' | 'automerge-repo'
/** The servers of the Yjs sections (fan-out, memory, join); `--servers=` picks among them. */
export const SERVER_KINDS: readonly ServerKind[] = [
  'converge',
  'yws',
  'yws-leveldb',
  'hocuspocus',
  'hocuspocus-sqlite',
]
/** The Automerge peer (section 8). */
export const AUTOMERGE_PEER = 'automerge-repo'

export const SERVER_LABEL: Record<ServerKind, string> = {
  converge: 'Converge (SQLite, durable acks)',
  yws: 'y-websocket 2 (memory)',
  'yws-leveldb': 'y-websocket 2 (LevelDB)',
  hocuspocus: 'Hocuspocus 4 (default)',
  'hocuspocus-sqlite': 'Hocuspocus 4 (SQLite)',
  'automerge-repo': 'automerge-repo 2 (file system)',
}

/** Whether the server keeps documents across a restart (so a cold join from storage exists). */
export const PERSISTENT: Record<ServerKind, boolean> = {
  converge: true,
  yws: false,
  'yws-leveldb': true,
  hocuspocus: false,
  'hocuspocus-sqlite': true,
  'automerge-repo': true,
}

/**
 * How a client frames messages: y-websocket (one document per socket), Hocuspocus (document name
 * first) or automerge-repo's own protocol (CBOR, through its client adapter).
 */
export type Flavour = 'yws' | 'hocuspocus' | 'automerge-repo'

export interface ServerOptions {
  /** how long an empty space stays loaded (Converge's IDLE_UNLOAD_MS); the peers unload at once */
  readonly idleUnloadMs?: number
  /** the built web app Converge serves (default: none) */
  readonly webDist?: string
}

export interface RunningServer {
  readonly kind: ServerKind
  readonly port: number
  /** where it keeps its data (its storage's size is measured here) */
  readonly dataDir: string
  readonly flavour: Flavour
  /** whether clients say hello and get durable acks (Converge only) */
  readonly acks: boolean
  readonly pid: number
  wsUrl(space: string): string
  /** Stops it gracefully (it commits what it holds), keeping its data. */
  stop(): Promise<void>
  /** Starts it again on the same port and data (a cold start). */
  restart(): Promise<void>
  /** Stops it and removes its data. */
  dispose(): Promise<void>
}

export async function startServer(
  kind: ServerKind,
  runDir: string,
  o: ServerOptions = {},
): Promise<RunningServer> {
  const port = await freePort()
  const dataDir = join(runDir, `data-${kind}-${port}`)
  mkdirSync(dataDir, { recursive: true })
  const logFile = join(runDir, `server-${kind}.log`)
  const launch = (): ChildProcess => {
    switch (kind) {
      case 'converge':
        // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the Converge server (for finding what bounds it)
        return start(
          process.execPath,
          [
            ...(process.env.BENCH_CPU_PROF
              ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
              : []),
            join(REPO_DIR, 'apps/server/dist/main.mjs'),
          ],
          {
            cwd: join(REPO_DIR, 'apps/server'),
            logFile,
            env: {
              PORT: String(port),
              HOST: '127.0.0.1',
              DATA_DIR: dataDir,
              AUTH: 'off',
              LOG_LEVEL: 'warn',
              WEB_DIST: o.webDist ?? join(dataDir, 'no-web-app'),
              IDLE_UNLOAD_MS: String(o.idleUnloadMs ?? 30_000),
              // every simulated client comes from 127.0.0.1: the per-address limits would count them as one
              MAX_CONNECTIONS_PER_IP: '0',
              CONNECTS_PER_MINUTE_PER_IP: '0',
              MAX_BYTES_PER_SECOND_PER_IP: '0',
              SPACES_PER_MINUTE_PER_IP: '0',
              // the ramp's ten writers each send past 1,000 keystrokes a second, over the per-connection
              // limit a person never reaches (500/s): the benchmark measures the server's capacity
              MAX_MESSAGES_PER_SECOND: '100000',
            },
          },
        )
      case 'yws':
      case 'yws-leveldb':
        return start(process.execPath, [join(PEERS_DIR, 'node_modules/y-websocket/bin/server.cjs')], {
          cwd: PEERS_DIR,
          logFile,
          env: {
            PORT: String(port),
            HOST: '127.0.0.1',
            ...(kind === 'yws-leveldb'
              ? { YPERSISTENCE: join(dataDir, 'leveldb') }
              : { YPERSISTENCE: undefined }),
          },
        })
      case 'hocuspocus':
      case 'hocuspocus-sqlite':
        return start(process.execPath, [join(PEERS_DIR, 'hocuspocus-server.mjs')], {
          cwd: PEERS_DIR,
          logFile,
          env: {
            PORT: String(port),
            SQLITE_FILE: kind === 'hocuspocus-sqlite' ? join(dataDir, 'hocuspocus.sqlite') : '',
          },
        })
      case 'automerge-repo':
        return start(process.execPath, [join(PEERS_DIR, 'automerge-repo-server.mjs')], {
          cwd: PEERS_DIR,
          logFile,
          env: { PORT: String(port), DATA_DIR: join(dataDir, 'repo') },
        })
    }
  }
  let child = launch()
  const ready = async (): Promise<void> => {
    const path = kind === 'converge' ? '/healthz' : '/'
    await waitForHttp(`http://127.0.0.1:${port}${path}`, 30_000, child)
  }
  await ready()
  const flavour: Flavour = kind.startsWith('hocuspocus')
    ? 'hocuspocus'
    : kind === 'automerge-repo'
      ? 'automerge-repo'
      : 'yws'
  const server: RunningServer = {
    kind,
    port,
    dataDir,
    flavour,
    acks: kind === 'converge',
    get pid() {
      return child.pid ?? -1
    },
    wsUrl: (space) =>
      kind === 'converge'
        ? `ws://127.0.0.1:${port}/sync/${space}`
        : flavour === 'yws'
          ? `ws://127.0.0.1:${port}/${space}`
          : `ws://127.0.0.1:${port}`,
    stop: () => stop(child, 10_000),
    restart: async () => {
      await stop(child, 10_000)
      child = launch()
      await ready()
    },
    dispose: async () => {
      await stop(child, process.env.BENCH_CPU_PROF ? 60_000 : 5000)
      await kill(child)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return server
}
