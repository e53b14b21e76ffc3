/**
 * Frozen fixtures (test/fixtures/*.bin, written once by test/fixtures/generate.ts):
 * - `<engine>-valid.bin`: a small space stored by this version. It must keep loading, with exactly this
 *   content, in every later version (a compatibility guard: never regenerate it to make this test pass).
 * - `<engine>-truncated.bin`: the valid bytes cut in half (BAD-2).
 * - `<engine>-foreign.bin`: an update of a plain Yjs / Automerge document that is not a space (BAD-3).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type EngineKind, type Space, isMergeError, openSpace } from '../src/index.js'
import { ENGINES, bytesOf, stateOf } from './harness.js'

const SPACE_ID = 'fixture-space'

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)))

let replicaCounter = 0xb0
const open = (engine: EngineKind, state?: Uint8Array): Space => {
  const n = ++replicaCounter
  const s = openSpace({ engine, spaceId: SPACE_ID, replicaId: n.toString(16).padStart(16, '0') })
  if (state) s.applyUpdate(state, 'load')
  return s
}

const expectFixtureContent = (s: Space): void => {
  expect(s.name).toBe('Fixture space')
  expect(s.schemaVersion).toBe(1)
  expect(s.items()).toEqual([
    {
      key: 'milk',
      name: 'Milk',
      quantity: 2,
      note: '',
      unit: 'l',
      priceCents: 129,
      category: '',
      checked: false,
      checkedBy: null,
      order: 'a0',
      // CART-11: lines added before the rule read as added by nobody known, at no known time
      addedBy: null,
      addedAt: null,
    },
    {
      key: 'eggs',
      name: 'Eggs',
      quantity: 1,
      note: '',
      unit: '',
      priceCents: null,
      category: '',
      checked: true,
      checkedBy: 'ana',
      order: 'a1',
      addedBy: null,
      addedAt: null,
    },
  ])
  expect(s.totals()).toEqual({ items: 2, quantity: 3, checked: 1, priceCents: 258, unpriced: 1 })
  expect(s.notes()).toEqual([
    {
      id: 'party',
      title: 'Party',
      body: 'Bring chips and dip',
      createdAt: 1_700_000_000_002,
      createdBy: '00000000000000aa',
      updatedAt: 1_700_000_000_003,
      trashed: false,
      trashedAt: null,
      pinnedAt: null,
    },
  ])
  expect(s.notes({ trashed: true })).toEqual([])
  // rules added since the fixture was frozen read their defaults (SPACE-1, PEOPLE-1, CART-12)
  expect(s.currency).toBeNull()
  expect(s.members()).toEqual([])
  expect(s.itemHistory().map((r) => [r.key, r.visible, r.addedAt])).toEqual([
    ['eggs', true, null],
    ['milk', true, null],
  ])
}

/** Applies `bytes`, expecting a MergeError of `kind` and no change at all. */
const expectRejected = (s: Space, bytes: Uint8Array, kind: 'MalformedUpdate' | 'ForeignDocument'): void => {
  const beforeBytes = bytesOf(s)
  const beforeState = stateOf(s)
  let error: unknown
  try {
    s.applyUpdate(bytes, 'fixture')
  } catch (e) {
    error = e
  }
  expect(isMergeError(error, kind), String(error)).toBe(true)
  expect(bytesOf(s)).toEqual(beforeBytes)
  expect(stateOf(s)).toBe(beforeState)
}

describe.each(ENGINES)('%s', (engine) => {
  const valid = fixture(`${engine}-valid.bin`)
  const truncated = fixture(`${engine}-truncated.bin`)
  const foreign = fixture(`${engine}-foreign.bin`)

  it('[BAD-1] the frozen valid update (2 items, 1 note) still applies, with exactly its content', () => {
    expectFixtureContent(open(engine, valid))
    // and as stored state given to openSpace
    expectFixtureContent(openSpace({ engine, spaceId: SPACE_ID, state: valid }))
  })

  it('[DLV-1] the frozen valid update applied twice changes nothing', () => {
    const s = open(engine, valid)
    const before = bytesOf(s)
    s.applyUpdate(valid, 'again')
    expect(bytesOf(s)).toEqual(before)
    expectFixtureContent(s)
  })

  it('[BAD-2] the frozen truncated update is rejected and changes nothing', () => {
    expect(truncated.length).toBe(Math.floor(valid.length / 2))
    expectRejected(open(engine), truncated, 'MalformedUpdate')
    const loaded = open(engine, valid)
    expectRejected(loaded, truncated, 'MalformedUpdate')
    expectFixtureContent(loaded)
  })

  it('[BAD-3] the frozen foreign update is rejected and changes nothing', () => {
    expectRejected(open(engine), foreign, 'ForeignDocument')
    const loaded = open(engine, valid)
    expectRejected(loaded, foreign, 'ForeignDocument')
    expectFixtureContent(loaded)
  })
})
