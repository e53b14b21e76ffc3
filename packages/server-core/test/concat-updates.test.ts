/**
 * RELAY-5: a turn's updates joined by concatenation are the update Yjs's merge makes, or are left to it.
 * Property test: replay a failure with RELAY_SEED=<seed> (printed); RELAY_RUNS=<n> runs longer.
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { concatUpdates } from '../src/concat-updates.js'

const seed = Number(process.env.RELAY_SEED ?? Math.floor(Math.random() * 2 ** 31))
const numRuns = Number(process.env.RELAY_RUNS ?? 300)

type Edit =
  | { t: 'type'; at: number; text: string }
  | { t: 'erase'; at: number; len: number }
  | { t: 'set'; key: string; value: number | string | boolean | null }
  | { t: 'unset'; key: string }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    t: fc.constant('type' as const),
    at: fc.nat(40),
    text: fc.constantFrom('a', 'xy', 'é', '😀', ' milk'),
  }),
  fc.record({ t: fc.constant('erase' as const), at: fc.nat(40), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    t: fc.constant('set' as const),
    key: fc.constantFrom('milk\u001fnote', 'eggs\u001fname', 'name'),
    value: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null)),
  }),
  fc.record({ t: fc.constant('unset' as const), key: fc.constantFrom('milk\u001fnote', 'name') }),
)

const play = (doc: Y.Doc, e: Edit): void => {
  const text = doc.getText('body:n1')
  const map = doc.getMap('items')
  if (e.t === 'type') text.insert(Math.min(e.at, text.length), e.text)
  else if (e.t === 'erase') {
    const at = Math.min(e.at, text.length)
    text.delete(at, Math.min(e.len, text.length - at))
  } else if (e.t === 'set') map.set(e.key, e.value)
  else map.delete(e.key)
}

const stateOf = (doc: Y.Doc) => ({
  text: doc.getText('body:n1').toJSON(),
  items: doc.getMap('items').toJSON(),
  sv: [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort(),
  ds: [...Y.createDeleteSetFromStructStore(doc.store).clients].sort(),
})

describe('concatUpdates', () => {
  it('[RELAY-5] updates of different clients joined side by side apply as their Yjs merge does; others are left to the merge', () => {
    console.log(`[RELAY-5] seed ${seed}, ${numRuns} runs (replay: RELAY_SEED=${seed})`)
    let joined = 0
    let left = 0
    fc.assert(
      fc.property(
        fc.array(edit, { maxLength: 12 }), // the shared start
        fc.array(fc.tuple(fc.nat(3), fc.array(edit, { minLength: 1, maxLength: 3 })), {
          minLength: 2,
          maxLength: 6,
        }),
        (base, turn) => {
          const start = new Y.Doc()
          start.clientID = 1
          base.forEach((e) => play(start, e))
          const baseState = Y.encodeStateAsUpdate(start)
          // a replica per writer (ids 10…13); each update one transaction of its edits
          const writers = new Map<number, Y.Doc>()
          const updates: Uint8Array[] = []
          for (const [w, edits] of turn) {
            let doc = writers.get(w)
            if (!doc) {
              doc = new Y.Doc()
              doc.clientID = 10 + w
              Y.applyUpdate(doc, baseState)
              writers.set(w, doc)
            }
            let u: Uint8Array | null = null
            const take = (x: Uint8Array): void => void (u = x)
            doc.on('update', take)
            doc.transact(() => edits.forEach((e) => play(doc, e)))
            doc.off('update', take)
            if (u) updates.push(u)
          }
          if (updates.length < 2) return
          const concat = concatUpdates(updates)
          const merged = Y.mergeUpdates(updates)
          const apply = (u: Uint8Array): Y.Doc => {
            const d = new Y.Doc()
            Y.applyUpdate(d, baseState)
            Y.applyUpdate(d, u)
            return d
          }
          const metas = updates.map((u) => [...Y.parseUpdateMeta(u).to.keys()])
          const structClients = metas.flat()
          const dsClients = updates.flatMap((u) => [...Y.decodeUpdate(u).ds.clients.keys()])
          const distinct = (l: number[]): boolean => new Set(l).size === l.length
          if (!distinct(structClients) || !distinct(dsClients)) {
            expect(concat).toBeNull()
            left++
            return
          }
          expect(concat).not.toBeNull()
          joined++
          expect(stateOf(apply(concat!))).toEqual(stateOf(apply(merged)))
          // and what Yjs reads of it holds the same clocks
          const clocks = (u: Uint8Array) => [...Y.decodeStateVector(Y.encodeStateVectorFromUpdate(u))].sort()
          expect(clocks(concat!)).toEqual(clocks(merged))
        },
      ),
      { seed, numRuns },
    )
    // both paths were taken (the runs are random, the counts are not asserted exactly)
    expect(joined).toBeGreaterThan(0)
    expect(left).toBeGreaterThan(0)
  })

  it('[RELAY-5] bytes that do not parse as an update, or content a space never holds, are left to the merge', () => {
    const a = new Y.Doc()
    a.clientID = 5
    let u: Uint8Array | null = null
    a.on('update', (x: Uint8Array) => void (u = x))
    a.getText('body:n1').insert(0, 'x')
    const good = u!
    expect(concatUpdates([good, new Uint8Array([1, 2, 3])])).toBeNull()
    expect(concatUpdates([good, new Uint8Array([...good, 0])])).toBeNull() // a trailing byte
    const b = new Y.Doc()
    b.clientID = 6
    b.on('update', (x: Uint8Array) => void (u = x))
    b.getArray('list').insert(0, [new Y.Map()]) // a nested type: ContentType
    expect(concatUpdates([good, u!])).toBeNull()
  })
})
