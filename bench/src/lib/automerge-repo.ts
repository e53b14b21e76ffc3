/**
 * automerge-repo 2 (the Automerge peer), loaded from bench/peers — not a workspace dependency — with
 * its WebSocket client adapter and the Automerge instance it uses itself (a document of one wasm
 * instance cannot be read by another's functions). Typed here as far as the bench uses it.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as A from '@automerge/automerge'
import { PEERS_DIR } from './paths.js'

export interface RepoDoc {
  text: string
}
export interface RepoHandle {
  readonly url: string
  doc(): RepoDoc
  change(fn: (d: RepoDoc) => void): void
  on(event: 'change', fn: (p: { doc: RepoDoc }) => void): void
}
export interface RepoInstance {
  find(url: string): Promise<RepoHandle>
  create(initial: RepoDoc): RepoHandle
  import(binary: Uint8Array): RepoHandle
  shutdown(): Promise<void>
}
export interface RepoModules {
  Repo: new (o: { network: unknown[] }) => RepoInstance
  WebSocketClientAdapter: new (url: string, retryMs?: number) => { socket?: unknown }
  A: typeof A
}

/** automerge-repo, its WebSocket client adapter and the Automerge they use — one instance of each. */
export async function loadRepo(): Promise<RepoModules> {
  const entry = (dir: string, pick: (exports: Record<string, unknown>) => unknown): string => {
    const real = realpathSync(dir)
    const pkg = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as {
      exports?: Record<string, unknown>
      main: string
    }
    return pathToFileURL(join(real, pkg.exports ? (pick(pkg.exports) as string) : pkg.main)).href
  }
  const repoDir = join(PEERS_DIR, 'node_modules/@automerge/automerge-repo')
  // automerge-repo's own Automerge: its sibling in pnpm's store, through the entry Node would pick
  const amDir = join(realpathSync(repoDir), '../automerge')
  type Cond = Record<string, Record<string, string>>
  const [repo, net, am] = await Promise.all([
    import(entry(repoDir, (e) => e['.'])) as Promise<{ Repo: RepoModules['Repo'] }>,
    import(
      entry(join(PEERS_DIR, 'node_modules/@automerge/automerge-repo-network-websocket'), (e) => e['.'])
    ) as Promise<{ WebSocketClientAdapter: RepoModules['WebSocketClientAdapter'] }>,
    import(entry(amDir, (e) => (e['.'] as Cond).node!.import)) as Promise<typeof A>,
  ])
  return { Repo: repo.Repo, WebSocketClientAdapter: net.WebSocketClientAdapter, A: am }
}
