/**
 * DLV-5: a state vector on the wire is a version vector on both engines, so the answer to one is
 * exactly what the asker lacks — checked against the changes themselves, for Automerge, where the
 * vector is merge's own encoding (`src/automerge/frame.ts`).
 */
import * as A from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeList, decodeVersionVector, encodeList, encodeVersionVector } from '../src/automerge/frame.js'
import { type Space, createSpace, openSpace } from '../src/index.js'
import { fuzzParams, fuzzTimeout } from './fuzz.js'

const RUNS = Number(process.env.MERGE_FUZZ_RUNS ?? 40)

/** The (actor, seq) of every change of an update. */
const changesOf = (update: Uint8Array): string[] =>
  decodeList(update, 'update').map((b) => {
    const c = A.decodeChange(b)
    return `${c.actor}:${c.seq}`
  })

/** A script of three replicas' steps: who, what (0 add a line, 1 a note, 2–3 sync from another), a text. */
type Script = [who: number, what: number, text: string][]

const SCRIPT = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.string()),
  { maxLength: 30 },
)

/** Three Automerge replicas of one space (one created it, one copied it, one empty) after `script`. */
function play(script: Script): Space[] {
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
  return replicas
}

describe('[DLV-5] the answer to a version vector is exactly what the asker lacks', () => {
  it(
    'Automerge: after random edits on three replicas and partial syncs, the answer holds each lacking change once and nothing else',
    () => {
      fc.assert(
        fc.property(SCRIPT, (script) => {
          const replicas = play(script)
          for (const asker of replicas)
            for (const answerer of replicas) {
              const answer = answerer.encodeStateAsUpdate(asker.stateVector())
              const held = new Set(changesOf(asker.encodeStateAsUpdate()))
              const lacking = changesOf(answerer.encodeStateAsUpdate()).filter((c) => !held.has(c))
              expect(changesOf(answer).sort()).toEqual(lacking.sort())
            }
        }),
        fuzzParams(RUNS, 'DLV-5 automerge'),
      )
    },
    fuzzTimeout,
  )

  it('Automerge: a vector that is not causally closed (the committed vector of a server among several instances) is answered with every change past its numbers, ancestors of what it holds included', () => {
    // b makes two changes; a builds on both. An instance that committed a's change and b's first only
    // (b's second was relayed by an instance that died before committing it) holds {a: 1, b: 1}
    const b = createSpace({ engine: 'automerge', spaceId: 'space-1' })
    b.addItem('milk')
    const a = openSpace({ engine: 'automerge', spaceId: 'space-1', state: b.encodeStateAsUpdate() })
    const bFirst = b.versionVector().get(b.replicaId)!
    b.increment('milk')
    a.applyUpdate(b.encodeStateAsUpdate(a.stateVector()), 'sync')
    a.increment('milk') // depends on b's second change
    const committed = encodeVersionVector(
      new Map([...a.versionVector()].map(([actor, seq]) => [actor, actor === b.replicaId ? bFirst : seq])),
    )
    const c = openSpace({ engine: 'automerge', spaceId: 'space-1', state: a.encodeStateAsUpdate() })
    for (const answerer of [a, c])
      expect(changesOf(answerer.encodeStateAsUpdate(committed))).toEqual([`${b.replicaId}:${bFirst + 1}`])
  })

  it(
    'Automerge: after random edits and partial syncs, any vector at or below what the answerer holds is answered with exactly the changes past its numbers',
    () => {
      fc.assert(
        fc.property(SCRIPT, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (script, cuts) => {
          const replicas = play(script)
          // the genesis is every replica's (it is the space id's): held whatever a vector says
          const genesis = new Set(
            changesOf(openSpace({ engine: 'automerge', spaceId: 'space-1' }).encodeStateAsUpdate()),
          )
          for (const answerer of replicas) {
            // every other actor cut anywhere at or below what the answerer holds: closed or not
            const vector = new Map(
              [...answerer.versionVector()].map(([actor, seq], i) => [
                actor,
                genesis.has(`${actor}:${seq}`) ? seq : cuts[i % 3]! % (seq + 1),
              ]),
            )
            const lacking = changesOf(answerer.encodeStateAsUpdate()).filter((c) => {
              const [actor, seq] = c.split(':')
              return !genesis.has(c) && Number(seq) > (vector.get(actor!) ?? 0)
            })
            const answer = changesOf(answerer.encodeStateAsUpdate(encodeVersionVector(vector)))
            expect(answer.sort()).toEqual(lacking.sort())
          }
        }),
        fuzzParams(RUNS, 'DLV-5 automerge, any vector'),
      )
    },
    fuzzTimeout,
  )

  it('[DLV-2] Automerge: an update listing its changes out of causal order (the log of several instances, concatenated) applies whole', () => {
    // a and b take turns, each change building on the other's: a note typed into by both
    const a = createSpace({ engine: 'automerge', spaceId: 'space-1' })
    const note = a.createNote({ title: 'list', body: 'milk' })
    const b = openSpace({ engine: 'automerge', spaceId: 'space-1', state: a.encodeStateAsUpdate() })
    const turns: Uint8Array[] = []
    for (const [who, other, text] of [
      [a, b, ' eggs'],
      [b, a, ' oats'],
      [a, b, ' tea'],
      [b, a, ' jam'],
    ] as const) {
      const before = who.stateVector()
      who.editNote(note, who.note(note)!.body.length, 0, text)
      const change = who.encodeStateAsUpdate(before)
      other.applyUpdate(change, 'sync')
      turns.push(change)
    }
    const all = [a.encodeStateAsUpdate(), ...turns].flatMap((u) => decodeList(u, 'update'))
    for (const order of [[...all].reverse(), [...all.slice(2), ...all.slice(0, 2)]]) {
      const fresh = openSpace({ engine: 'automerge', spaceId: 'space-1' })
      fresh.applyUpdate(encodeList(order), 'sync')
      expect(fresh.note(note)?.body).toBe('milk eggs oats tea jam')
      expect(fresh.snapshot()).toEqual(a.snapshot())
    }
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
