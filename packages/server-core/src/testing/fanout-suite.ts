import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { FanOut, FanOutListener } from '../ports.js'
import { testBytes } from './persistence-suite.js'

export interface FanOutFixture {
  /** Instances sharing one broker (several server processes, as far as fan-out can tell). */
  instances: FanOut[]
  /**
   * Breaks `instance`'s connection to the broker and brings it back (e.g. kills its Redis
   * connections); resolves once it is back. Messages sent meanwhile may be lost; resync must follow.
   */
  interrupt(instance: FanOut): Promise<void>
  /** Closes every instance and the broker state. */
  cleanup(): Promise<void>
}

/** A listener that records what it receives and how often it was asked to resync. */
function recorder(): FanOutListener & { got: Uint8Array[]; sentAt: (number | undefined)[]; resyncs: number } {
  const r = {
    got: [] as Uint8Array[],
    sentAt: [] as (number | undefined)[],
    resyncs: 0,
    message: (m: Uint8Array, sentAt?: number) => {
      r.got.push(Uint8Array.from(m))
      r.sentAt.push(sentAt)
    },
    resync: () => void r.resyncs++,
  }
  return r
}

const plain = (list: readonly Uint8Array[]): number[][] => list.map((u) => Array.from(u))

/**
 * The conformance suite of the FanOut port. Every adapter runs it: `setup(3)` makes three instances
 * on a fresh broker for each test.
 */
export function runFanOutSuite(name: string, setup: (instances: number) => Promise<FanOutFixture>): void {
  describe(`FanOut conformance: ${name}`, () => {
    let fx: FanOutFixture
    let one: FanOut
    let two: FanOut
    let three: FanOut
    // each test gets its own space names, so a slow broker cannot mix tests up
    let n = 0
    const space = (s: string): string => `${s}-${n}`

    beforeEach(async () => {
      n++
      fx = await setup(3)
      ;[one, two, three] = fx.instances as [FanOut, FanOut, FanOut]
    })
    afterEach(async () => {
      await fx.cleanup()
    })

    /** Subscribes and waits until the subscription is live (its first resync). */
    const live = async (f: FanOut, spaceId: string): Promise<ReturnType<typeof recorder>> => {
      const r = recorder()
      f.subscribe(spaceId, r)
      await vi.waitFor(() => expect(r.resyncs).toBeGreaterThan(0), { timeout: 5000 })
      return r
    }

    it('FAN-1 a message reaches every other instance subscribed to the space, byte-exact, never its publisher', async () => {
      const s = space('s')
      const [r1, r2, r3] = [await live(one, s), await live(two, s), await live(three, s)]
      one.publish(s, testBytes(1, 40))
      await vi.waitFor(() => expect(r2.got.length + r3.got.length).toBe(2), { timeout: 5000 })
      expect(plain(r2.got)).toEqual(plain([testBytes(1, 40)]))
      expect(plain(r3.got)).toEqual(plain([testBytes(1, 40)]))
      two.publish(s, testBytes(2))
      await vi.waitFor(() => expect(r1.got.length).toBe(1), { timeout: 5000 })
      await vi.waitFor(() => expect(r3.got.length).toBe(2), { timeout: 5000 })
      expect(r2.got.length).toBe(1) // never its own
    })

    it('FAN-6 a message carries when it was published, by the publisher’s clock', async () => {
      const s = space('t')
      const r2 = await live(two, s)
      const before = Date.now()
      one.publish(s, testBytes(6))
      await vi.waitFor(() => expect(r2.got.length).toBe(1), { timeout: 5000 })
      const after = Date.now()
      expect(r2.sentAt[0]).toBeGreaterThanOrEqual(before)
      expect(r2.sentAt[0]).toBeLessThanOrEqual(after)
    })

    it('FAN-2 spaces are isolated', async () => {
      const [a, b] = [space('a'), space('b')]
      const ra = await live(two, a)
      const rb = await live(two, b)
      one.publish(a, testBytes(10))
      one.publish(b, testBytes(20))
      await vi.waitFor(() => expect(ra.got.length + rb.got.length).toBe(2), { timeout: 5000 })
      expect(plain(ra.got)).toEqual(plain([testBytes(10)]))
      expect(plain(rb.got)).toEqual(plain([testBytes(20)]))
    })

    it('FAN-3 messages from one instance arrive in publish order; large and all-byte-value payloads intact', async () => {
      const s = space('s')
      const r = await live(two, s)
      const sent = Array.from({ length: 50 }, (_, i) => testBytes(i, 1 + (i % 7) * 13))
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i)
      const large = testBytes(99, 256 * 1024)
      for (const m of sent) one.publish(s, m)
      one.publish(s, everyByte)
      one.publish(s, large)
      await vi.waitFor(() => expect(r.got.length).toBe(52), { timeout: 5000 })
      expect(plain(r.got.slice(0, 50))).toEqual(plain(sent))
      expect(Array.from(r.got[50]!)).toEqual(Array.from(everyByte))
      expect(r.got[51]!.length).toBe(large.length)
      expect(r.got[51]!.every((byte, i) => byte === large[i])).toBe(true)
    })

    it('FAN-4 after unsubscribing, nothing more arrives', async () => {
      const s = space('s')
      const r = recorder()
      const stop = two.subscribe(s, r)
      await vi.waitFor(() => expect(r.resyncs).toBe(1), { timeout: 5000 })
      const witness = await live(three, s)
      stop()
      one.publish(s, testBytes(1))
      await vi.waitFor(() => expect(witness.got.length).toBe(1), { timeout: 5000 })
      expect(r.got).toEqual([])
    })

    it('FAN-5 after its connection is interrupted, an instance is asked to resync and receives again', async () => {
      const s = space('s')
      const r = await live(two, s)
      const before = r.resyncs
      await fx.interrupt(two)
      await vi.waitFor(() => expect(r.resyncs).toBeGreaterThan(before), { timeout: 10_000 })
      one.publish(s, testBytes(5))
      await vi.waitFor(() => expect(plain(r.got)).toEqual(plain([testBytes(5)])), { timeout: 5000 })
      // and what it publishes reaches the others again
      const r1 = await live(one, s)
      two.publish(s, testBytes(6))
      await vi.waitFor(() => expect(plain(r1.got)).toEqual(plain([testBytes(6)])), { timeout: 5000 })
    })
  })
}
