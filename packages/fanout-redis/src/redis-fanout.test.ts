import { randomBytes } from 'node:crypto'
import type { FanOutListener, LogFields, Logger } from '@converge/server-core'
import { runFanOutSuite } from '@converge/server-core/testing'
import { PrivateRedis, REDIS_URL, haveRedis, haveRedisServerBinary } from '@converge/test-services'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { RedisFanOut } from './index.js'
import { REDIS_RECONNECT_BACKOFF, retryStrategy } from './redis-fanout.js'

const ok = await haveRedis()
const canRestart = ok && haveRedisServerBinary()

/** Kills the subscriber connection of `f` from the server side (CLIENT KILL), as a network blip would. */
async function killSubscriber(url: string, f: RedisFanOut): Promise<void> {
  await killConnection(url, `converge-fanout-sub-${f.instanceId.toString('hex')}`)
}

/** Kills the connection named `name` from the server side (CLIENT KILL). */
async function killConnection(url: string, name: string): Promise<void> {
  const admin = new Redis(url)
  try {
    const list = (await admin.client('LIST')) as string
    const line = list.split('\n').find((l) => l.includes(`name=${name}`))
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1]
    if (!id) throw new Error(`no connection named ${name}`)
    await admin.client('KILL', 'ID', id)
  } finally {
    admin.disconnect()
  }
}

describe('Redis reconnect backoff', () => {
  afterEach(() => vi.restoreAllMocks())

  it("is protocol's one backoff: 100 ms doubling to 2 s, jittered in [½, 1], forever", () => {
    expect(REDIS_RECONNECT_BACKOFF).toEqual({ initialMs: 100, maxMs: 2000 })
    vi.spyOn(Math, 'random').mockReturnValue(1)
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(retryStrategy)).toEqual([
      100, 200, 400, 800, 1600, 2000, 2000, 2000,
    ])
    vi.spyOn(Math, 'random').mockReturnValue(0)
    expect([1, 2, 3, 4, 5, 6, 100].map(retryStrategy)).toEqual([50, 100, 200, 400, 800, 1000, 1000])
    vi.restoreAllMocks()
    for (let times = 1; times <= 50; times++) {
      const base = Math.min(2000, 100 * 2 ** (times - 1))
      const wait = retryStrategy(times)
      expect(wait).toBeGreaterThanOrEqual(base / 2)
      expect(wait).toBeLessThanOrEqual(base)
    }
  })
})

describe.skipIf(!ok)('Redis fan-out', () => {
  runFanOutSuite('redis', (count) => {
    const prefix = `converge-test-${randomBytes(4).toString('hex')}`
    const instances = Array.from({ length: count }, () => new RedisFanOut({ url: REDIS_URL, prefix }))
    return Promise.resolve({
      instances,
      interrupt: (f) => killSubscriber(REDIS_URL, f as RedisFanOut),
      cleanup: async () => {
        await Promise.all(instances.map((i) => i.close()))
      },
    })
  })
})

describe.skipIf(!canRestart)('Redis fan-out through a Redis restart', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c()
  })

  it('REDIS-1 while Redis is down publishes are dropped and counted, the loss is logged; when back every space resyncs and messages flow; [REDIS-3] the gap is reported at its start and closed by the resync', async () => {
    const redis = await PrivateRedis.start()
    closers.push(() => redis.stop())
    const lines: string[] = []
    const log = (level: string) => (_f: LogFields, msg: string) => void lines.push(`${level} ${msg}`)
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
    const counts = { dropped: 0, down: 0, up: 0, resynced: 0 }
    const gaps: (number | null)[] = []
    const a = new RedisFanOut({
      url: redis.url,
      logger,
      events: {
        dropped: () => counts.dropped++,
        connection: (up) => (up ? counts.up++ : counts.down++),
        resynced: (n) => (counts.resynced += n),
        gap: (since) => void gaps.push(since),
      },
    })
    const b = new RedisFanOut({ url: redis.url })
    closers.push(
      () => a.close(),
      () => b.close(),
    )
    const got: number[][] = []
    let resyncs = 0
    const listener: FanOutListener = { message: (m) => void got.push([...m]), resync: () => void resyncs++ }
    a.subscribe('s', listener)
    await vi.waitFor(() => expect(resyncs).toBe(1), { timeout: 5000 })

    expect(gaps).toEqual([]) // in step
    const stoppedAt = Date.now()
    await redis.stop()
    await vi.waitFor(() => expect(counts.down).toBe(1), { timeout: 5000 })
    // the gap opens when the loss is seen, once
    expect(gaps).toHaveLength(1)
    expect(gaps[0]).toBeGreaterThanOrEqual(stoppedAt)
    expect(gaps[0]).toBeLessThanOrEqual(Date.now())
    expect(lines).toContain(
      "error redis fan-out connection lost: serving this instance's clients only until it is back",
    )
    a.publish('s', Uint8Array.of(1)) // goes nowhere: counted
    expect(counts.dropped).toBe(1)
    expect(gaps).toHaveLength(1) // the gap is open already

    await redis.start()
    await vi.waitFor(() => expect(resyncs).toBe(2), { timeout: 10_000 })
    expect(counts.resynced).toBe(1)
    expect(lines).toContain('warn redis fan-out back: resyncing every open space')
    // closed once the resync could go out
    await vi.waitFor(() => expect(gaps).toEqual([gaps[0], null]), { timeout: 10_000 })
    // publish until one gets through (b's publishing connection may still be reconnecting): each
    // attempt's message arrives before a later attempt checks
    await vi.waitFor(
      () => {
        b.publish('s', Uint8Array.of(7))
        expect(got).toContainEqual([7])
      },
      { timeout: 10_000, interval: 50 },
    )
  })
})

describe.skipIf(!ok)('Redis fan-out: the resync reaches the other instances', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c()
  })

  it(
    'REDIS-2 a resync publishes only once the publishing connection is back, and a gap of the publishing connection alone resyncs too',
    { timeout: 40_000 },
    async () => {
      const prefix = `redis2-${randomBytes(4).toString('hex')}`
      const a = new RedisFanOut({ url: REDIS_URL, prefix })
      const b = new RedisFanOut({ url: REDIS_URL, prefix })
      closers.push(
        () => a.close(),
        () => b.close(),
      )
      // b listens first — its subscription is up once it is asked to resync — so that it hears a's
      // very first publish (a message sent before a subscription is up is not delivered to it)
      const heard: number[] = []
      let bReady = false
      b.subscribe('s', { message: (m) => void heard.push(m[0]!), resync: () => (bReady = true) })
      await vi.waitFor(() => expect(bReady).toBe(true), { timeout: 5000 })
      // a's room answers every resync by publishing its state (as a room does): b must hear each one
      let resyncs = 0
      a.subscribe('s', { message: () => {}, resync: () => a.publish('s', Uint8Array.of(++resyncs)) })
      await vi.waitFor(() => expect(resyncs).toBe(1), { timeout: 5000 })
      await vi.waitFor(() => expect(heard.length).toBeGreaterThan(0), { timeout: 5000 })
      // both of a's connections drop at once; they come back on their own (jittered) schedules
      await killConnection(REDIS_URL, `converge-fanout-pub-${a.instanceId.toString('hex')}`)
      await killSubscriber(REDIS_URL, a)
      await vi.waitFor(() => expect(resyncs).toBeGreaterThanOrEqual(2), { timeout: 10_000 })
      await vi.waitFor(() => expect(heard).toContain(resyncs), { timeout: 10_000 })
      // the publishing connection alone drops: what was published meanwhile is lost, so a resyncs
      const before = resyncs
      await killConnection(REDIS_URL, `converge-fanout-pub-${a.instanceId.toString('hex')}`)
      await vi.waitFor(() => expect(resyncs).toBeGreaterThan(before), { timeout: 10_000 })
      await vi.waitFor(() => expect(heard).toContain(resyncs), { timeout: 10_000 })
    },
  )
})
