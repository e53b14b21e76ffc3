/**
 * editNote reads a note's length and the few characters it needs (textLength / textSlice) instead of
 * the whole body. These must agree with the whole body, whatever the item structure underneath:
 * concurrent inserts from several replicas, deletions, surrogate pairs.
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AutomergeEngine } from '../src/automerge/index.js'
import { YjsEngine } from '../src/index.js'
import { fuzzParams, fuzzTimeout } from './fuzz.js'

const edit = fc.record({
  replica: fc.nat(2),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  del: fc.nat(4),
  text: fc.constantFrom('a', 'bc', '😀', 'déf', ''),
})

for (const kind of ['yjs', 'automerge'] as const) {
  describe(`${kind}: textLength and textSlice agree with the whole body`, () => {
    it(
      'after random edits from three replicas, merged',
      () => {
        fc.assert(
          fc.property(
            fc.array(edit, { maxLength: 40 }),
            fc.array(fc.tuple(fc.nat(60), fc.nat(60)), { maxLength: 10 }),
            (edits, ranges) => {
              const make = (id: string) =>
                kind === 'yjs' ? new YjsEngine(id) : new AutomergeEngine('space', id)
              const replicas = ['0000000000000001', '0000000000000002', '0000000000000003'].map(make)
              replicas[0]!.transact('t', (w) => w.createText('n', 'start'))
              for (const r of replicas.slice(1)) r.applyUpdate(replicas[0]!.encodeStateAsUpdate(), 'sync')
              for (const e of edits) {
                const r = replicas[e.replica]!
                const len = r.textLength('n')
                const index = Math.floor(e.at * len)
                const del = Math.min(e.del, len - index)
                r.transact('t', (w) => w.spliceText('n', index, del, e.text))
                if (e.replica === 0)
                  for (const o of replicas.slice(1)) o.applyUpdate(r.encodeStateAsUpdate(), 'sync')
              }
              for (const a of replicas)
                for (const b of replicas) if (a !== b) b.applyUpdate(a.encodeStateAsUpdate(), 'sync')
              for (const r of replicas) {
                const body = r.text('n')
                expect(r.textLength('n')).toBe(body.length)
                for (const [x, y] of ranges) {
                  const [start, end] = [Math.min(x, y), Math.max(x, y)]
                  expect(r.textSlice('n', start, end)).toBe(body.slice(start, end))
                }
              }
            },
          ),
          fuzzParams(60, `text-slice ${kind}`),
        )
      },
      fuzzTimeout,
    ) // a property run: seconds on a busy machine, not the 5 s of a unit test
  })
}
