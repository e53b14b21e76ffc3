import {
  StorageError,
  type Persistence,
  type SpaceEngine,
  type SpaceRegistry,
  type StoredSpace,
} from './ports.js'

interface MemorySpace {
  snapshot: Uint8Array | null
  /** Position of the last update the snapshot covers (0 before the first compaction). */
  snapshotSeq: number
  updates: { seq: number; data: Uint8Array }[]
  lastSeq: number
}

/** The backing store of MemoryPersistence; share one between instances to "reopen" the same storage. */
export type MemoryStore = Map<string, MemorySpace> & {
  readonly registered: Set<string>
  /** The engine of each space registered with one other than 'yjs'. */
  readonly engines: Map<string, SpaceEngine>
  /** The link generation of each space whose links were reset (absent: 0). */
  readonly generations: Map<string, number>
}

export function createMemoryStore(): MemoryStore {
  return Object.assign(new Map<string, MemorySpace>(), {
    registered: new Set<string>(),
    engines: new Map<string, SpaceEngine>(),
    generations: new Map<string, number>(),
  })
}

/**
 * The in-memory reference Persistence and SpaceRegistry, for unit tests only: nothing survives the
 * process (share a `MemoryStore` to "reopen"). Stores copies of what it is given and hands out
 * copies, so callers cannot alias stored bytes.
 */
export class MemoryPersistence implements Persistence, SpaceRegistry {
  readonly store: MemoryStore
  private closed = false

  constructor(store: MemoryStore = createMemoryStore()) {
    this.store = store
  }

  registerSpace(spaceId: string, engine: SpaceEngine = 'yjs'): Promise<boolean> {
    return this.run('registerSpace', spaceId, () => {
      if (this.store.registered.has(spaceId) || this.store.has(spaceId)) return false
      this.store.registered.add(spaceId)
      if (engine !== 'yjs') this.store.engines.set(spaceId, engine)
      return true
    })
  }

  spaceEngine(spaceId: string): Promise<SpaceEngine> {
    return this.run('spaceEngine', spaceId, () => this.store.engines.get(spaceId) ?? 'yjs')
  }

  linkGeneration(spaceId: string): Promise<number> {
    return this.run('linkGeneration', spaceId, () => this.store.generations.get(spaceId) ?? 0)
  }

  bumpLinkGeneration(spaceId: string): Promise<number> {
    return this.run('bumpLinkGeneration', spaceId, () => {
      const next = (this.store.generations.get(spaceId) ?? 0) + 1
      this.store.generations.set(spaceId, next)
      this.store.registered.add(spaceId) // a space whose links exist is taken
      return next
    })
  }

  load(spaceId: string): Promise<StoredSpace> {
    return this.run('load', spaceId, () => {
      const space = this.store.get(spaceId)
      if (!space) return { snapshot: null, updates: [], lastSeq: 0, bytes: 0 }
      const snapshot = space.snapshot ? space.snapshot.slice() : null
      const updates = space.updates.map((u) => u.data.slice())
      const bytes = (snapshot?.byteLength ?? 0) + updates.reduce((sum, u) => sum + u.byteLength, 0)
      return { snapshot, updates, lastSeq: space.lastSeq, bytes }
    })
  }

  append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    return this.run('append', spaceId, () => {
      const existing = this.store.get(spaceId)
      if (updates.length === 0) return existing?.lastSeq ?? 0
      const space = existing ?? emptySpace()
      for (const data of updates) {
        space.lastSeq += 1
        space.updates.push({ seq: space.lastSeq, data: data.slice() })
      }
      this.store.set(spaceId, space)
      return space.lastSeq
    })
  }

  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    return this.run('compact', spaceId, () => {
      const space = this.store.get(spaceId) ?? emptySpace()
      if (!Number.isSafeInteger(throughSeq) || throughSeq < 0 || throughSeq > space.lastSeq) {
        throw new RangeError(
          `compact of space "${spaceId}": throughSeq ${throughSeq} is not in 0..${space.lastSeq}`,
        )
      }
      // A compaction older than the stored snapshot would replace newer state with older: ignore it.
      if (space.snapshot !== null && throughSeq < space.snapshotSeq) return
      space.snapshot = snapshot.slice()
      space.snapshotSeq = throughSeq
      space.updates = space.updates.filter((u) => u.seq > throughSeq)
      this.store.set(spaceId, space)
    })
  }

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }

  /** Runs `fn` as an operation: a rejected promise (never a synchronous throw) on failure. */
  private run<T>(operation: string, spaceId: string, fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (this.closed) {
        throw new StorageError(`memory persistence: ${operation} of space "${spaceId}" after close`)
      }
      resolve(fn())
    })
  }
}

function emptySpace(): MemorySpace {
  return { snapshot: null, snapshotSeq: 0, updates: [], lastSeq: 0 }
}
