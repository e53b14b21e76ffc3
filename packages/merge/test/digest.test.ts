/**
 * PROBE-1: the state digest the convergence probe compares (digest.ts) — equal on replicas that hold
 * the same state, different when they differ at the same version vector (on Yjs, by a deletion).
 */
import { describe, expect, it } from 'vitest'
import { type EngineKind, type YjsEngine, createSpace, loadEngine, openSpace } from '../src/index.js'

describe.each(['yjs', 'automerge'] as const)('the state digest on %s', (engine: EngineKind) => {
  it('[PROBE-1] replicas that exchanged everything have one digest, whatever order they got it in', async () => {
    await loadEngine(engine)
    const a = createSpace({ engine, name: 'Home' })
    const b = openSpace({ engine, spaceId: a.id, state: a.encodeStateAsUpdate() })
    a.addItem('Milk')
    b.addItem('Bread')
    const fromA = a.encodeStateAsUpdate(b.stateVector())
    const fromB = b.encodeStateAsUpdate(a.stateVector())
    a.applyUpdate(fromB)
    b.applyUpdate(fromA)
    expect(a.stateDigest()).toEqual(b.stateDigest())
    a.addItem('Eggs')
    expect(a.stateDigest()).not.toEqual(b.stateDigest())
    a.destroy()
    b.destroy()
  })
})

describe('the state digest on yjs', () => {
  it('[PROBE-1] two replicas at one state vector that differ by a deletion have different digests', () => {
    const a = createSpace({ engine: 'yjs', name: 'Home' })
    a.addItem('Milk')
    const b = openSpace({ engine: 'yjs', spaceId: a.id, state: a.encodeStateAsUpdate() })
    const note = a.createNote({ title: 'List', body: 'oat milk' })
    b.applyUpdate(a.encodeStateAsUpdate(b.stateVector()))
    expect(a.stateDigest()).toEqual(b.stateDigest())
    // a deletion moves no clock: the vectors stay equal, the states do not
    const before = a.stateVector()
    const doc = (a.engine as YjsEngine).doc
    doc.getText(`body:${note}`).delete(0, 4)
    expect(a.stateVector()).toEqual(before)
    expect([a.note(note)?.body, b.note(note)?.body]).toEqual(['milk', 'oat milk'])
    expect(a.stateDigest()).not.toEqual(b.stateDigest())
    a.destroy()
    b.destroy()
  })
})
