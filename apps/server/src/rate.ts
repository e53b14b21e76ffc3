/**
 * Token buckets keyed by client address, for the per-address limits (space creation, the write
 * budget). A bucket outlives the requests and sockets of its address until it has refilled, so
 * reconnecting never buys a fresh burst; full buckets are swept, so the table holds only addresses
 * that spent something recently.
 */

/** A token bucket: `ratePerSecond` tokens a second, holding at most `burst`; starts full. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.last = now
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond)
      this.last = now
    }
  }

  /** Takes `amount` if the bucket holds that much; otherwise takes nothing. */
  take(amount: number, now: number): boolean {
    this.refill(now)
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }

  /** Milliseconds until `amount` can be taken (0: now). */
  waitMs(amount: number, now: number): number {
    this.refill(now)
    if (this.tokens >= amount) return 0
    return ((amount - this.tokens) / this.ratePerSecond) * 1000
  }

  isFull(now: number): boolean {
    this.refill(now)
    return this.tokens >= this.burst
  }
}

/** At most this many addresses are tracked; past it the longest-tracked are forgotten first. */
export const MAX_TRACKED_ADDRESSES = 100_000

export interface KeyedBucketsOptions {
  readonly ratePerSecond: number
  readonly burst: number
  /** Keys that must not be swept even when full (e.g. addresses with open sockets). */
  readonly inUse?: (key: string) => boolean
  readonly now?: () => number
}

/** One TokenBucket per key, created full on first use. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly now: () => number
  private lastSweep: number

  constructor(private readonly options: KeyedBucketsOptions) {
    this.now = options.now ?? Date.now
    this.lastSweep = this.now()
  }

  private bucket(key: string, now: number): TokenBucket {
    let b = this.buckets.get(key)
    if (!b) {
      if (now - this.lastSweep > 10_000 || this.buckets.size >= MAX_TRACKED_ADDRESSES) this.sweep(now)
      b = new TokenBucket(this.options.ratePerSecond, this.options.burst, now)
      this.buckets.set(key, b)
    }
    return b
  }

  /** Takes `amount` from `key`'s bucket; false (nothing taken) when it holds less. */
  take(key: string, amount: number): boolean {
    const now = this.now()
    return this.bucket(key, now).take(amount, now)
  }

  /** Milliseconds until `key` can take `amount`. */
  waitMs(key: string, amount: number): number {
    const now = this.now()
    return this.buckets.get(key)?.waitMs(amount, now) ?? 0
  }

  /** How many addresses are tracked (tests, diagnostics). */
  get size(): number {
    return this.buckets.size
  }

  /** Forgets buckets that are full again (nothing to remember), then the oldest past the cap. */
  sweep(now = this.now()): void {
    this.lastSweep = now
    for (const [key, b] of this.buckets)
      if (b.isFull(now) && !this.options.inUse?.(key)) this.buckets.delete(key)
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < MAX_TRACKED_ADDRESSES) break
      this.buckets.delete(key)
    }
  }
}
