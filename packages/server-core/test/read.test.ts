/**
 * Reading a space without a socket (SPEC.md READ-1…READ-3): what `SyncCore.read` returns, and its
 * wait for a version — the server side of the HTTP read model's read-your-writes.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MalformedVersion } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

const textOf = (state: Uint8Array): string => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc.getText('body:n').toJSON()
}

describe('reading a space', () => {
  it('[READ-1] a read returns the whole document and the committed version; the space loads for it and unloads when idle', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { idleUnloadMs: 1000 } })
    const a = new Client(c, 's1', 'w')
    a.type('milk')
    await time.runAll()
    a.drop()
    await time.advance(1000)
    expect(c.loadedSpaces).toBe(0)
    const reading = c.read('s1')
    await time.runAll()
    const r = await reading
    expect(r.engine).toBe('yjs')
    expect(textOf(r.state)).toBe('milk')
    expect(r.version).toEqual(a.acked)
    expect(r.covered).toBe(true)
    expect(store.loads).toBe(2)
    await time.advance(1000)
    expect(c.loadedSpaces).toBe(0)
  })

  it('[READ-2] a read after a version waits until it is committed, and holds the write', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    await time.runAll()
    store.hold = true
    a.type('eggs')
    await time.runTurns()
    // the version the writer will be told once "eggs" is committed: its own state vector
    const after = Y.encodeStateVector(a.doc)
    let done = false
    const reading = c.read('s1', { after, waitMs: 5000 }).then((r) => {
      done = true
      return r
    })
    await time.advance(100)
    expect(done).toBe(false)
    store.release()
    await time.runAll()
    const r = await reading
    expect(r.covered).toBe(true)
    expect(textOf(r.state)).toBe('eggs')
    expect(Y.decodeStateVector(r.version).get(a.doc.clientID)).toBe(4)
  })

  it('[READ-2] a version that is not committed in time is answered as not covered, with what is committed', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    a.type('a')
    await time.runAll()
    const ahead = new Map([[a.doc.clientID, 99]])
    const reading = c.read('s1', { after: encodeYjsVector(ahead), waitMs: 2000 })
    await time.advance(1999)
    let done = false
    void reading.then(() => (done = true))
    await time.runTurns()
    expect(done).toBe(false)
    await time.advance(1)
    const r = await reading
    expect(r.covered).toBe(false)
    expect(Y.decodeStateVector(r.version).get(a.doc.clientID)).toBe(1)
  })

  it('[READ-3] an after that does not decode is MalformedVersion, before any wait', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const reading = c.read('s1', { after: new Uint8Array([0xff, 0xff, 0xff]), waitMs: 60_000 })
    await time.runAll()
    await expect(reading).rejects.toBeInstanceOf(MalformedVersion)
  })
})

/** A Yjs state vector from a map (the encoding durable acks carry on Yjs). */
function encodeYjsVector(v: Map<number, number>): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, v.size)
  for (const [client, clock] of v) {
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, clock)
  }
  return encoding.toUint8Array(e)
}
