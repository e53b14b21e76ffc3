/**
 * Version history over HTTP (PROTOCOL.md §P11; SPEC.md HISTORY-HTTP-1…3): the versions the server
 * keeps of a space (server-core HIST-n) listed, and one of them handed out whole, as an update of the
 * space's engine, for the app to preview read-only and restore as a new forward change through
 * packages/merge (RESTORE-1…6). The server never rewinds a space: a restore is a client's edit.
 */
import type { SpaceEngine, StoredVersion, VersionInfo } from '@converge/server-core'

/** A version as listed: when, how many changes it gathered, and whose. */
export type VersionView = Omit<VersionInfo, 'spaceId'>

/** A version whole: its state as an update of the space's engine (base64), and the engine. */
export interface VersionState extends VersionView {
  readonly engine: SpaceEngine
  readonly state: string
}

export interface HistoryDeps {
  readonly versions: (spaceId: string, limit?: number) => Promise<VersionInfo[]>
  readonly version: (spaceId: string, id: number) => Promise<StoredVersion | null>
  readonly spaceEngine: (spaceId: string) => Promise<SpaceEngine>
}

export interface History {
  list(spaceId: string): Promise<VersionView[]>
  /** null: no such version of this space. */
  get(spaceId: string, id: number): Promise<VersionState | null>
}

const viewOf = ({ spaceId: _s, ...rest }: VersionInfo): VersionView => rest

/**
 * A stored version as an update its engine's `applyUpdate` takes: a Yjs snapshot is one already; an
 * Automerge one is the saved document (server-core DOC-5), whose changes are listed as an update.
 */
async function asUpdate(engine: SpaceEngine, state: Uint8Array): Promise<Uint8Array> {
  if (engine !== 'automerge') return state
  const { isSavedDocument, savedChanges } = await import('@converge/merge/automerge')
  return isSavedDocument(state) ? savedChanges(state) : state
}

export function createHistory(deps: HistoryDeps): History {
  return {
    async list(spaceId) {
      return (await deps.versions(spaceId, 200)).map(viewOf)
    },
    async get(spaceId, id) {
      const v = await deps.version(spaceId, id)
      if (!v) return null
      const engine = await deps.spaceEngine(spaceId)
      const { state, ...info } = v
      const update = await asUpdate(engine, state)
      return { ...viewOf(info), engine, state: Buffer.from(update).toString('base64') }
    },
  }
}
