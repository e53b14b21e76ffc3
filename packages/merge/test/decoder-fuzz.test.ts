/**
 * BAD-1 … BAD-3 under fuzzing: random bytes and mutated real updates given to `applyUpdate`, and random
 * bytes given to `encodeStateAsUpdate` as a state vector. Every input is either refused with a MergeError
 * (MalformedUpdate or ForeignDocument) that leaves the document byte-for-byte unchanged, or accepted as
 * data that leaves every query working and the replica able to converge with a peer. No other error
 * may ever escape.
 *
 * Reproduce a failure: MERGE_FUZZ_SEED=<seed> MERGE_FUZZ_PATH="<path>" npx vitest run test/decoder-fuzz.test.ts -t <engine>
 * with the seed and path fast-check prints; MERGE_FUZZ_RUNS=<n> for a longer run.
 */
import * as A from '@automerge/automerge'
import { readFileSync } from 'node:fs'
import * as fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeList, encodeList } from '../src/automerge/frame.js'
import { type EngineKind, type Space, isMergeError, openSpace } from '../src/index.js'
import { fuzzParams, fuzzTimeout } from './fuzz.js'
import { ENGINES, bytesOf, expectConverged, stateOf, syncAll } from './harness.js'

const RUNS = 200
const REJECTED = ['MalformedUpdate', 'ForeignDocument', 'MissingDependencies', 'InvalidValue']

interface Corpus {
  readonly spaceId: string
  /** What the replicas under test start from: a cart with items and a note. */
  readonly base: Uint8Array
  /** Real updates: the full states, and single changes made after `base` (which the replicas lack). */
  readonly updates: readonly Uint8Array[]
}

let clock = 1_700_000_000_000
const now = (): number => ++clock

/**
 * A replica with a fixed replica id and clock (the Yjs client id follows the replica id), so the Yjs corpus
 * bytes, and with them a failing seed, are the same in every run. Automerge stamps changes with the wall
 * clock, so its bytes differ in the time fields between runs.
 */
let replicaCounter = 0xf0
const replica = (engine: EngineKind, spaceId: string, state?: Uint8Array): Space => {
  const n = ++replicaCounter
  const s = openSpace({
    engine,
    spaceId,
    replicaId: n.toString(16).padStart(16, '0'),
    now,
    ...(state ? { state } : {}),
  })
  return s
}

const corpusOf = (engine: EngineKind): Corpus => {
  const s = replica(engine, 'fuzz-space')
  s.initialise('Fuzz')
  s.addItem('Milk', { quantity: 2, fields: { priceCents: 129, unit: 'l' } })
  s.addItem('Eggs')
  const note = s.createNote({ id: 'party', title: 'Party', body: 'Bring chips' })
  const base = s.encodeStateAsUpdate()
  const updates: Uint8Array[] = [base]
  s.onUpdate((u) => updates.push(u))
  s.increment('milk')
  s.editNote(note, 11, 0, ' and dip')
  s.check('eggs', 'ana')
  s.removeItem('eggs')
  s.trashNote(note)
  updates.push(s.encodeStateAsUpdate())
  s.destroy()
  return { spaceId: s.id, base, updates }
}

const replicaOf = (engine: EngineKind, c: Corpus): Space => replica(engine, c.spaceId, c.base)

const queries = (s: Space): unknown => [
  s.items(),
  s.totals(),
  s.notes(),
  s.notes({ trashed: true }),
  s.snapshot(),
]

/**
 * Applies `bytes` to a fresh replica and checks the contract. Returns whether the bytes were accepted.
 */
const check = (engine: EngineKind, c: Corpus, bytes: Uint8Array): boolean => {
  const target = replicaOf(engine, c)
  const beforeBytes = bytesOf(target)
  const beforeState = stateOf(target)
  let accepted = true
  try {
    target.applyUpdate(bytes, 'fuzz')
  } catch (e) {
    if (!isMergeError(e)) throw e // never anything but a MergeError
    expect(REJECTED, e.message).toContain(e.kind)
    accepted = false
  }
  if (!accepted) {
    expect(bytesOf(target), 'a rejected update changed the document').toEqual(beforeBytes)
    expect(stateOf(target), 'a rejected update changed the state').toBe(beforeState)
  }
  expect(() => queries(target)).not.toThrow()
  if (accepted) {
    // accepted data is just data: the replica still syncs and converges with a peer that has local changes
    const peer = replicaOf(engine, c)
    peer.addItem('Bread')
    peer.editNote('party', 0, 0, '> ')
    syncAll([target, peer])
    expect(() => queries(target)).not.toThrow()
    expectConverged([target, peer])
    peer.destroy()
  }
  target.destroy()
  return accepted
}

type Mutation =
  | { k: 'flip'; pos: number; bit: number }
  | { k: 'set' | 'insert'; pos: number; byte: number }
  | { k: 'delete' | 'truncate'; pos: number }

const pos = fc.nat(100_000)
const byte = fc.nat(255)
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), pos, bit: fc.nat(7) }),
  fc.record({ k: fc.constantFrom('set' as const, 'insert' as const), pos, byte }),
  fc.record({ k: fc.constantFrom('delete' as const, 'truncate' as const), pos }),
)

const mutate = (src: Uint8Array, muts: readonly Mutation[]): Uint8Array => {
  const b = [...src]
  for (const m of muts) {
    const i = b.length === 0 ? 0 : m.pos % b.length
    switch (m.k) {
      case 'flip':
        if (b.length > 0) b[i] = (b[i] ?? 0) ^ (1 << m.bit)
        break
      case 'set':
        if (b.length > 0) b[i] = m.byte
        break
      case 'insert':
        b.splice(m.pos % (b.length + 1), 0, m.byte)
        break
      case 'delete':
        b.splice(i, 1)
        break
      case 'truncate':
        b.length = i
        break
    }
  }
  return Uint8Array.from(b)
}

describe.each(ENGINES)('%s', (engine) => {
  const corpus = corpusOf(engine)

  it('[BAD-1] the corpus of real updates is accepted in order, and alone each is accepted or waits for its predecessors (sanity)', () => {
    const t = replicaOf(engine, corpus)
    for (const u of corpus.updates) t.applyUpdate(u)
    expect(t.items().map((i) => i.key)).toEqual(['milk'])
    t.destroy()
    expect(check(engine, corpus, corpus.updates[0]!)).toBe(true)
    expect(check(engine, corpus, corpus.updates[1]!)).toBe(true)
    expect(check(engine, corpus, corpus.updates[corpus.updates.length - 1]!)).toBe(true)
  })

  it(
    '[BAD-1] random bytes are refused with a MergeError that changes nothing, or applied harmlessly',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          check(engine, corpus, bytes)
        }),
        fuzzParams(RUNS, `BAD-1 bytes ${engine}`),
      )
    },
    fuzzTimeout,
  )

  if (engine === 'yjs')
    it('[BAD-1] an update whose delete set holds an empty range is refused before its structs are applied', () => {
      // found by the mutation fuzz below (seed -1249610206): a mutated corpus update whose structs Yjs
      // integrated before it threw on an empty deletion range, leaving the replica half-changed
      const bytes = new Uint8Array(
        readFileSync(new URL('./fixtures/yjs-mutated-empty-deletion.bin', import.meta.url)),
      )
      const empty = [...Y.decodeUpdate(bytes).ds.clients.values()].flat().some((d) => d.len === 0)
      expect(empty).toBe(true)
      expect(check(engine, corpus, bytes)).toBe(false) // refused, and the replica is unchanged
    })

  if (engine === 'yjs')
    it('[BAD-7] an update that writes a counter before its value and deletes the value is refused, so no replica is left without it', () => {
      // found by the mutation fuzz below (seed 187905926): one byte turned an increment's origin into a
      // right origin, so the new value landed before the current one (and was deleted as not current)
      // while the update deleted the current one — the accepting replica lost the line, and every peer
      // then refused its state ("qty.… is never deleted")
      const bytes = new Uint8Array(
        readFileSync(new URL('./fixtures/yjs-mutated-counter-before-value.bin', import.meta.url)),
      )
      const [struct] = Y.decodeUpdate(bytes).structs as Y.Item[]
      expect(struct?.rightOrigin).not.toBeNull()
      expect(check(engine, corpus, bytes)).toBe(false) // refused, and the replica is unchanged
    })

  if (engine === 'yjs')
    it('[BAD-7] an increment whose new value the same update deletes is refused, however its deletion ranges are ordered or overlap', () => {
      const base = replica(engine, 'ds-space')
      base.initialise('Ds')
      base.addItem('Milk')
      base.addItem('Eggs')
      const baseState = base.encodeStateAsUpdate()
      const doc = (base as unknown as { engine: { doc: Y.Doc } }).engine.doc
      const client = doc.clientID
      const k = Y.getState(doc.store, client) // the increment's new value gets this clock
      let increment: Uint8Array | undefined
      base.onUpdate((u) => (increment = u))
      base.increment('eggs')
      const { ds } = Y.decodeUpdate(increment!)
      const s = ds.clients.get(client)![0]! // the value it replaces
      expect(s.len).toBe(1)
      expect(k - s.clock).toBeGreaterThan(2) // eggs' fields were written after its counter
      // the increment's own bytes end with its delete set: swap it for one that also deletes the new
      // value, written so that a binary search over the ranges as they come misses it
      const writeDs = (ranges: [number, number][]): Uint8Array => {
        const e = encoding.createEncoder()
        encoding.writeVarUint(e, 1)
        encoding.writeVarUint(e, client)
        encoding.writeVarUint(e, ranges.length)
        for (const [clock, len] of ranges) {
          encoding.writeVarUint(e, clock)
          encoding.writeVarUint(e, len)
        }
        return encoding.toUint8Array(e)
      }
      const own = writeDs([[s.clock, 1]])
      expect(increment!.slice(increment!.length - own.length)).toEqual(own)
      const structs = increment!.slice(0, increment!.length - own.length)
      // the first range deletes eggs' counter, its fields and the new value; the two after it repeat
      // parts of it, where a binary search for the new value lands and goes right, past it
      for (const ranges of [
        [
          [s.clock, k - s.clock + 1],
          [s.clock + 1, 1],
          [s.clock + 2, 1],
        ],
        [
          [k, 1],
          [s.clock, 1],
        ],
        [
          [s.clock, 1],
          [k, 1],
        ],
      ] as [number, number][][]) {
        const hostile = Uint8Array.from([...structs, ...writeDs(ranges)])
        const target = replica(engine, 'ds-space', baseState)
        const before = bytesOf(target)
        let error: unknown
        try {
          target.applyUpdate(hostile, 'fuzz')
        } catch (e) {
          error = e
        }
        expect(isMergeError(error, 'InvalidValue'), `${JSON.stringify(ranges)}: ${String(error)}`).toBe(true)
        expect(bytesOf(target)).toEqual(before)
        expect(target.item('eggs')?.quantity).toBe(1)
        target.destroy()
      }
      base.destroy()
    })

  it(
    '[BAD-1] mutated real updates are refused with a MergeError that changes nothing, or applied harmlessly',
    () => {
      fc.assert(
        fc.property(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (which, muts) => {
          const src = corpus.updates[which % corpus.updates.length] ?? corpus.base
          check(engine, corpus, mutate(src, muts))
        }),
        fuzzParams(RUNS, `BAD-1 mutations ${engine}`),
      )
    },
    fuzzTimeout,
  )

  it(
    '[BAD-2] every strict prefix of a real update is refused as MalformedUpdate and changes nothing',
    () => {
      fc.assert(
        fc.property(fc.nat(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (which, cut) => {
          const src = corpus.updates[which % corpus.updates.length] ?? corpus.base
          const bytes = src.slice(0, Math.floor(cut * src.length))
          const target = replicaOf(engine, corpus)
          const before = bytesOf(target)
          let error: unknown
          try {
            target.applyUpdate(bytes, 'fuzz')
          } catch (e) {
            error = e
          }
          expect(
            isMergeError(error, 'MalformedUpdate'),
            `prefix ${bytes.length}/${src.length}: ${String(error)}`,
          ).toBe(true)
          expect(bytesOf(target)).toEqual(before)
          target.destroy()
        }),
        fuzzParams(RUNS, `BAD-2 ${engine}`),
      )
    },
    fuzzTimeout,
  )

  it(
    '[BAD-1] random state vectors give an update or a MergeError, never another error',
    () => {
      const s = replicaOf(engine, corpus)
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (sv) => {
          let update: Uint8Array | undefined
          try {
            update = s.encodeStateAsUpdate(sv)
          } catch (e) {
            if (!isMergeError(e)) throw e
            expect(e.kind).toBe('MalformedUpdate')
          }
          // what comes out is a real update: a fresh replica takes it
          if (update) replicaOf(engine, corpus).applyUpdate(update)
        }),
        fuzzParams(RUNS, `BAD-1 state vectors ${engine}`),
      )
    },
    fuzzTimeout,
  )
})

describe('known bad inputs', () => {
  it('[BAD-1] yjs: an update whose second item names a missing origin is refused and changes nothing', () => {
    // two structs of a new client 7: a valid map entry, then a text item whose origin 7:5 does not exist.
    // validateYjsUpdate only checks content kinds and parents, so Y.applyUpdate integrates the first
    // struct and then throws on the second: the MergeError comes after the document already changed.
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, 1) // one client
    encoding.writeVarUint(enc, 2) // two structs
    encoding.writeVarUint(enc, 7) // client 7
    encoding.writeVarUint(enc, 0) // from clock 0
    encoding.writeUint8(enc, 8 | 32) // ContentAny, with a parentSub
    encoding.writeVarUint(enc, 1) // parent: a root type, by name
    encoding.writeVarString(enc, 'items')
    encoding.writeVarString(enc, 'x\u001fname')
    encoding.writeVarUint(enc, 1)
    encoding.writeAny(enc, 'X')
    encoding.writeUint8(enc, 4 | 128) // ContentString, with an origin
    encoding.writeVarUint(enc, 7)
    encoding.writeVarUint(enc, 5) // origin 7:5: does not exist
    encoding.writeVarString(enc, 'c')
    encoding.writeVarUint(enc, 0) // empty delete set
    const s = replica('yjs', 'bad-origin')
    s.initialise('Bad')
    s.addItem('Milk')
    const before = bytesOf(s)
    expect(() => s.applyUpdate(encoding.toUint8Array(enc))).toThrow(/MalformedUpdate/)
    expect(s.snapshot().removed).toEqual([])
    expect(bytesOf(s)).toEqual(before)
  })

  it('[BAD-1] automerge: a refused batch of changes leaves the replica able to sync', () => {
    // a real change the replica lacks, then a copy of the next change re-signed by another actor (so its
    // seq and its pred name operations that actor never made). applyChanges fails half-way; the engine
    // throws MalformedUpdate but keeps the half-applied document, and from then on every
    // encodeStateAsUpdate panics inside Automerge (PanicError: MissingOps), which is not a MergeError.
    const s = replica('automerge', 'bad-actor')
    s.initialise('Bad')
    s.addItem('Milk')
    const base = s.encodeStateAsUpdate()
    const changes: Uint8Array[] = []
    s.onUpdate((u) => changes.push(...decodeList(u, 'update')))
    s.increment('milk')
    s.check('milk', 'ana')
    const [inc, chk] = changes
    if (!inc || !chk) throw new Error('two changes')
    const json = JSON.stringify(A.decodeChange(chk)).replaceAll(s.replicaId, '00000000000000b2')
    const forged = A.encodeChange(JSON.parse(json) as ReturnType<typeof A.decodeChange>)
    const t = replica('automerge', s.id, base)
    const before = bytesOf(t)
    expect(() => t.applyUpdate(encodeList([inc, forged]))).toThrow(/MalformedUpdate/)
    expect(bytesOf(t)).toEqual(before)
    expect(() => syncAll([t, s])).not.toThrow()
  })

  it('[BAD-1] automerge: a change corrupted in transit (checksum mismatch) is refused', () => {
    // one byte of a value changed: the chunk's stored checksum no longer matches its hash, but neither
    // validate() nor Automerge checks it, so the corrupt change is applied, and the genuine one (same actor
    // and seq) is refused forever after with "duplicate seq": the replicas can never converge again.
    const s = replica('automerge', 'corrupt')
    s.initialise('Corrupt')
    const base = s.encodeStateAsUpdate()
    const changes: Uint8Array[] = []
    s.onUpdate((u) => changes.push(...decodeList(u, 'update')))
    s.addItem('Eggs')
    const [genuine] = changes
    if (!genuine) throw new Error('one change')
    const corrupt = genuine.slice()
    corrupt[corrupt.indexOf('E'.charCodeAt(0))] = 'F'.charCodeAt(0)
    const t = replica('automerge', s.id, base)
    const before = bytesOf(t)
    expect(() => t.applyUpdate(encodeList([corrupt]))).toThrow(/MalformedUpdate/)
    expect(bytesOf(t)).toEqual(before)
    t.applyUpdate(encodeList([genuine]))
    expect(t.items().map((i) => i.name)).toEqual(['Eggs'])
  })
})
