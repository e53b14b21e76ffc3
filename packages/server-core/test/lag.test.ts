/**
 * Lag you can watch (SPEC.md LAG-1…LAG-5): how long a change waits on the server — for its commit,
 * its acks, its relay, its trip to another instance — and how far behind the devices say they are.
 * Time is a ManualScheduler's, so each lag is the exact time the test let pass.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFanOutHub, type CoreEvents } from '../src/index.js'
import { ACK_OTHERS_EVERY_MS } from '../src/durable-acks.js'
import { Client, ControlledStore, world } from './harness.js'

/** Events that record what they are told. */
function recorder() {
  const seen = {
    commit: [] as number[],
    ack: [] as [string, number][],
    relay: [] as number[],
    fanOut: [] as number[],
    reports: [] as { unconfirmedAgeMs: number | null; sinceAckMs: number | null }[],
    lagging: 0,
  }
  const events: CoreEvents = {
    commitLag: (ms) => seen.commit.push(ms),
    ackLag: (to, ms) => seen.ack.push([to, ms]),
    relayLag: (ms) => seen.relay.push(ms),
    fanOutLag: (ms) => seen.fanOut.push(ms),
    clientReport: (r) => seen.reports.push(r),
    laggingConnections: (d) => (seen.lagging += d),
  }
  return { seen, events }
}

describe('lag', () => {
  it('[LAG-1] a client update’s commit lag is from its receipt to the end of its commit', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const { seen, events } = recorder()
    const c = core(store, { events })
    const a = new Client(c, 's1', 'w')
    await time.runAll()
    store.hold = true
    a.type('milk')
    a.type(' eggs')
    await time.runTurns()
    await time.advance(250)
    store.release()
    await time.runAll()
    expect(seen.commit).toEqual([250, 250])
  })

  it('[LAG-2] the writer hears at once, the others within ACK_OTHERS_EVERY_MS: both observed', async () => {
    const { time, core } = world()
    const { seen, events } = recorder()
    const c = core(new ControlledStore(), { events })
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    await time.runAll()
    seen.ack.length = 0
    a.type('milk')
    await time.runAll()
    expect(seen.ack).toEqual([
      ['writer', 0],
      ['member', ACK_OTHERS_EVERY_MS],
    ])
    expect(a.saved && b.saved).toBe(true)
  })

  it('[LAG-3] a turn’s updates are relayed with their lag once, when another member is there to get them', async () => {
    const { time, core } = world()
    const { seen, events } = recorder()
    const c = core(new ControlledStore(), { events })
    const a = new Client(c, 's1', 'w')
    await time.runAll()
    a.type('alone')
    await time.runAll()
    expect(seen.relay).toEqual([])
    const b = new Client(c, 's1', 'w')
    await time.runAll()
    a.type('!')
    a.type('?')
    await time.runAll()
    // stepped time does not move inside a turn: the relay at the turn's end is 0 ms after the receipt
    expect(seen.relay).toEqual([0])
    expect(b.text).toBe('alone!?')
  })

  it('[LAG-4] an update from another instance is observed with the time since it was published', async () => {
    const { time, core } = world()
    // the publishing instance's clock runs 40 ms behind this one's
    const hub = new MemoryFanOutHub(time, { now: () => time.now() - 40 })
    const store = new ControlledStore(true)
    const { seen, events } = recorder()
    const one = core(store, { fanOut: hub.instance() })
    const two = core(store, { fanOut: hub.instance(), events })
    const a = new Client(one, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    await time.runAll()
    a.type('milk')
    await time.runAll()
    expect(b.text).toBe('milk')
    expect(seen.fanOut).toEqual([40])
  })

  it('[LAG-5] a device’s report is observed; it counts as lagging while its oldest unconfirmed change is past laggingAfterMs', async () => {
    const { time, core } = world()
    const { seen, events } = recorder()
    const c = core(new ControlledStore(), { events, limits: { laggingAfterMs: 10_000 } })
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    await time.runAll()
    a.send({ type: 'report', unconfirmedAgeMs: 15_000, sinceAckMs: 20_000 })
    b.send({ type: 'report', unconfirmedAgeMs: 3_000, sinceAckMs: null })
    expect(seen.reports).toEqual([
      { unconfirmedAgeMs: 15_000, sinceAckMs: 20_000 },
      { unconfirmedAgeMs: 3_000, sinceAckMs: null },
    ])
    expect(seen.lagging).toBe(1)
    // another lagging report counts once; a report with nothing unconfirmed ends it
    a.send({ type: 'report', unconfirmedAgeMs: 16_000, sinceAckMs: 21_000 })
    expect(seen.lagging).toBe(1)
    a.send({ type: 'report', unconfirmedAgeMs: null, sinceAckMs: 0 })
    expect(seen.lagging).toBe(0)
    // a lagging connection that closes leaves the count
    b.send({ type: 'report', unconfirmedAgeMs: 60_000, sinceAckMs: 60_000 })
    expect(seen.lagging).toBe(1)
    b.drop()
    expect(seen.lagging).toBe(0)
  })
})
