import {
  type Persistence,
  type SpaceEngine,
  type SpaceRegistry,
  StorageError,
  type StoredSpace,
} from '@converge/server-core'
import * as Y from 'yjs'

interface DiskSpace {
  snapshot: Uint8Array | null
  snapshotSeq: number
  updates: { seq: number; data: Uint8Array }[]
  lastSeq: number
}

/** An append a server instance asked for and the simulation has not committed (or failed) yet. */
interface InFlight {
  readonly spaceId: string
  readonly updates: readonly Uint8Array[]
  readonly resolve: (seq: number) => void
  readonly reject: (e: unknown) => void
}

/**
 * The storage every server instance shares (a PostgreSQL, as it were): what is *committed* here
 * survives any crash; what an instance is still appending (`inFlight`) is committed only when the
 * simulation says so, and is lost when that instance crashes.
 */
export class SimDisk {
  private readonly spaces = new Map<string, DiskSpace>()
  private readonly registered = new Set<string>()
  /** Bumped on every committed change, so a reader can cache what it derived. */
  version = 0

  /** Puts a space's first state straight into committed storage (a space created before the run). */
  seed(spaceId: string, update: Uint8Array): void {
    this.spaces.set(spaceId, {
      snapshot: null,
      snapshotSeq: 0,
      updates: [{ seq: 1, data: update }],
      lastSeq: 1,
    })
    this.version++
  }

  view(): SimStorage {
    return new SimStorage(this)
  }

  /** @internal */
  read(spaceId: string): StoredSpace {
    const s = this.spaces.get(spaceId)
    if (!s) return { snapshot: null, updates: [], lastSeq: 0, bytes: 0 }
    const updates = s.updates.map((u) => u.data.slice())
    const bytes = (s.snapshot?.length ?? 0) + updates.reduce((n, u) => n + u.length, 0)
    return { snapshot: s.snapshot?.slice() ?? null, updates, lastSeq: s.lastSeq, bytes }
  }

  /** @internal */
  commit(spaceId: string, updates: readonly Uint8Array[]): number {
    const s = this.spaces.get(spaceId) ?? { snapshot: null, snapshotSeq: 0, updates: [], lastSeq: 0 }
    for (const data of updates) s.updates.push({ seq: ++s.lastSeq, data: data.slice() })
    this.spaces.set(spaceId, s)
    this.version++
    return s.lastSeq
  }

  /** @internal */
  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): void {
    const s = this.spaces.get(spaceId) ?? { snapshot: null, snapshotSeq: 0, updates: [], lastSeq: 0 }
    if (!Number.isSafeInteger(throughSeq) || throughSeq < 0 || throughSeq > s.lastSeq)
      throw new RangeError(`throughSeq ${throughSeq} is not in 0..${s.lastSeq}`)
    if (s.snapshot !== null && throughSeq < s.snapshotSeq) return
    s.snapshot = snapshot.slice()
    s.snapshotSeq = throughSeq
    s.updates = s.updates.filter((u) => u.seq > throughSeq)
    this.spaces.set(spaceId, s)
    this.version++
  }

  /** @internal */
  register(spaceId: string, engine: SpaceEngine): boolean {
    if (this.registered.has(spaceId) || this.spaces.has(spaceId)) return false
    this.registered.add(spaceId)
    if (engine !== 'yjs') this.engines.set(spaceId, engine)
    return true
  }

  /** The engine of each space registered with one other than Yjs (the simulation's are all Yjs). */
  readonly engines = new Map<string, SpaceEngine>()

  /** The link generation of each space whose links were reset (the simulation never resets any). */
  private readonly generations = new Map<string, number>()

  /** @internal */
  linkGeneration(spaceId: string): number {
    return this.generations.get(spaceId) ?? 0
  }

  /** @internal */
  bumpLinkGeneration(spaceId: string): number {
    const next = this.linkGeneration(spaceId) + 1
    this.generations.set(spaceId, next)
    this.registered.add(spaceId)
    return next
  }

  /** The committed document of a space, as a fresh replica would load it. */
  document(spaceId: string): Y.Doc {
    const doc = new Y.Doc({ guid: 'disk' }) // not a random uuid (31 crypto calls) per look at the disk
    const s = this.read(spaceId)
    if (s.snapshot) Y.applyUpdate(doc, s.snapshot)
    for (const u of s.updates) Y.applyUpdate(doc, u)
    return doc
  }
}

/**
 * One server instance's connection to the shared disk. `append` waits for the simulation to
 * `commitNext` (or `failNext`) it; `crash` drops every append still in flight, as a killed process
 * loses the transactions it had not committed.
 */
export class SimStorage implements Persistence, SpaceRegistry {
  readonly shared = true
  private readonly inFlight: InFlight[] = []
  private crashed = false

  constructor(private readonly disk: SimDisk) {}

  get pending(): number {
    return this.inFlight.length
  }

  load(spaceId: string): Promise<StoredSpace> {
    if (this.crashed) return new Promise(() => {})
    return Promise.resolve(this.disk.read(spaceId))
  }

  append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    if (this.crashed) return new Promise(() => {})
    return new Promise((resolve, reject) => this.inFlight.push({ spaceId, updates, resolve, reject }))
  }

  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    if (this.crashed) return new Promise(() => {})
    try {
      this.disk.compact(spaceId, snapshot, throughSeq)
      return Promise.resolve()
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)))
    }
  }

  registerSpace(spaceId: string, engine: SpaceEngine = 'yjs'): Promise<boolean> {
    return Promise.resolve(this.disk.register(spaceId, engine))
  }

  spaceEngine(spaceId: string): Promise<SpaceEngine> {
    return Promise.resolve(this.disk.engines.get(spaceId) ?? 'yjs')
  }

  linkGeneration(spaceId: string): Promise<number> {
    return Promise.resolve(this.disk.linkGeneration(spaceId))
  }

  bumpLinkGeneration(spaceId: string): Promise<number> {
    return Promise.resolve(this.disk.bumpLinkGeneration(spaceId))
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  /** Commits the oldest append in flight; false when there is none. */
  commitNext(): boolean {
    const a = this.inFlight.shift()
    if (!a) return false
    a.resolve(this.disk.commit(a.spaceId, a.updates))
    return true
  }

  /** The oldest append in flight fails (a full disk, a lost database): nothing of it is committed. */
  failNext(): boolean {
    const a = this.inFlight.shift()
    if (!a) return false
    a.reject(new StorageError('simulated storage failure'))
    return true
  }

  /** The instance died: what it had not committed is gone, and it never hears back. */
  crash(): void {
    this.crashed = true
    this.inFlight.length = 0
  }
}
