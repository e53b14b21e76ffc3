/**
 * SyncCore: the sync server without a transport (SPEC.md CORE-1…CORE-13). Hand it sockets
 * (`connect`) and their frames; it authenticates, loads spaces lazily (once however many sockets
 * ask), validates and bounds every input, relays, commits before acknowledging, and unloads idle
 * spaces. Everything it needs from outside comes in through `SyncCoreOptions` (the ports).
 */
import { ErrorKind } from '@converge/protocol'
import {
  type Authenticate,
  type CloseKind,
  Connection,
  type ConnectionHandle,
  type ConnectionInfo,
  type SocketLike,
} from './connection.js'
import type { CoreEvents } from './events.js'
import { type HistoryOptions, type HistorySettings, historySettings } from './history.js'
import { type Limits, defaultLimits } from './limits.js'
import { openDocument } from './document.js'
import { MemoryFanOutHub } from './memory-fanout.js'
import { MemoryBudget, MemoryBudgetExceeded } from './memory.js'
import {
  type Clock,
  type FanOut,
  type Logger,
  type Persistence,
  type Scheduler,
  type SpaceEngine,
  type StorageQuota,
  type StoredVersion,
  type VersionInfo,
  silentLogger,
  systemClock,
  systemScheduler,
  unlimitedStorage,
} from './ports.js'
import { sameVector } from './probe.js'
import { Room, linkRevokedFrame } from './room.js'

/** READ-1: a space as `SyncCore.read` found it. */
export interface SpaceRead {
  readonly engine: SpaceEngine
  /** The whole document, as an update of its engine. */
  readonly state: Uint8Array
  /** The version vector of everything committed, encoded as durable acks carry it. */
  readonly version: Uint8Array
  /** Whether everything committed covers the `after` asked for (true without one). */
  readonly covered: boolean
  /**
   * WRITE-3: whether `state` holds only what is committed — exactly `version`, nothing in flight —
   * so a server change decided from `state` was decided from the committed version.
   */
  readonly settled: boolean
  /**
   * WRITE-3: with `ifMatch`, whether the committed version is exactly that version vector (compared
   * as vectors, not bytes); true without one.
   */
  readonly matches: boolean
}

/** READ-2: an `after` version that does not decode as a version vector of the space's engine. */
export class MalformedVersion extends Error {
  override readonly name = 'MalformedVersion'
}

export interface SyncCoreOptions {
  readonly persistence: Persistence
  readonly authenticate: Authenticate
  /**
   * The other instances of this server. Without one the core makes a private in-memory fan-out with
   * nobody on the other end: one instance runs the same code as many.
   */
  readonly fanOut?: FanOut
  readonly limits?: Partial<Limits>
  /** Reading the time (default `systemClock`). */
  readonly clock?: Clock
  /** Acting later: end-of-turn work and timers (default `systemScheduler`). */
  readonly scheduler?: Scheduler
  readonly logger?: Logger
  readonly events?: CoreEvents
  /** QUOTA-1: the instance-wide storage quota and free disk space (default: unlimited). */
  readonly storageQuota?: StorageQuota
  /**
   * PROTOCOL.md §P7.3: the transport's own bound on a client's incoming bytes (apps/server: the
   * per-address budget), told to clients in `limits` with the core's so that they pace to the lower.
   */
  readonly clientRate?: { readonly bytesPerSecond: number; readonly burstBytes: number }
  /**
   * REG-10: the engine a space was created with (apps/server: the space registry). A throw fails the
   * load like a storage read (4503). Default: every space is a Yjs space.
   */
  readonly spaceEngine?: (spaceId: string) => Promise<SpaceEngine>
  /**
   * HIST-1…8: keep versions of each space in `store` — one after each burst of activity (quiet for
   * `quietMs`, default 60 s), at least every `maxIntervalMs` (default 10 min) while changes go on,
   * and when a space unloads or the core shuts down; thinned by `policy` (history.ts). Without it
   * no versions are kept.
   */
  readonly history?: HistoryOptions
}

export class SyncCore {
  readonly limits: Limits
  readonly clock: Clock
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly events: CoreEvents
  readonly authenticate: Authenticate
  readonly storageQuota: StorageQuota
  readonly clientRate: { readonly bytesPerSecond: number; readonly burstBytes: number } | undefined
  private readonly persistence: Persistence
  /** HIST-n: where versions go, and when; null when no history is kept. */
  private readonly history: HistorySettings | null
  private readonly fanOut: FanOut
  /** Each space's room, once made (`room` is null while its engine is read and its document opened). */
  private readonly rooms = new Map<string, { room: Room | null; ready: Promise<Room> }>()
  private readonly spaceEngine: (spaceId: string) => Promise<SpaceEngine>
  private readonly connections = new Set<Connection>()
  private closing = false
  /** MEM-3: the estimated heap of every loaded space. */
  readonly memory: MemoryBudget

  constructor(options: SyncCoreOptions) {
    this.limits = { ...defaultLimits, ...options.limits }
    this.clock = options.clock ?? systemClock
    this.scheduler = options.scheduler ?? systemScheduler
    this.logger = options.logger ?? silentLogger
    this.events = options.events ?? {}
    this.authenticate = options.authenticate
    this.storageQuota = options.storageQuota ?? unlimitedStorage
    this.clientRate = options.clientRate
    this.persistence = options.persistence
    this.history = options.history ? historySettings(options.history) : null
    this.fanOut = options.fanOut ?? new MemoryFanOutHub(this.scheduler).instance()
    this.memory = new MemoryBudget(this.limits.memoryBudgetBytes)
    this.spaceEngine = options.spaceEngine ?? (() => Promise.resolve('yjs'))
  }

  /** The loaded room of a space, if it is loaded (for tests and tools). */
  loadedRoom(spaceId: string): Room | undefined {
    const r = this.rooms.get(spaceId)?.room
    return r && !r.closed ? r : undefined
  }

  /**
   * MEM-3: reserves `estimate` for a space about to be loaded. When it does not fit, spaces nobody is
   * in are unloaded first (they would be after IDLE_UNLOAD anyway); if it still does not fit, the
   * load is refused and its sockets are closed with 1013 (retry later).
   */
  private async admitLoad(spaceId: string, estimate: number): Promise<void> {
    if (!this.memory.fits(estimate)) {
      for (const { room } of [...this.rooms.values()]) {
        if (this.memory.fits(estimate)) break
        if (room && room.spaceId !== spaceId && room.idle) await room.unload()
      }
    }
    if (!this.memory.fits(estimate)) {
      this.logger.warn(
        { spaceId, estimate, used: this.memory.used, budget: this.memory.limit },
        'not loading the space: the memory budget is spent',
      )
      throw new MemoryBudgetExceeded('the server is short of memory; try again later')
    }
    this.memory.set(spaceId, estimate)
  }

  get connectionCount(): number {
    return this.connections.size
  }

  get loadedSpaces(): number {
    return this.rooms.size
  }

  /** Takes a new socket for `spaceId`; nothing of the space is sent before the token is accepted. */
  connect(socket: SocketLike, spaceId: string, token: string | null): ConnectionHandle {
    const conn = new Connection(this, socket, spaceId)
    if (this.closing) {
      conn.close(ErrorKind.ShuttingDown, 'the server is shutting down')
      return conn
    }
    if (this.connections.size >= this.limits.maxConnections) {
      conn.close(ErrorKind.ServerFull, 'too many connections')
      return conn
    }
    this.connections.add(conn)
    this.events.connectionOpened?.()
    // CONN-4: without a token in the URL, the first frame may bring it
    if (token === null) conn.awaitToken()
    else void conn.start(token)
    return conn
  }

  /** @internal */
  forget(conn: Connection): void {
    if (this.connections.delete(conn)) this.events.connectionClosed?.()
  }

  /**
   * READ-1…READ-3: what a space holds now, for a reader over HTTP — the whole document as an update
   * of its engine, and `version`, the version vector of everything committed (what durable acks
   * carry). With `after` (a version vector, as durable acks and `version` carry it), first waits
   * until everything committed covers it, at most `waitMs`; `covered` says whether it did. Loads the
   * space like a socket does and lets it unload as usual when nobody is in it. Throws
   * `MalformedVersion` for an `after` that does not decode, and whatever loading throws.
   */
  async read(
    spaceId: string,
    o: {
      readonly after?: Uint8Array
      readonly waitMs?: number
      readonly settle?: boolean
      readonly ifMatch?: Uint8Array
    } = {},
  ): Promise<SpaceRead> {
    const room = await this.room(spaceId)
    try {
      const decode = (bytes: Uint8Array): Map<string | number, number> => {
        try {
          return room.document.decodeVector(bytes)
        } catch (e) {
          throw new MalformedVersion(e instanceof Error ? e.message : String(e))
        }
      }
      const match = o.ifMatch ? decode(o.ifMatch) : null
      // WRITE-3: what is in flight is committed first, so the read is of a committed state
      if (o.settle) await room.whenCommitted()
      let covered = true
      if (o.after) {
        covered = await room.whenCovers(decode(o.after), o.waitMs ?? 0)
      }
      if (room.closed) throw new Error('the space was unloaded while it was read')
      return {
        engine: room.engine,
        state: room.document.diff(),
        version: room.committed,
        covered,
        settled: room.settled,
        matches: match === null || sameVector(match, decode(room.committed)),
      }
    } finally {
      room.releaseIfUnused()
    }
  }

  /**
   * WRITE-1, WRITE-2: commits a change the server itself made (an update of the space's engine,
   * made through packages/merge — e.g. a finished trip's removal, origin `server:trip`). It is
   * validated as a client's update is, stored before it touches the document (nothing of it is
   * relayed or held by anyone before it is durable), then applied, relayed to the members and the
   * other instances, and acknowledged. Resolves with the committed version after it, or null when
   * the storage failed it (the space's sockets are then closed with 4503, as after any failed
   * commit). Throws MergeError for an update that does not validate, and whatever loading throws.
   */
  async write(spaceId: string, update: Uint8Array, origin: string): Promise<Uint8Array | null> {
    const room = await this.room(spaceId)
    try {
      return await room.commitServerChange(update, origin)
    } finally {
      room.releaseIfUnused()
    }
  }

  /**
   * HIST-8: the space's saved versions, newest first, at most `limit` (default 100) — read from the
   * history store, without loading the space; [] when no history is kept. Throws what the store
   * throws (StorageError; RangeError for a limit that is not a whole number ≥ 0).
   */
  async versions(spaceId: string, limit?: number): Promise<VersionInfo[]> {
    if (!this.history) return []
    return this.history.store.versions(spaceId, limit === undefined ? {} : { limit })
  }

  /**
   * HIST-8: one saved version of the space with its state (the document as storage keeps it, DOC-5),
   * or null — for an id the space has no version under, or when no history is kept. Read from the
   * history store, without loading the space.
   */
  async version(spaceId: string, id: number): Promise<StoredVersion | null> {
    if (!this.history) return null
    return this.history.store.version(spaceId, id)
  }

  /** @internal The loaded room of a space, loading it once however many sockets ask at once. */
  room(spaceId: string): Promise<Room> {
    const existing = this.rooms.get(spaceId)
    if (existing && !existing.room?.closed) return existing.ready
    const entry: { room: Room | null; ready: Promise<Room> } = { room: null, ready: Promise.resolve(null!) }
    entry.ready = this.openRoom(spaceId, entry)
    this.rooms.set(spaceId, entry)
    return entry.ready
  }

  /** Reads the space's engine, opens its document, makes the room and loads it. */
  private async openRoom(spaceId: string, entry: { room: Room | null }): Promise<Room> {
    let document
    try {
      document = await openDocument(await this.spaceEngine(spaceId), spaceId)
    } catch (e) {
      if (this.rooms.get(spaceId) === entry) this.rooms.delete(spaceId)
      this.events.loadFailed?.(spaceId)
      this.logger.error(
        { spaceId, err: e instanceof Error ? e.message : String(e) },
        'loading the space failed: its engine could not be read',
      )
      throw e
    }
    const room = new Room(spaceId, document, {
      persistence: this.persistence,
      fanOut: this.fanOut,
      clock: this.clock,
      scheduler: this.scheduler,
      logger: this.logger,
      limits: this.limits,
      events: this.events,
      history: this.history,
      onUnload: () => {
        if (this.rooms.get(spaceId) === entry) {
          this.rooms.delete(spaceId)
          this.memory.release(spaceId)
        }
      },
      memory: {
        admitLoad: (id, estimate) => this.admitLoad(id, estimate),
        fits: (extra) => this.memory.fits(extra),
        set: (id, estimate) => this.memory.set(id, estimate),
      },
      onFailure: (r) => {
        for (const c of [...this.connections])
          if (c.spaceId === spaceId) c.close(ErrorKind.StorageUnavailable, 'storage failed')
        r.destroy()
      },
    })
    entry.room = room
    try {
      await room.load()
    } catch (e) {
      if (!(e instanceof MemoryBudgetExceeded)) {
        this.events.loadFailed?.(spaceId)
        this.logger.error(
          { spaceId, err: e instanceof Error ? e.message : String(e) },
          'loading the space failed',
        )
      }
      room.destroy()
      throw e
    }
    return room
  }

  /**
   * Closes this instance's connections of `spaceId` that `which` picks — in any state, also those
   * still authenticating or waiting for the space to load — with the code CLOSE_RULES gives `kind`,
   * after an `error` of that kind to a hello'd client. Returns how many it closed.
   */
  closeConnections(
    spaceId: string,
    which: (connection: ConnectionInfo) => boolean,
    kind: CloseKind,
    reason: string,
  ): number {
    let closed = 0
    for (const c of [...this.connections])
      if (c.spaceId === spaceId && which(c)) {
        c.close(kind, reason)
        closed++
      }
    return closed
  }

  /**
   * REVOKE-1: the space's links below `generation` were reset (PROTOCOL.md §P5.10). Closes this
   * instance's connections of an older generation with LinkRevoked (4410) — one still being
   * authenticated as soon as its decision names an older one — and tells the other instances over
   * the fan-out, where each closes its own. The room, if loaded, remembers the generation
   * (REVOKE-2, REVOKE-3). Returns how many connections it closed here.
   */
  revokeLinks(spaceId: string, generation: number): number {
    if (!Number.isSafeInteger(generation) || generation < 0)
      throw new RangeError(`revokeLinks: bad generation ${generation}`)
    let closed = 0
    for (const c of [...this.connections])
      if (c.spaceId === spaceId) {
        const older = c.generation !== undefined && c.generation < generation
        c.revoke(generation)
        if (older) closed++
      }
    this.loadedRoom(spaceId)?.raiseLinkGeneration(generation)
    this.fanOut.publish(spaceId, linkRevokedFrame(generation))
    return closed
  }

  /** Commits everything received so far, in every room. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.rooms.values()].map(({ room }) => room?.flush() ?? Promise.resolve()))
  }

  /**
   * Stop accepting, commit everything, close every socket with 1001, save a version of each space
   * with changes not in one yet (HIST-3), release every space.
   */
  async shutdown(): Promise<void> {
    this.closing = true
    await this.flushAll()
    for (const c of [...this.connections]) c.close(ErrorKind.ShuttingDown, 'server shutting down')
    if (this.history)
      await Promise.all([...this.rooms.values()].map(({ room }) => room?.saveVersion() ?? Promise.resolve()))
    for (const { room } of [...this.rooms.values()]) room?.destroy()
  }
}
