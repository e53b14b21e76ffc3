/** Who receives what, batched per turn (SPEC.md RELAY-1…RELAY-4; PROTOCOL.md P4.3). */
import { type Message, decodeMessage } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { FanOut } from '../src/index.js'
import { RELAY_BATCH_BYTES } from '../src/relay.js'
import { Client, ControlledStore, world } from './harness.js'

/** A FanOut that records what its instance publishes. */
const recording = (inner: FanOut): FanOut & { sent: Message[] } => {
  const sent: Message[] = []
  return {
    sent,
    publish: (spaceId, message) => {
      sent.push(decodeMessage(message))
      inner.publish(spaceId, message)
    },
    subscribe: (spaceId, listener) => inner.subscribe(spaceId, listener),
    close: () => inner.close(),
  }
}

/** The clients whose structs an update holds. */
const authors = (m: Message): number[] =>
  m.type === 'sync-update' ? [...Y.parseUpdateMeta(m.update).to.keys()].sort() : []

describe('relay', () => {
  it('[RELAY-1] the updates of one turn reach each other member as one merged frame, the same bytes for all; a writer gets only the others\u2019', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const [a, b, r1, r2] = [
      new Client(c, 's1', 'w'),
      new Client(c, 's1', 'w'),
      new Client(c, 's1', 'r'),
      new Client(c, 's1', 'r'),
    ]
    await time.runTurns()
    a.type('from a ')
    b.type('from b ')
    await time.runTurns()
    const [ida, idb] = [a.doc.clientID, b.doc.clientID]
    expect(r1.got('sync-update').map(authors)).toEqual([[ida, idb].sort()])
    const frameOf = (cl: Client): Uint8Array =>
      cl.frames[cl.received.findIndex((m) => m.type === 'sync-update')]!
    expect(frameOf(r2)).toBe(frameOf(r1)) // encoded once
    expect(a.got('sync-update').map(authors)).toEqual([[idb]])
    expect(b.got('sync-update').map(authors)).toEqual([[ida]])
    expect(new Set([a.text, b.text, r1.text, r2.text]).size).toBe(1)
  })

  it('[RELAY-2] relay does not wait for the commit', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    await time.runTurns()
    store.hold = true
    a.type('early')
    await time.runAll()
    expect(b.text).toBe('early') // relayed…
    expect(a.saved || b.saved).toBe(false) // …but not acknowledged: it is not stored yet
    store.release()
    await time.runAll()
    expect(a.saved && b.saved).toBe(true)
  })

  it('[RELAY-3] to the other instances goes what did not come from them', async () => {
    const store = new ControlledStore()
    const { time, hub, core } = world()
    const fanTwo = recording(hub.instance())
    const one = core(store, { fanOut: hub.instance() })
    const two = core(store, { fanOut: fanTwo })
    const a = new Client(one, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    await time.runAll()
    const updatesFromTwo = (): Message[] => fanTwo.sent.filter((m) => m.type === 'sync-update')
    a.type('from one')
    await time.runAll()
    expect(b.text).toBe('from one') // relayed to two's members…
    expect(updatesFromTwo()).toEqual([]) // …and never published back
    b.type(' from two')
    await time.runAll()
    expect(updatesFromTwo().map(authors)).toEqual([[b.doc.clientID]])
    expect(a.text).toBe('from one from two')
  })

  it('[RELAY-4] a turn past RELAY_BATCH_BYTES is sent at once, not at the end of the turn', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    await time.runTurns()
    a.type('x'.repeat(RELAY_BATCH_BYTES + 1))
    expect(time.pendingTurns).toBeGreaterThan(0) // the turn is not over…
    expect(b.got('sync-update')).toHaveLength(1) // …and b has it already
    a.type('small')
    expect(b.got('sync-update')).toHaveLength(1) // a small one waits for the end of the turn
    await time.runTurns()
    expect(b.got('sync-update')).toHaveLength(2)
    expect(b.text).toBe(a.text)
  })
})
