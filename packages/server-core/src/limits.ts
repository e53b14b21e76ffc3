/** Every limit is a named value the composition root sets from config (docs/threat-model.md). */
export interface Limits {
  /** Largest WebSocket frame accepted (the transport enforces it with close 1009; the core re-checks). */
  readonly maxFrameBytes: number
  /** Largest stored size of one space (snapshot + log); an update past it is refused with 4413. */
  readonly maxDocumentBytes: number
  /** Messages per second per connection (token bucket, burst = 2 s worth). */
  readonly maxMessagesPerSecond: number
  /** Bytes per second per connection (token bucket, burst = 2 s worth). */
  readonly maxBytesPerSecond: number
  /** Bytes a socket may send before authentication finishes. */
  readonly maxPreAuthBytes: number
  /** Messages a socket may send before authentication finishes. */
  readonly maxPreAuthMessages: number
  /** Open connections on this instance. */
  readonly maxConnections: number
  /**
   * Answer bytes per second per connection (sync-step2 answers to its sync-step1; the first answer of
   * a connection is free, so a device joins a large space at once). Token bucket, burst = 2 s worth.
   */
  readonly maxAnswerBytesPerSecond: number
  /** What a socket may have queued unsent (it does not read): past it, it is closed with 4429. */
  readonly maxBufferedBytes: number
  /** Structs one loaded space may hold (MEM-2): an update past it is refused with 4413. */
  readonly maxStructsPerSpace: number
  /**
   * The estimated heap all loaded spaces may take together (MEM-3): a space that does not fit is not
   * loaded (1013, retry later) and an update that does not fit is refused the same way.
   */
  readonly memoryBudgetBytes: number
  /** How long a space with no connection stays loaded. */
  readonly idleUnloadMs: number
  /**
   * A message a client sends in chunks (PROTOCOL.md §P7.4, CHUNK-5) that gets no chunk for this long
   * closes its socket with 4408 IncompleteMessage.
   */
  readonly chunkIdleMs: number
  /** Compact a space's log after this many appended updates… */
  readonly compactEveryUpdates: number
  /** …or this many appended bytes. */
  readonly compactEveryBytes: number
  /** LAG-5: a connection whose report has a change unconfirmed for longer than this counts as lagging. */
  readonly laggingAfterMs: number
  /** PROBE-6: after a change, how long until a room publishes its digest to the other instances. */
  readonly probeAfterChangeMs: number
  /** PROBE-4: a client's digests are compared at most once per this long (more are ignored). */
  readonly digestEveryMs: number
}

export const defaultLimits: Limits = {
  maxFrameBytes: 1024 * 1024,
  maxDocumentBytes: 64 * 1024 * 1024,
  maxMessagesPerSecond: 500,
  maxBytesPerSecond: 4 * 1024 * 1024,
  maxPreAuthBytes: 256 * 1024,
  maxPreAuthMessages: 64,
  maxConnections: 10_000,
  maxAnswerBytesPerSecond: 8 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxStructsPerSpace: 500_000,
  memoryBudgetBytes: 1024 * 1024 * 1024,
  idleUnloadMs: 30_000,
  chunkIdleMs: 30_000,
  compactEveryUpdates: 500,
  compactEveryBytes: 1024 * 1024,
  laggingAfterMs: 10_000,
  probeAfterChangeMs: 30_000,
  digestEveryMs: 5_000,
}

/** Messages one connection may have open in chunks at once (PROTOCOL.md §P7.4, CHUNK-4). */
export const MAX_OPEN_CHUNKED = 4

/** A token bucket: `rate` per second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number
  private last: number
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.last = now
  }

  take(amount: number, now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }
}
