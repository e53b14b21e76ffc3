/**
 * The peers live in bench/peers, a pnpm project of its own (not a workspace member, so the workspace's
 * `pnpm install --frozen-lockfile` never fetches them). The first `pnpm bench` installs them from their
 * committed lockfile; later runs reinstall only when that lockfile changes.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH_DIR, PEERS_DIR } from './paths.js'

export type Versions = Record<string, string>

const PEERS = [
  'y-websocket',
  'y-leveldb',
  '@hocuspocus/server',
  '@hocuspocus/extension-sqlite',
  'better-sqlite3',
  'y-indexeddb',
  'yjs',
  '@automerge/automerge-repo',
  '@automerge/automerge-repo-network-websocket',
  '@automerge/automerge-repo-storage-nodefs',
] as const

function version(fromDir: string, name: string): string {
  // resolve the package.json as the package's own dependents would (pnpm's layout)
  const candidates = [
    join(fromDir, 'node_modules', name, 'package.json'),
    // a dependency of a dependency: a sibling of its dependent in pnpm's virtual store
    join(realpathSync(join(PEERS_DIR, 'node_modules/y-websocket')), '..', name, 'package.json'),
  ]
  for (const c of candidates)
    if (existsSync(c)) return (JSON.parse(readFileSync(c, 'utf8')) as { version: string }).version
  return '?'
}

export function ensurePeers(runDir: string): Versions {
  const lock = readFileSync(join(PEERS_DIR, 'pnpm-lock.yaml'))
  const hash = createHash('sha256').update(lock).digest('hex')
  const stamp = join(PEERS_DIR, 'node_modules', '.bench-lock-hash')
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
    console.log('installing the peers in bench/peers (pnpm install --frozen-lockfile; once)')
    const r = spawnSync('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only'], {
      cwd: PEERS_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CI: 'true' },
      timeout: 600_000,
    })
    if (r.status !== 0)
      throw new Error(`installing the peers failed (exit ${r.status}); see the output above`)
    writeFileSync(stamp, hash)
  }
  void runDir
  const v: Versions = {}
  for (const p of PEERS) v[p] = version(PEERS_DIR, p)
  const own = (name: string): string => version(BENCH_DIR, name)
  v['yjs (Converge)'] = own('yjs')
  v['@automerge/automerge'] = own('@automerge/automerge')
  v['@playwright/test'] = own('@playwright/test')
  return v
}
