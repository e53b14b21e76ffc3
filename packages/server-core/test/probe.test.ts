/**
 * The convergence probe (SPEC.md PROBE-4…PROBE-7): a device or another instance at this room's
 * version must hold this room's state. A divergence is injected — a deletion one replica holds and
 * the other never got (a Yjs deletion moves no clock, so the versions stay equal) — and the probe
 * must see it, count it, and heal it by a full exchange.
 */
import { yjsStateDigest } from '@converge/merge/validate'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Origin } from '@converge/merge/validate'
import type { CoreEvents } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

const digestOf = (doc: Y.Doc) =>
  ({ type: 'digest', vector: Y.encodeStateVector(doc), hash: yjsStateDigest(doc) }) as const

function counting() {
  const divergences: string[] = []
  const events: CoreEvents = { divergence: (scope) => divergences.push(scope) }
  return { divergences, events }
}

describe('the convergence probe', () => {
  it('[PROBE-4][PROBE-5] a device at this version with another state is counted, logged and healed both ways', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const { divergences, events } = counting()
    const warnings: string[] = []
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_f: unknown, msg: string) => warnings.push(msg),
    }
    const c = core(store, { events, logger })
    const a = new Client(c, 's1', 'w')
    a.type('oat milk')
    await time.runAll()
    expect(a.saved).toBe(true)

    // in step: nothing to say
    a.send(digestOf(a.doc))
    await time.runAll()
    expect(divergences).toEqual([])

    // the device deletes "oat " and the update is lost on the way (applied with its own origin: not sent)
    Y.transact(a.doc, () => a.doc.getText('body:n').delete(0, 4), a)
    expect(a.text).toBe('milk')
    expect(store.text('s1')).toBe('oat milk')
    await time.advance(10_000)
    a.send(digestOf(a.doc))
    await time.runAll()
    expect(divergences).toEqual(['client'])
    expect(warnings.some((w) => w.startsWith('divergence: a device at this version'))).toBe(true)
    // healed: the server asked for everything, the device sent its deletion, and it is stored
    expect(store.text('s1')).toBe('milk')
    expect(a.text).toBe('milk')
    await time.advance(10_000)
    a.send(digestOf(a.doc))
    await time.runAll()
    expect(divergences).toEqual(['client'])
  })

  it('[PROBE-4] a digest at another version says nothing; digests faster than digestEveryMs are not compared', async () => {
    const { time, core } = world()
    const { divergences, events } = counting()
    const c = core(new ControlledStore(), { events, limits: { digestEveryMs: 5_000 } })
    const a = new Client(c, 's1', 'w')
    a.type('milk')
    await time.runAll()
    // another version: lag, not divergence
    const ahead = new Y.Doc()
    Y.applyUpdate(ahead, Y.encodeStateAsUpdate(a.doc))
    ahead.getText('body:n').insert(0, 'x')
    a.send(digestOf(ahead))
    await time.runAll()
    expect(divergences).toEqual([])
    // a diverged state sent again and again within the interval is compared once
    Y.transact(a.doc, () => a.doc.getText('body:n').delete(0, 1), a)
    await time.advance(5_000)
    for (let i = 0; i < 5; i++) a.send(digestOf(a.doc))
    await time.runAll()
    expect(divergences).toEqual(['client'])
  })

  it('[PROBE-4] a digest whose vector does not decode closes the connection as a malformed frame', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const a = new Client(c, 's1', 'w')
    await time.runAll()
    a.send({ type: 'digest', vector: new Uint8Array([0xff, 0xff, 0xff]), hash: new Uint8Array(32) })
    await time.runAll()
    expect(a.closed?.code).toBe(4400)
  })

  it('[PROBE-6] two instances at one version with different states find it after a change and heal over fan-out', async () => {
    const { time, hub, core } = world()
    const store = new ControlledStore(true)
    const { divergences, events } = counting()
    const one = core(store, { fanOut: hub.instance(), limits: { probeAfterChangeMs: 1_000 } })
    const two = core(store, { fanOut: hub.instance(), events, limits: { probeAfterChangeMs: 1_000 } })
    const a = new Client(one, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    a.type('oat milk')
    await time.runAll()
    await time.advance(2_000)
    expect(b.text).toBe('oat milk')
    expect(divergences).toEqual([])

    // instance one gets a deletion the other never hears of (as if its fan-out message were lost)
    const roomOne = one.loadedRoom('s1')!
    const lost = new Y.Doc()
    Y.applyUpdate(lost, Y.encodeStateAsUpdate(roomOne.doc))
    const before = Y.encodeStateVector(lost)
    lost.getText('body:n').delete(0, 4)
    roomOne.document.applyTrusted(Y.encodeStateAsUpdate(lost, before), Origin.CatchUp)
    expect(roomOne.doc.getText('body:n').toJSON()).toBe('milk')
    expect(two.loadedRoom('s1')!.doc.getText('body:n').toJSON()).toBe('oat milk')

    await time.advance(1_000)
    await time.runAll()
    expect(divergences).toEqual(['instance'])
    expect(two.loadedRoom('s1')!.doc.getText('body:n').toJSON()).toBe('milk')
    expect(b.text).toBe('milk')
  })
})
