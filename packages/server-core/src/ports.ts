/**
 * The ports of the server core: everything it needs from the outside world, passed in, never reached
 * for. Adapters implement them in their own packages and prove it by running the conformance suites
 * exported from `@converge/server-core/testing` (SPEC.md: PERS-n, REG-n, FAN-n).
 */

/** What is stored for one space: the latest compacted snapshot and every update appended after it. */
export interface StoredSpace {
  /** A Yjs update holding the whole state at the last compaction, or null before the first one. */
  readonly snapshot: Uint8Array | null
  /** Updates appended after the snapshot, in append order. */
  readonly updates: readonly Uint8Array[]
  /** The position of the last update appended (0 when none ever was); compaction names it. */
  readonly lastSeq: number
  /** Bytes stored for the space (snapshot + updates), for the document-size limit. */
  readonly bytes: number
}

/** Thrown by a Persistence when storage cannot do what was asked. Never swallowed into "empty". */
export class StorageError extends Error {
  override readonly name = 'StorageError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The storage of spaces: an append-only log of updates per space, compacted into snapshots. */
export interface Persistence {
  /**
   * Everything stored for a space; an unknown space gives `{ snapshot: null, updates: [], lastSeq: 0,
   * bytes: 0 }`. A failed read throws StorageError — it never answers "empty", which a caller could
   * then save over data. (PERS-1, PERS-13)
   */
  load(spaceId: string): Promise<StoredSpace>
  /**
   * Appends updates as one atomic, durable batch: when the promise resolves they are committed
   * (they survive a SIGKILL of the process right after), and a load sees all of them or none. Each
   * update takes a position of its own, increasing per space and never reused; returns the position
   * of the last one (an empty list appends nothing and returns the last position). (PERS-2, PERS-4,
   * PERS-8, PERS-14)
   */
  append(spaceId: string, updates: readonly Uint8Array[]): Promise<number>
  /**
   * Atomically replaces the snapshot with `snapshot` and drops the updates up to and including
   * `throughSeq`. Updates appended after `throughSeq` (e.g. while the snapshot was being made) stay.
   * A `throughSeq` beyond the last append (or not a whole number ≥ 0) is refused with RangeError and
   * changes nothing; a compaction older than the stored snapshot is ignored, so a slow compaction
   * never overwrites a newer one. (PERS-6, PERS-7, PERS-15, PERS-16)
   */
  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void>
  /**
   * Releases the storage (closes the database). Appends already made either resolve and are stored,
   * or reject; every call after close rejects with StorageError; closing twice is fine. (PERS-13,
   * PERS-17)
   */
  close(): Promise<void>
  /**
   * True when other server instances may write the same spaces (a shared database). A room then
   * re-reads storage before compacting, so a snapshot never drops another instance's update (CORE-13).
   */
  readonly shared?: boolean
}

/**
 * The register of space ids that are taken. Not used by the core: `POST /api/spaces` (apps/server)
 * calls it, so a space created offline can register under its own id without anyone claiming an
 * existing one. The storage adapters implement it beside `Persistence`, in the same storage, since
 * "taken" includes "holds data". (REG-n)
 */
/** The CRDT engine a space's document is written in, chosen when it is created (REG-10). */
export const SPACE_ENGINES = ['yjs', 'automerge'] as const
export type SpaceEngine = (typeof SPACE_ENGINES)[number]

/**
 * A stored engine name, checked: an unknown one (damage, or a newer server's) is a StorageError —
 * never read as Yjs, which would validate the space's updates against the wrong engine.
 */
export function knownEngine(value: string, spaceId: string): SpaceEngine {
  if ((SPACE_ENGINES as readonly string[]).includes(value)) return value as SpaceEngine
  throw new StorageError(`space ${spaceId} is stored with an unknown engine "${value}"`)
}

export interface SpaceRegistry {
  /**
   * Records `spaceId` as taken, written in `engine` (default 'yjs'). True when it was free; false when
   * it was registered already or holds data (its engine is then left as it was). Of concurrent
   * registrations of one id exactly one gets true. Registrations are durable.
   */
  registerSpace(spaceId: string, engine?: SpaceEngine): Promise<boolean>
  /**
   * The engine the space was registered with: 'yjs' for an id registered without one, registered
   * before engines were recorded, or never registered. A failed read throws StorageError. (REG-10)
   */
  spaceEngine(spaceId: string): Promise<SpaceEngine>
  /**
   * The space's link generation: 0 until its links are first reset (also for an id never seen).
   * Tokens of an older generation are refused (PROTOCOL.md §P5.10). A failed read throws
   * StorageError — never 0 in its place, which would let every old link in again. (REG-6)
   */
  linkGeneration(spaceId: string): Promise<number>
  /**
   * Raises the space's link generation by one, durably, and returns the new one; of concurrent
   * bumps each gets a number of its own. Stores no data: the space loads as before (an id never
   * seen is taken from then on, as a registered one is). (REG-6…REG-9)
   */
  bumpLinkGeneration(spaceId: string): Promise<number>
}

/** What a room hands to `FanOut.subscribe`. */
export interface FanOutListener {
  /**
   * A message another instance published for the space; `sentAt` (FAN-6) is when it was published,
   * ms since the epoch by the publisher's clock, where the adapter carries it.
   */
  message(message: Uint8Array, sentAt?: number): void
  /**
   * The subscription is live: called once after `subscribe`, and again after every gap in which
   * messages may have been lost (a Redis restart, a dropped connection). The room answers with a
   * state-vector exchange, so nothing is missed for good.
   */
  resync(): void
}

/**
 * Carries a space's messages to the rooms of the same space on other server instances. Delivery is
 * best effort and in publish order per instance; what a gap loses, `resync` repairs. A single
 * instance has one too: `SyncCore` makes a private in-memory one (`MemoryFanOut`) when given none,
 * so one instance and many run the same code.
 */
export interface FanOut {
  /** Sends `message` (an encoded protocol message) to the other instances' rooms of `spaceId`. */
  publish(spaceId: string, message: Uint8Array): void
  /** Receives what other instances publish for `spaceId`; never what this instance published. */
  subscribe(spaceId: string, listener: FanOutListener): () => void
  close(): Promise<void>
}

/**
 * QUOTA-1: whether the server's storage takes `bytes` more — an instance-wide quota, the disk's free
 * space — asked for every client update that would be stored, before it is queued. `null`: it does;
 * otherwise why not (the connection is closed with StorageUnavailable, 4503: the client keeps its
 * changes and retries with backoff). Asked on the hot path: an answer must be cheap (cache what it
 * measures). Without one (`unlimitedStorage`) every update is taken.
 */
export interface StorageQuota {
  admit(bytes: number): string | null
}

export const unlimitedStorage: StorageQuota = { admit: () => null }

/** Reading the time: token buckets and durations (commit and load times). */
export interface Clock {
  /** Milliseconds, monotonic enough for rates and durations (Date.now in production). */
  now(): number
}

/** A call that is scheduled and can still be called off. */
export interface Timer {
  cancel(): void
}

/**
 * Acting later: everything the core does "later" goes through this port — the end-of-turn relay and
 * group commit, the periodic durable ack, the idle unload, the in-memory fan-out's deliveries — so a
 * test (or a seeded simulation) can step it (`ManualScheduler` in `@converge/server-core/testing`).
 * Reading the time stays on `Clock`; `ManualScheduler` is both, so time moves when it advances.
 */
export interface Scheduler {
  /**
   * Runs `fn` once this event-loop turn is over: after every callback and promise job already
   * queued (Node's setImmediate). What arrives during one turn is relayed and committed together.
   */
  nextTurn(fn: () => void): void
  /** Runs `fn` after `ms` milliseconds, unless cancelled first. */
  setTimeout(fn: () => void, ms: number): Timer
}

export type LogFields = Record<string, string | number | boolean | null | undefined>

/** Structured logging: fields are ids and numbers, never document content or tokens. */
export interface Logger {
  debug(fields: LogFields, msg: string): void
  info(fields: LogFields, msg: string): void
  warn(fields: LogFields, msg: string): void
  error(fields: LogFields, msg: string): void
}

export const systemClock: Clock = { now: () => Date.now() }

/**
 * The host's timers: every JavaScript host has them (Node, browsers, workers), but the language does
 * not, and this package is typechecked without any host's types (tsconfig.src.json). Read at each
 * call, as a plain `setTimeout` would be.
 */
interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}
const host = globalThis as typeof globalThis & HostTimers

/** setImmediate where there is one (Node), else a 0 ms timer. */
const setImmediateOrNull = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate

/** The production Scheduler: `nextTurn` is setImmediate, `setTimeout` is setTimeout. */
export const systemScheduler: Scheduler = {
  nextTurn: (fn) => {
    if (setImmediateOrNull) setImmediateOrNull(fn)
    else host.setTimeout(fn, 0)
  },
  setTimeout: (fn, ms) => {
    const handle = host.setTimeout(fn, ms)
    return { cancel: () => host.clearTimeout(handle) }
  },
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/**
 * TRIP-n: the ledger of finished shopping trips — the strongly consistent island beside the
 * eventually consistent space (apps/server `trips.ts` runs the saga over it; SPEC.md "Trips"). Each
 * method is one SQL transaction; the adapters implement it beside `Persistence`, in the same storage.
 */
export type TripStatus = 'pending' | 'complete' | 'void'

/** One bought line, as the cart showed it when the trip was finished. */
export interface TripLine {
  readonly key: string
  readonly name: string
  readonly quantity: number
  readonly unit: string
  /** Per unit, in minor currency units (cents); null when unknown. */
  readonly priceCents: number | null
  /** Who checked it off (the name the app wrote), or null. */
  readonly checkedBy: string | null
}

/** What the saga asks the ledger to record (its first step). */
export interface NewTrip {
  /** Chosen by the caller (a random url-safe id), unique over all spaces. */
  readonly id: string
  readonly spaceId: string
  /** The client's Idempotency-Key: one trip per (space, key), ever (TRIP-2). */
  readonly idempotencyKey: string
  /** The committed version (a version token) the trip was finished at: its If-Match. */
  readonly baseVersion: string
  /** Who pressed "Done" (a name), and when (ms since the epoch). */
  readonly finishedBy: string
  readonly finishedAt: number
  readonly lines: readonly TripLine[]
  /** Σ quantity × price over the priced lines, in cents; and how many lines have no price. */
  readonly totalCents: number
  readonly unpricedLines: number
  /** The CRDT change of the saga's second step (removing the lines), kept so recovery can apply it again. */
  readonly removal: Uint8Array
}

/** A recorded trip. */
export interface Trip extends NewTrip {
  readonly status: TripStatus
  /** complete: the committed version that included the removal; null otherwise. */
  readonly completedVersion: string | null
  /** void: why (what failed); null otherwise. */
  readonly voidReason: string | null
}

/** What `TripLedger.record` did. */
export type RecordOutcome =
  /** The trip is recorded, pending (TRIP-1). */
  | { readonly outcome: 'recorded'; readonly trip: Trip }
  /** The space already has a trip under this Idempotency-Key: that one, unchanged (TRIP-2). */
  | { readonly outcome: 'replay'; readonly trip: Trip }
  /**
   * Another trip of the space holds the slot (TRIP-3): one that is pending, or one not void with the
   * same base version. That trip.
   */
  | { readonly outcome: 'conflict'; readonly trip: Trip }

export interface TripLedger {
  /**
   * In one transaction: the trip under (spaceId, idempotencyKey) if there is one (replay); else a
   * pending trip of the space, or a trip of the space not void with the same baseVersion (conflict);
   * else records `trip` as pending. Of concurrent calls for one space at most one records. When a
   * pending trip and another with the same baseVersion are both there, the conflict names the pending
   * one. An `id` another trip has (in any space) rejects, storing nothing. (TRIP-1…3)
   */
  record(trip: NewTrip): Promise<RecordOutcome>
  /**
   * pending → complete with `version`, in one transaction; returns the trip as it is after. A trip
   * that is not pending is left as it is and returned (so a late complete never revives a void one).
   * An id the space has no trip under (never recorded, or another space's) throws RangeError. (TRIP-4)
   */
  complete(spaceId: string, id: string, version: string): Promise<Trip>
  /** pending → void with `reason`; the same rules as `complete`. (TRIP-4) */
  void(spaceId: string, id: string, reason: string): Promise<Trip>
  /** One trip of the space, or null. */
  trip(spaceId: string, id: string): Promise<Trip | null>
  /** The space's trip recorded under an Idempotency-Key, or null (TRIP-2). */
  tripByKey(spaceId: string, idempotencyKey: string): Promise<Trip | null>
  /**
   * The space's trips, newest first (by finishedAt, then id, both descending), at most `limit`
   * (default 100); a limit that is not a whole number ≥ 0 throws RangeError. (TRIP-5)
   */
  trips(spaceId: string, options?: { readonly limit?: number }): Promise<Trip[]>
  /** Every pending trip of every space, oldest first (by finishedAt, then id): what a restart finishes (TRIP-6). */
  pendingTrips(): Promise<Trip[]>
}

/**
 * HISTORY-n: the versions of each space the server keeps (SPEC.md "Version history"): a snapshot
 * of the document after each burst of activity, listed by the app ("Tuesday 18:04 — Sam, 12
 * changes"), previewed read-only and restored by the client as a new forward change. The room records
 * them (`history.ts`); the adapters implement it beside `Persistence`, in the same storage. Every
 * failure of storage is a StorageError, also every call after the storage is closed (HISTORY-7).
 */
export interface VersionInfo {
  /** Given by `saveVersion`: increasing per space, never reused (a global autoincrement is fine). */
  readonly id: number
  readonly spaceId: string
  /** When it was saved (ms since the epoch). */
  readonly at: number
  /** How many changes (committed client updates) it holds since the version before it. */
  readonly changes: number
  /** Who made them: the names the members showed (at most 10, as the room gave them). */
  readonly authors: readonly string[]
  /** The byte length of `state`. */
  readonly bytes: number
}

export interface StoredVersion extends VersionInfo {
  /** The document as storage keeps it: `SpaceDocument.snapshot()` (DOC-5), byte for byte. */
  readonly state: Uint8Array
}

export interface SpaceHistory {
  /**
   * Stores a version, durably, and returns its id: larger than every id the space's versions had
   * before. `at` and `changes` are whole numbers (`changes` ≥ 0), else RangeError and nothing is
   * stored. Changing the caller's arrays afterwards changes nothing stored. (HISTORY-1, HISTORY-2,
   * HISTORY-6)
   */
  saveVersion(
    spaceId: string,
    v: {
      readonly at: number
      readonly changes: number
      readonly authors: readonly string[]
      readonly state: Uint8Array
    },
  ): Promise<number>
  /**
   * The space's versions without their state, newest first (by `at`, then id, both descending), at
   * most `limit` (default 100); a limit that is not a whole number ≥ 0 throws RangeError. (HISTORY-3)
   */
  versions(spaceId: string, options?: { readonly limit?: number }): Promise<VersionInfo[]>
  /** One version of the space with its state; null for an id never saved, deleted, or another space's. (HISTORY-1, HISTORY-4) */
  version(spaceId: string, id: number): Promise<StoredVersion | null>
  /**
   * Deletes those of `ids` that are the space's versions and returns how many it deleted; ids of
   * other spaces, unknown ones and ones already deleted are left alone, so repeating a delete is a
   * no-op that returns 0. (HISTORY-4, HISTORY-5)
   */
  deleteVersions(spaceId: string, ids: readonly number[]): Promise<number>
}
