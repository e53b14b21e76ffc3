/**
 * DLV-5: a state vector on the wire is a version vector on both engines, so the answer to one is
 * exactly what the asker lacks — checked against the changes themselves, for Automerge, where the
 * vector is merge's own encoding (`src/automerge/frame.ts`).
 */
import * as A from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeList, decodeVersionVector, encodeVersionVector } from '../src/automerge/frame.js'
import { type Space, createSpace, openSpace } from '../src/index.js'
import { fuzzParams } from './fuzz.js'

const RUNS = Number(process.env.MERGE_FUZZ_RUNS ?? 40)

/** The (actor, seq) of every change of an update. */
const changesOf = (update: Uint8Array): string[] =>
  decodeList(update, 'update').map((b) => {
    const c = A.decodeChange(b)
    return `${c.actor}:${c.seq}`
  })

describe('[DLV-5] the answer to a version vector is exactly what the asker lacks', () => {
  it('Automerge: after random edits on three replicas and partial syncs, the answer holds each lacking change once and nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.string()), {
          maxLength: 30,
        }),
        (script) => {
          const first = createSpace({ engine: 'automerge', spaceId: 'space-1' })
          const replicas: Space[] = [
            first,
            openSpace({ engine: 'automerge', spaceId: 'space-1', state: first.encodeStateAsUpdate() }),
            openSpace({ engine: 'automerge', spaceId: 'space-1' }),
          ]
          for (const [who, what, text] of script) {
            const r = replicas[who]!
            if (what === 0) r.addItem(`item ${text.length % 5}`)
            else if (what === 1) r.createNote({ title: text.slice(0, 10) })
            else {
              const from = replicas[(who + what) % 3]!
              r.applyUpdate(from.encodeStateAsUpdate(r.stateVector()), 'sync')
            }
          }
          for (const asker of replicas)
            for (const answerer of replicas) {
              const answer = answerer.encodeStateAsUpdate(asker.stateVector())
              const held = new Set(changesOf(asker.encodeStateAsUpdate()))
              const lacking = changesOf(answerer.encodeStateAsUpdate()).filter((c) => !held.has(c))
              expect(changesOf(answer).sort()).toEqual(lacking.sort())
            }
        },
      ),
      fuzzParams(RUNS, 'DLV-5 automerge'),
    )
  })

  it('Automerge: a version vector survives its encoding; one that does not decode is a MergeError', () => {
    const v = new Map([
      ['00', 1],
      ['0123456789abcdef0123456789abcdef', 12],
    ])
    expect(decodeVersionVector(encodeVersionVector(v))).toEqual(v)
    for (const bad of [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([1, 0, 1]), // an actor of no bytes
      new Uint8Array([5, 1, 0xaa, 1]), // a count past the bytes given
      new Uint8Array([1, 1, 0xaa, 1, 9]), // trailing bytes
    ])
      expect(() => decodeVersionVector(bad)).toThrow(/MalformedUpdate|not an Automerge version vector/)
  })
})
