import { type SpaceHistory, StorageError, type StoredVersion, type VersionInfo } from './ports.js'

/** The backing store of MemoryHistory; share one between instances to "reopen" it. */
export interface MemoryHistoryStore {
  /** The last id given (ids are global and never reused, as an autoincrement's). */
  lastId: number
  readonly versions: Map<number, StoredVersion>
}

export function createMemoryHistoryStore(): MemoryHistoryStore {
  return { lastId: 0, versions: new Map() }
}

/**
 * The in-memory reference SpaceHistory (HISTORY-n), for unit tests and the simulation: nothing
 * survives the process (share a `MemoryHistoryStore` to "reopen"). Each method runs in one
 * synchronous step. Stores copies of what it is given and hands out copies, so callers cannot alias
 * stored bytes or names.
 */
export class MemoryHistory implements SpaceHistory {
  readonly store: MemoryHistoryStore
  private closed = false

  constructor(store: MemoryHistoryStore = createMemoryHistoryStore()) {
    this.store = store
  }

  saveVersion(
    spaceId: string,
    v: {
      readonly at: number
      readonly changes: number
      readonly authors: readonly string[]
      readonly state: Uint8Array
    },
  ): Promise<number> {
    return this.run('saveVersion', spaceId, () => {
      checkVersion(spaceId, v)
      const id = ++this.store.lastId
      this.store.versions.set(id, {
        id,
        spaceId,
        at: v.at,
        changes: v.changes,
        authors: [...v.authors],
        bytes: v.state.byteLength,
        state: new Uint8Array(v.state), // a copy (a Buffer's slice() would share its memory)
      })
      return id
    })
  }

  versions(spaceId: string, options?: { readonly limit?: number }): Promise<VersionInfo[]> {
    return this.run('versions', spaceId, () => {
      const limit = checkLimit(spaceId, options?.limit)
      return [...this.store.versions.values()]
        .filter((v) => v.spaceId === spaceId)
        .sort((a, b) => b.at - a.at || b.id - a.id)
        .slice(0, limit)
        .map(infoOf)
    })
  }

  version(spaceId: string, id: number): Promise<StoredVersion | null> {
    return this.run('version', spaceId, () => {
      const v = this.store.versions.get(id)
      return v && v.spaceId === spaceId ? { ...infoOf(v), state: new Uint8Array(v.state) } : null
    })
  }

  deleteVersions(spaceId: string, ids: readonly number[]): Promise<number> {
    return this.run('deleteVersions', spaceId, () => {
      let deleted = 0
      for (const id of ids) {
        const v = this.store.versions.get(id)
        if (v && v.spaceId === spaceId && this.store.versions.delete(id)) deleted++
      }
      return deleted
    })
  }

  /** Releases nothing but refuses every call after it (StorageError), as a closed database would. */
  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }

  /** Runs `fn` as an operation: a rejected promise (never a synchronous throw) on failure. */
  private run<T>(operation: string, spaceId: string, fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (this.closed)
        throw new StorageError(`memory history: ${operation} of space "${spaceId}" after close`)
      resolve(fn())
    })
  }
}

/** HISTORY-6: `at` a whole number, `changes` a whole number ≥ 0; else RangeError. */
function checkVersion(spaceId: string, v: { readonly at: number; readonly changes: number }): void {
  if (!Number.isSafeInteger(v.at))
    throw new RangeError(`saveVersion of space "${spaceId}": at ${v.at} is not a whole number`)
  if (!Number.isSafeInteger(v.changes) || v.changes < 0)
    throw new RangeError(`saveVersion of space "${spaceId}": changes ${v.changes} is not a whole number ≥ 0`)
}

/** The default and the check of `versions`' limit: a whole number ≥ 0, else RangeError. */
function checkLimit(spaceId: string, limit: number | undefined): number {
  if (limit === undefined) return 100
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`versions of space "${spaceId}": limit ${limit} is not a whole number ≥ 0`)
  return limit
}

/** Exactly the fields of a VersionInfo (no state), names copied. */
function infoOf(v: VersionInfo): VersionInfo {
  return {
    id: v.id,
    spaceId: v.spaceId,
    at: v.at,
    changes: v.changes,
    authors: [...v.authors],
    bytes: v.bytes,
  }
}
