/**
 * RELAY-5: a turn's updates joined by concatenation apply as the update Yjs's merge makes, or are left to it.
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
  it("[RELAY-5] a turn joined block by block (clients side by side, one client's following clocks as one block) applies as its Yjs merge does; a gap is left to the merge", () => {
    console.log(`[RELAY-5] seed ${seed}, ${numRuns} runs (replay: RELAY_SEED=${seed})`)
    let joined = 0
    let left = 0
    fc.assert(
      fc.property(
        fc.array(edit, { maxLength: 12 }), // the shared start
        // each update: its writer, its edits, and whether the turn misses it (a gap in that writer's clocks)
        fc.array(fc.tuple(fc.nat(3), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.nat(5)), {
          minLength: 2,
          maxLength: 8,
        }),
        (base, turn) => {
          const start = new Y.Doc()
          start.clientID = 1
          base.forEach((e) => play(start, e))
          const baseState = Y.encodeStateAsUpdate(start)
          // a replica per writer (ids 10…13); each update one transaction of its edits
          const writers = new Map<number, Y.Doc>()
          const updates: Uint8Array[] = []
          for (const [w, edits, lost] of turn) {
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
            if (u && lost !== 0) updates.push(u)
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
          // one client's clock ranges, in clock order, must follow each other
          const ranges = new Map<number, [number, number][]>()
          for (const u of updates) {
            const meta = Y.parseUpdateMeta(u)
            for (const [client, to] of meta.to) {
              const list = ranges.get(client) ?? []
              list.push([meta.from.get(client) ?? 0, to])
              ranges.set(client, list)
            }
          }
          const gapless = [...ranges.values()].every((l) =>
            l.sort((a, b) => a[0] - b[0]).every((r, i) => i === 0 || r[0] === l[i - 1]![1]),
          )
          if (!gapless) {
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
