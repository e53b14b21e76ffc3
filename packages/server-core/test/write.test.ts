/**
 * A change the server makes itself (SPEC.md WRITE-1…WRITE-3): the saga of a finished trip removes
 * the bought lines with one (apps/server trips.ts). It must be validated like a client's, be durable
 * before anyone can hold it, and be decided from a committed state.
 */
import { MergeError } from '@converge/merge'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MalformedVersion } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

/** An update that appends `text` to the note body the harness's clients type into, made on a doc of its own. */
function serverChange(base: Uint8Array, text: string): Uint8Array {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, base)
  const before = Y.encodeStateVector(doc)
  const t = doc.getText('body:n')
  t.insert(t.length, text)
  return Y.encodeStateAsUpdate(doc, before)
}

describe('a change the server makes itself', () => {
  it('[WRITE-1] a server change that does not validate throws MergeError and changes nothing', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    a.type('milk')
    await time.runAll()
    const appends = store.appends
    const writing = c.write('s1', new Uint8Array([0, 1, 2, 3, 250]), 'server:trip')
    await time.runAll()
    await expect(writing).rejects.toBeInstanceOf(MergeError)
    expect(store.appends).toBe(appends)
    expect(store.text('s1')).toBe('milk')
    expect(a.got('sync-update')).toHaveLength(0)
  })

  it('[WRITE-2] a server change is stored before any member holds it, then relayed and acknowledged', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    a.type('milk')
    await time.runAll()
    expect(b.text).toBe('milk')
    const read = c.read('s1')
    await time.runAll()
    const change = serverChange((await read).state, ' eggs')

    store.hold = true
    let version: Uint8Array | null = null
    const writing = c.write('s1', change, 'server:trip').then((v) => (version = v))
    // a client writes meanwhile: relayed at once as always, committed after the server's change
    a.type('!')
    await time.runAll()
    await time.advance(1000)
    expect(b.text).toBe('milk!')
    expect(a.text).toBe('milk!') // the server's change reaches nobody before it is stored
    expect(version).toBeNull()

    store.release()
    await time.runAll()
    await writing
    expect(version).not.toBeNull()
    const text = store.text('s1')
    expect(text).toContain(' eggs')
    expect(text).toContain('!')
    expect(a.text).toBe(text)
    expect(b.text).toBe(text)
    // the version it resolves with covers the change, and the members are told it is saved
    const committed = Y.decodeStateVector(version!)
    for (const [writer, clock] of Y.parseUpdateMeta(change).to) expect(committed.get(writer)).toBe(clock)
    await time.runAll()
    expect(a.saved).toBe(true)
    expect(b.saved).toBe(true)
  })

  it('[WRITE-2] a server change the storage fails resolves null, reaches nobody, and closes the space with 4503', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    a.type('milk')
    await time.runAll()
    const read = c.read('s1')
    await time.runAll()
    const change = serverChange((await read).state, ' eggs')
    store.failAppend = true
    const writing = c.write('s1', change, 'server:trip')
    await time.runAll()
    expect(await writing).toBeNull()
    expect(a.text).toBe('milk')
    expect(a.closed?.code).toBe(4503)
    store.failAppend = false
    expect(store.text('s1')).toBe('milk')
  })

  it('[WRITE-3] a settled read waits for what is in flight and says whether the state is exactly the committed version', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    a.type('milk')
    await time.runAll()
    store.hold = true
    a.type(' eggs')
    await time.runTurns()
    // without settle: the document holds what is not committed yet
    const quick = c.read('s1')
    await time.runTurns()
    const q = await quick
    expect(q.settled).toBe(false)
    let settledRead: Awaited<typeof quick> | null = null
    const slow = c.read('s1', { settle: true }).then((r) => (settledRead = r))
    await time.advance(100)
    expect(settledRead).toBeNull()
    store.release()
    await time.runAll()
    await slow
    expect(settledRead!.settled).toBe(true)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, settledRead!.state)
    expect(doc.getText('body:n').toJSON()).toBe('milk eggs')
    expect(settledRead!.version).toEqual(Y.encodeStateVector(doc))
  })

  it('[WRITE-3] an If-Match is compared as a version vector: the same clocks in other bytes match, an older one does not', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    a.type('milk')
    b.type('eggs')
    await time.runAll()
    const older = Y.encodeStateVector(new Map([[a.doc.clientID, 4]]))
    a.type('!')
    await time.runAll()
    const now = Y.decodeStateVector(a.acked!)
    // the same version in other bytes: one more writer, at clock 0 (nothing of it held)
    const reversed = Y.encodeStateVector(new Map([...now, [123456, 0]]))
    expect(reversed).not.toEqual(a.acked)
    const reads = [c.read('s1', { ifMatch: reversed }), c.read('s1', { ifMatch: older })]
    await time.runAll()
    const [same, stale] = await Promise.all(reads)
    expect(same!.matches).toBe(true)
    expect(stale!.matches).toBe(false)
    const bad = c.read('s1', { ifMatch: new Uint8Array([200]) })
    await time.runAll()
    await expect(bad).rejects.toBeInstanceOf(MalformedVersion)
  })
})
