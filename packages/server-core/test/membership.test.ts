/** Who is in a room, their presence, and when an empty room unloads (SPEC.md MEMBER-1, MEMBER-2). */
import { describe, expect, it } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Client, ControlledStore, world } from './harness.js'

/** Sends `state` as `client`'s presence; returns its awareness client id. */
const present = (client: Client, state: Record<string, unknown>): number => {
  const aw = new awarenessProtocol.Awareness(client.doc)
  aw.setLocalState(state)
  client.send({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(aw, [aw.clientID]) })
  aw.destroy()
  return aw.clientID
}

/** The presence states a client has been told of, by awareness client id (null: removed). */
const presence = (client: Client): Map<number, unknown> => {
  const aw = new awarenessProtocol.Awareness(new Y.Doc())
  for (const m of client.received)
    if (m.type === 'awareness') awarenessProtocol.applyAwarenessUpdate(aw, m.update, null)
  const states = new Map<number, unknown>(aw.getStates())
  aw.destroy()
  return states
}

describe('membership', () => {
  it('[MEMBER-1] a member\u2019s presence leaves with it, on this instance and on the others', async () => {
    const { time, hub, core } = world()
    const store = new ControlledStore()
    const one = core(store, { fanOut: hub.instance() })
    const two = core(store, { fanOut: hub.instance() })
    const a = new Client(one, 's1', 'w')
    const here = new Client(one, 's1', 'r')
    const there = new Client(two, 's1', 'r')
    await time.runAll()
    const ana = { user: { name: 'Ana', color: '#4f46e5' } }
    const id = present(a, ana)
    await time.runAll()
    expect(presence(here).get(id)).toEqual(ana)
    expect(presence(there).get(id)).toEqual(ana)
    a.drop()
    await time.runAll()
    expect(presence(here).has(id)).toBe(false)
    expect(presence(there).has(id)).toBe(false)
  })

  it('[MEMBER-2] an empty room unloads idleUnloadMs after its last member left; a member joining meanwhile keeps it', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { idleUnloadMs: 100 } })
    const a = new Client(c, 's1', 'w')
    a.type('kept')
    await time.runTurns()
    a.drop()
    await time.advance(99)
    expect(c.loadedSpaces).toBe(1)
    const b = new Client(c, 's1', 'w')
    await time.advance(1000)
    expect(c.loadedSpaces).toBe(1) // b is in: no countdown
    expect(store.loads).toBe(1) // the same room, not loaded again
    b.drop()
    await time.advance(99)
    expect(c.loadedSpaces).toBe(1)
    await time.advance(1)
    expect(c.loadedSpaces).toBe(0)
    expect(store.text('s1')).toBe('kept')
  })
})
