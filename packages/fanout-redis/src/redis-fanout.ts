import { randomBytes } from 'node:crypto'
import { type Backoff, backoffDelay } from '@converge/protocol'
import { type FanOut, type FanOutListener, type Logger, silentLogger } from '@converge/server-core'
import { Redis } from 'ioredis'

/** What the adapter reports, for metrics. */
export interface RedisFanOutEvents {
  published?(bytes: number): void
  received?(bytes: number): void
  /** A publish that could not go out (Redis unreachable); the resync after the gap repairs it. */
  dropped?(): void
  /** The subscriber connection went up (true) or down (false). */
  connection?(up: boolean): void
  /** After a gap, `spaces` subscriptions were re-established and asked to resync. */
  resynced?(spaces: number): void
  /**
   * REDIS-3: since when (ms since the epoch) this instance is out of step with the others — its first
   * publish dropped, or its subscriber connection lost, after the last resync — and `null` once every
   * open space has been resynced over a ready publishing connection.
   */
  gap?(since: number | null): void
}

export interface RedisFanOutOptions {
  /** `redis://host:port[/db]` */
  url: string
  /** Channel names are `<prefix>:space:<spaceId>`. Default `converge`. */
  prefix?: string
  logger?: Logger
  events?: RedisFanOutEvents
}

/** Instance ids are this long, at the start of every published message… */
const ID_BYTES = 8
/** …then the publish time (FAN-6), a float64 of ms since the epoch, then the message. */
const HEADER_BYTES = ID_BYTES + 8

/** How long ioredis waits before reconnect `times` (1-based): 100 ms doubling up to 2 s, jittered. */
export const REDIS_RECONNECT_BACKOFF: Backoff = { initialMs: 100, maxMs: 2000 }

/** ioredis's `retryStrategy`: the one backoff of `@converge/protocol`, forever (never `null`). */
export const retryStrategy = (times: number): number => backoffDelay(times, REDIS_RECONNECT_BACKOFF)

/**
 * FanOut over Redis pub/sub (ioredis): one channel per space, one publishing and one subscribing
 * connection per instance. Each message starts with the publishing instance's random id, so an
 * instance drops its own messages (no echo), and its publish time (FAN-6: the fan-out lag). Pub/sub delivers at most once: while the connection is
 * down, publishes are dropped (counted) and messages to this instance are lost — so every time the
 * subscriber connection comes back, the adapter re-subscribes and calls `resync` on every listener,
 * and the rooms repair by exchanging state vectors.
 */
export class RedisFanOut implements FanOut {
  readonly instanceId = randomBytes(ID_BYTES)
  private readonly pub: Redis
  private readonly sub: Redis
  private readonly prefix: string
  private readonly logger: Logger
  private readonly events: RedisFanOutEvents
  private readonly listeners = new Map<string, Set<FanOutListener>>()
  /** Per channel, the SUBSCRIBE in flight or done (on the current connection). */
  private readonly subscribed = new Map<string, Promise<void>>()
  private everReady = false
  /** The publishing connection dropped since it was last ready (REDIS-2). */
  private pubWasDown = false
  private up = false
  private closed = false
  /** REDIS-3: since when this instance is out of step with the others (null: in step). */
  private gapSince: number | null = null

  constructor(options: RedisFanOutOptions) {
    this.prefix = options.prefix ?? 'converge'
    this.logger = options.logger ?? silentLogger
    this.events = options.events ?? {}
    const where = redactedUrl(options.url)
    // publishes fail at once while disconnected instead of queueing without bound
    this.pub = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy,
      connectionName: `converge-fanout-pub-${this.instanceId.toString('hex')}`,
    })
    this.sub = new Redis(options.url, {
      autoResubscribe: false, // done here, so the resync follows the re-subscription
      maxRetriesPerRequest: null,
      retryStrategy,
      connectionName: `converge-fanout-sub-${this.instanceId.toString('hex')}`,
    })
    this.pub.on('error', () => {}) // reported through the subscriber's state, once
    // REDIS-2: a gap of the publishing connection alone loses what was published meanwhile: resync
    this.pub.on('close', () => {
      if (!this.closed) this.pubWasDown = true
    })
    this.pub.on('ready', () => {
      if (!this.pubWasDown || this.closed) return
      this.pubWasDown = false
      if (this.sub.status !== 'ready') return // the subscriber's own 'ready' resyncs
      this.resyncEverySpace()
    })
    this.sub.on('error', (err: Error) => {
      if (this.up) this.logger.warn({ redis: where, err: err.message }, 'redis fan-out error')
    })
    this.sub.on('close', () => {
      if (!this.up || this.closed) return
      this.up = false
      this.subscribed.clear()
      this.events.connection?.(false)
      this.gapOpens() // what the others publish from now on is lost to this instance
      this.logger.error(
        { redis: where },
        "redis fan-out connection lost: serving this instance's clients only until it is back",
      )
    })
    this.sub.on('ready', () => {
      this.up = true
      this.pubWasDown = false // the resync below covers a gap of the publisher too (and waits for it)
      this.events.connection?.(true)
      if (!this.everReady) {
        this.everReady = true
        this.logger.info(
          { redis: where, instance: this.instanceId.toString('hex') },
          'redis fan-out connected',
        )
        return
      }
      const spaces = [...this.listeners.keys()]
      this.logger.warn(
        { redis: where, spaces: spaces.length },
        'redis fan-out back: resyncing every open space',
      )
      this.events.resynced?.(spaces.length)
      this.resyncEverySpace()
    })
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.deliver(channel, message))
  }

  /**
   * Subscribes every open space again and asks it to resync (REDIS-1, REDIS-2). A resync publishes
   * its state vector and state, so once the publishing connection is ready the gap is closed
   * (REDIS-3): the others answer with what this instance missed, and get what they missed — a space
   * closed meanwhile had committed its changes, and is loaded from storage when opened again.
   */
  private resyncEverySpace(): void {
    for (const channel of this.listeners.keys()) void this.ensureSubscribed(channel, true)
    this.whenPublishing(() => {
      if (this.gapSince === null) return
      this.gapSince = null
      this.events.gap?.(null)
    })
  }

  /** REDIS-3: from now on, until the next resync of every space, the instances are out of step. */
  private gapOpens(): void {
    if (this.gapSince !== null) return
    this.gapSince = Date.now()
    this.events.gap?.(this.gapSince)
  }

  /** A publish the other instances will not get: counted, and the gap opens (REDIS-3). */
  private drop(): void {
    this.events.dropped?.()
    this.gapOpens()
  }

  private channel(spaceId: string): string {
    return `${this.prefix}:space:${spaceId}`
  }

  private deliver(channel: Buffer, message: Buffer): void {
    if (message.length < HEADER_BYTES || message.subarray(0, ID_BYTES).equals(this.instanceId)) return
    const set = this.listeners.get(channel.toString())
    if (!set) return
    this.events.received?.(message.length)
    // FAN-6: the publish time, ms since the epoch by the publisher's clock
    const sentAt = message.readDoubleBE(ID_BYTES)
    const payload = new Uint8Array(
      message.buffer,
      message.byteOffset + HEADER_BYTES,
      message.length - HEADER_BYTES,
    )
    for (const l of set) l.message(payload, Number.isFinite(sentAt) ? sentAt : undefined)
  }

  /** SUBSCRIBEs `channel` once per connection; then (or right away, when `resyncAll`) resyncs its listeners. */
  private ensureSubscribed(channel: string, resyncAll = false, listener?: FanOutListener): Promise<void> {
    let done = this.subscribed.get(channel)
    if (!done) {
      done = this.sub.subscribe(channel).then(
        () => undefined,
        (err: unknown) => {
          this.subscribed.delete(channel)
          throw err
        },
      )
      this.subscribed.set(channel, done)
    }
    return done.then(
      () =>
        // REDIS-2: a resync publishes; the publishing connection reconnects on its own schedule (the
        // backoff is jittered), and what it is given before it is ready is dropped — so wait for it
        this.whenPublishing(() => {
          const set = this.listeners.get(channel)
          if (!set) return
          if (resyncAll) for (const l of set) l.resync()
          else if (listener && set.has(listener)) listener.resync()
        }),
      (err: unknown) =>
        // the 'ready' after reconnecting subscribes again and resyncs
        this.logger.warn({ channel, err: String(err) }, 'redis subscribe failed; retried when reconnected'),
    )
  }

  /** Runs `fn` once the publishing connection is ready (at once when it is). */
  private whenPublishing(fn: () => void): void {
    if (this.closed) return
    if (this.pub.status === 'ready') return fn()
    this.pub.once('ready', () => {
      if (!this.closed) fn()
    })
  }

  publish(spaceId: string, message: Uint8Array): void {
    if (this.closed || this.pub.status !== 'ready') {
      this.drop()
      return
    }
    const framed = Buffer.allocUnsafe(HEADER_BYTES + message.length)
    this.instanceId.copy(framed, 0)
    framed.writeDoubleBE(Date.now(), ID_BYTES)
    framed.set(message, HEADER_BYTES)
    this.pub.publish(this.channel(spaceId), framed).then(
      () => this.events.published?.(framed.length),
      () => this.drop(),
    )
  }

  subscribe(spaceId: string, listener: FanOutListener): () => void {
    const channel = this.channel(spaceId)
    let set = this.listeners.get(channel)
    if (!set) this.listeners.set(channel, (set = new Set()))
    set.add(listener)
    void this.ensureSubscribed(channel, false, listener)
    return () => {
      const current = this.listeners.get(channel)
      if (!current?.delete(listener) || current.size > 0) return
      this.listeners.delete(channel)
      this.subscribed.delete(channel)
      if (this.up) this.sub.unsubscribe(channel).catch(() => {})
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.listeners.clear()
    await Promise.all([this.pub.quit().catch(() => {}), this.sub.quit().catch(() => {})])
    this.pub.disconnect()
    this.sub.disconnect()
  }
}

/** The URL without its password, for log lines. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'redis'
  }
}
