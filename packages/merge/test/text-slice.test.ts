/**
 * editNote reads a note's length and the few characters it needs (textLength / textSlice) instead of
 * the whole body. These must agree with the whole body, whatever the item structure underneath:
 * concurrent inserts from several replicas, deletions, surrogate pairs.
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AutomergeEngine } from '../src/automerge/index.js'
import * as Y from 'yjs'
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

describe('yjs: positions are found from the last one looked up (the finger), never wrongly', () => {
  it(
    'after every edit — local, remote, typed in runs, merged at transaction end — slices, anchors and insertions agree with a walk from the start',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(edit, fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true })), {
            maxLength: 60,
          }),
          (steps) => {
            const a = new YjsEngine('0000000000000001')
            const b = new YjsEngine('0000000000000002')
            a.transact('t', (w) => w.createText('n', 'start'))
            b.applyUpdate(a.encodeStateAsUpdate(), 'sync')
            let typed = 0
            for (const [e, remote, probe] of steps) {
              const r = remote ? b : a
              const len = r.textLength('n')
              // runs of typing at one place, as a person types, and jumps elsewhere
              const index = e.del === 0 && typed > 0 && typed <= len ? typed : Math.floor(e.at * len)
              const del = Math.min(e.del, len - index)
              r.transact('t', (w) => w.spliceText('n', index, del, e.text, index === typed))
              typed = index + e.text.length
              if (remote) a.applyUpdate(b.encodeStateAsUpdate(a.stateVector()), 'sync')
              const body = a.text('n')
              const at = Math.floor(probe * body.length)
              expect(a.textSlice('n', at, at + 3)).toBe(body.slice(at, at + 3))
              const rel = a.anchor('n', at).value as Y.RelativePosition
              const expected = Y.createRelativePositionFromTypeIndex(a.doc.getText('body:n'), at)
              expect(Y.encodeRelativePosition(rel)).toEqual(Y.encodeRelativePosition(expected))
              expect(a.insertion('n', at, 1).value).toEqual(
                expected.item
                  ? { client: expected.item.client, clock: expected.item.clock, length: 1 }
                  : null,
              )
            }
            b.applyUpdate(a.encodeStateAsUpdate(b.stateVector()), 'sync')
            expect(b.text('n')).toBe(a.text('n'))
          },
        ),
        fuzzParams(100, 'finger yjs'),
      )
    },
    fuzzTimeout,
  )
})
