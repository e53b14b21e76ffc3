/** A space as one file and back (SPEC.md EXPORT-1…EXPORT-4), on both engines. */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type EngineKind,
  MAX_EXPORT_ENTRIES,
  Origin,
  type Space,
  createSpace,
  exportSpace,
  isMergeError,
  loadEngine,
  mergeExport,
  openSpace,
  readExport,
  replayExport,
} from '../src/index.js'

beforeAll(() => loadEngine('automerge'))

const ENGINES: readonly EngineKind[] = ['yjs', 'automerge']

/** A space a household would have: priced and checked lines, a pinned note, one in the trash. */
function household(engine: EngineKind): Space {
  const s = createSpace({ engine, name: 'Flat 3' })
  s.addItem('Milk', { quantity: 2, fields: { priceCents: 129, unit: 'l' } })
  s.addItem('Bread', { fields: { category: 'bakery', note: 'sliced' } })
  s.addItem('Eggs', { quantity: 12 })
  s.check(s.item('bread')!.key, 'Sam')
  const recipe = s.createNote({ title: 'Pancakes', body: 'flour, milk, eggs' })
  s.pinNote(recipe)
  const old = s.createNote({ title: 'Old list', body: 'gone' })
  s.trashNote(old)
  return s
}

/** What a person sees of a space: its lines and notes, without ids or times. */
const seen = (s: Space) => ({
  name: s.name,
  cart: s
    .items()
    .map((i) => [i.name, i.quantity, i.unit, i.note, i.category, i.priceCents, i.checked, i.checkedBy]),
  notes: s.notes().map((n) => [n.title, n.body, n.pinnedAt !== null]),
  trash: s.notes({ trashed: true }).map((n) => [n.title, n.body]),
})

/** Through a file: stringify, parse, read. */
const throughFile = (s: Space) => readExport(JSON.parse(JSON.stringify(exportSpace(s))))

describe.each(ENGINES)('%s export', (engine) => {
  it('[EXPORT-1] the file is readable JSON of the cart and notes, with the engine, schema and state', () => {
    const s = household(engine)
    const file = throughFile(s)
    expect(file).toMatchObject({
      format: 'converge-space',
      formatVersion: 1,
      engine,
      spaceId: s.id,
      name: 'Flat 3',
    })
    expect(file.schemaVersion).toBe(s.schemaVersion)
    expect(file.cart.map((l) => [l.name, l.quantity, l.checked])).toEqual([
      ['Milk', 2, false],
      ['Bread', 1, true],
      ['Eggs', 12, false],
    ])
    expect(file.notes.map((n) => [n.title, n.pinned, n.trashed])).toEqual([
      ['Pancakes', true, false],
      ['Old list', false, true],
    ])
    expect(file.state.length).toBeGreaterThan(0)
  })

  it.each(ENGINES)(
    '[EXPORT-2] imported as a new space on %s, it holds the same cart, notes and trash',
    (target) => {
      const s = household(engine)
      const copy = replayExport(throughFile(s), () => createSpace({ engine: target }))
      expect(copy.id).not.toBe(s.id)
      expect(copy.engineKind).toBe(target)
      expect(seen(copy)).toEqual(seen(s))
      // and it is a space like any other: it round-trips through its own state
      expect(
        seen(openSpace({ engine: target, spaceId: copy.id, state: copy.encodeStateAsUpdate() })),
      ).toEqual(seen(copy))
    },
  )

  it('[EXPORT-3] imported into the same space, it merges with what was changed since, nothing lost on either side', () => {
    const a = household(engine)
    const b = openSpace({ engine, spaceId: a.id, state: a.encodeStateAsUpdate() })
    // after the copy: a goes on, and b changes the same things offline
    a.increment(a.item('milk')!.key)
    a.addItem('Tea')
    b.increment(b.item('milk')!.key, 3)
    b.addItem('Jam')
    mergeExport(b, throughFile(a))
    expect(b.item('milk')?.quantity).toBe(6) // 2 + 1 + 3: both increments count (CART-2)
    expect(
      b
        .items()
        .map((i) => i.name)
        .sort(),
    ).toEqual(['Bread', 'Eggs', 'Jam', 'Milk', 'Tea'])
    // a, merging b back, reaches the same state
    a.applyUpdate(b.encodeStateAsUpdate(), Origin.Remote)
    expect(a.snapshot()).toEqual(b.snapshot())
  })
})

describe('[EXPORT-4] a file is untrusted input', () => {
  const valid = () => JSON.parse(JSON.stringify(exportSpace(household('yjs')))) as Record<string, unknown>
  const refused = (json: unknown, kind = 'InvalidArgument'): void => {
    let err: unknown
    try {
      readExport(json)
    } catch (e) {
      err = e
    }
    expect(isMergeError(err, kind as 'InvalidArgument')).toBe(true)
  }

  it('[EXPORT-4] a file of the wrong shape is refused by name before anything is applied', () => {
    refused(null)
    refused([])
    refused({ ...valid(), format: 'something-else' })
    refused({ ...valid(), engine: 'crdt-x' })
    refused({ ...valid(), cart: 'milk' })
    refused({ ...valid(), cart: [{ name: 'Milk' }] })
    refused({ ...valid(), cart: [{ ...(valid().cart as object[])[0], quantity: '2' }] })
    refused({ ...valid(), notes: [{ id: 'n', title: 1 }] })
    refused({ ...valid(), state: 'not base64!' })
    refused({ ...valid(), cart: Array.from({ length: MAX_EXPORT_ENTRIES + 1 }, () => ({})) })
    refused({ ...valid(), formatVersion: 2 }, 'SchemaTooNew')
  })

  it('[EXPORT-4] values a command refuses fail the whole import: no half-imported space is left', () => {
    const file = readExport({
      ...valid(),
      cart: [
        {
          name: 'Milk',
          quantity: 1,
          unit: '',
          note: '',
          category: '',
          priceCents: null,
          checked: false,
          checkedBy: null,
        },
        {
          name: 'Bad',
          quantity: -5,
          unit: '',
          note: '',
          category: '',
          priceCents: null,
          checked: false,
          checkedBy: null,
        },
      ],
    })
    let destroyed = 0
    expect(() =>
      replayExport(file, () => {
        const made = createSpace({ engine: 'yjs' })
        const destroy = made.destroy.bind(made)
        made.destroy = () => {
          destroyed++
          destroy()
        }
        return made
      }),
    ).toThrow(/InvalidArgument/)
    // the space it made was destroyed, not handed back half full
    expect(destroyed).toBe(1)
  })

  it('[EXPORT-4] merging a file of another space is refused; a state that breaks the domain changes nothing', () => {
    const a = household('yjs')
    const other = createSpace({ engine: 'yjs' })
    expect(() => mergeExport(other, throughFile(a))).toThrow(/another space/)
    // a forged state: valid base64 of bytes that are not an update of this space
    const b = openSpace({ engine: 'yjs', spaceId: a.id, state: a.encodeStateAsUpdate() })
    const before = b.snapshot()
    const forged = { ...throughFile(a), state: Buffer.from([1, 2, 3, 4, 5]).toString('base64') }
    expect(() => mergeExport(b, forged)).toThrow(/MalformedUpdate/)
    expect(b.snapshot()).toEqual(before)
  })
})
