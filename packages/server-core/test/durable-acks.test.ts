/** Who hears that a change is saved, and when (SPEC.md ACK-3, ACK-4; PROTOCOL.md P4.1, P4.2). */
import { describe, expect, it } from 'vitest'
import { ACK_OTHERS_EVERY_MS } from '../src/durable-acks.js'
import { Client, ControlledStore, world } from './harness.js'

describe('durable acks', () => {
  it('[ACK-3] the writer hears at once, the other members within 100 ms, all of them the same bytes; a stock client never', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const [a, b, d] = [new Client(c, 's1', 'w'), new Client(c, 's1', 'w'), new Client(c, 's1', 'w')]
    const stock = new Client(c, 's1', 'w', false)
    await time.runAll()
    a.type('saved?')
    await time.runTurns()
    expect(a.saved).toBe(true) // its "saved" waits on this ack: sent with the commit
    expect(b.text).toBe('saved?')
    expect(b.saved || d.saved).toBe(false)
    await time.advance(ACK_OTHERS_EVERY_MS - 1)
    expect(b.saved || d.saved).toBe(false)
    await time.advance(1)
    expect(b.saved && d.saved).toBe(true)
    const ackOf = (cl: Client): Uint8Array =>
      cl.frames[cl.received.map((m) => m.type).lastIndexOf('durable-ack')]!
    expect(ackOf(b)).toBe(ackOf(a)) // encoded once, the same bytes object for every member
    expect(ackOf(d)).toBe(ackOf(a))
    expect(stock.got('durable-ack')).toEqual([])
  })

  it('[ACK-4] a client that says hello gets the current ack at once, and no member ever gets the same ack twice', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    a.type('one')
    await time.runAll()
    const b = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(b.received.slice(0, 3).map((m) => m.type)).toEqual(['sync-step1', 'hello', 'durable-ack'])
    expect(b.saved).toBe(true)
    for (let i = 0; i < 5; i++) {
      a.type(String(i))
      await time.runTurns()
      await time.advance(50)
    }
    await time.runAll()
    for (const cl of [a, b]) {
      const acks = cl.got('durable-ack').map((m) => (m.type === 'durable-ack' ? m.stateVector.join() : ''))
      expect(new Set(acks).size).toBe(acks.length)
      expect(cl.saved).toBe(true)
    }
  })
})
