/**
 * The ports of the server core. Adapters implement them in their own packages and prove it by
 * running the conformance suites exported from `@converge/server-core/testing`.
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

export interface Persistence {
  /**
   * Everything stored for a space; an unknown space gives `{ snapshot: null, updates: [], lastSeq: 0 }`.
   * A failed read throws StorageError — it never answers "empty", which a caller could then save over data.
   */
  load(spaceId: string): Promise<StoredSpace>
  /**
   * Appends updates as one atomic, durable batch: when the promise resolves they are committed
   * (they survive a SIGKILL of the process right after). Returns the position of the last one.
   */
  append(spaceId: string, updates: readonly Uint8Array[]): Promise<number>
  /**
   * Atomically replaces the snapshot with `snapshot` and drops the updates up to and including
   * `throughSeq`. Updates appended after `throughSeq` (e.g. while the snapshot was being made) stay.
   * A `throughSeq` beyond the last append is refused (RangeError); a compaction older than the stored
   * snapshot is ignored, so a slow compaction never overwrites a newer one.
   */
  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void>
  /**
   * Records a space id as taken, so `POST /api/spaces` can register a space created offline under its
   * own id without letting anyone claim an existing one. False when the id was taken or holds data.
   */
  registerSpace(spaceId: string): Promise<boolean>
  /** Releases the storage (closes the database). */
  close(): Promise<void>
  /**
   * True when other server instances may write the same spaces (a shared database). A room then
   * re-reads storage before compacting, so a snapshot never drops another instance's update.
   */
  readonly shared?: boolean
}

/** What a room hands to `FanOut.subscribe`. */
export interface FanOutListener {
  /** A message another instance published for the space. */
  message(message: Uint8Array): void
  /**
   * The subscription is live: called once after `subscribe`, and again after every gap in which
   * messages may have been lost (a Redis restart, a dropped connection). The room answers with a
   * state-vector exchange, so nothing is missed for good.
   */
  resync(): void
}

/**
 * Carries a space's messages to the rooms of the same space on other server instances. Delivery is
 * best effort and in publish order per instance; what a gap loses, `resync` repairs.
 */
export interface FanOut {
  /** Sends `message` (an encoded protocol message) to the other instances' rooms of `spaceId`. */
  publish(spaceId: string, message: Uint8Array): void
  /** Receives what other instances publish for `spaceId`; never what this instance published. */
  subscribe(spaceId: string, listener: FanOutListener): () => void
  close(): Promise<void>
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): { cancel(): void }
}

export type LogFields = Record<string, string | number | boolean | null | undefined>

/** Structured logging: fields are ids and numbers, never document content or tokens. */
export interface Logger {
  debug(fields: LogFields, msg: string): void
  info(fields: LogFields, msg: string): void
  warn(fields: LogFields, msg: string): void
  error(fields: LogFields, msg: string): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(t) }
  },
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
