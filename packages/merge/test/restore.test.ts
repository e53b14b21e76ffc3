/**
 * Restoring an earlier version (SPEC.md RESTORE-1…6), on both engines: examples for each rule, and
 * two properties —
 * - RESTORE-1/2: random scripts on two replicas build a version; more random commands; the restore
 *   shows the version's cart, notes, trash, name and currency; undo shows what was there before;
 *   redo the version again; a second restore writes nothing (RESTORE-5);
 * - RESTORE-3: one replica restores while the other, offline, adds, increments, types and edits;
 *   after the exchange both hold one state, and it is the one the rule says.
 *
 * The seed is printed before each run; replay a failure with
 *   MERGE_FUZZ_SEED=<seed> MERGE_FUZZ_PATH=<path> pnpm --filter @converge/merge exec vitest run test/restore.test.ts -t "RESTORE-1"
 * and run longer with MERGE_FUZZ_RUNS=<n>.
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type EngineKind,
  type RestoreSummary,
  type Space,
  createSpace,
  isMergeError,
  openSpace,
} from '../src/index.js'
import { fuzzParams, fuzzTimeout, tolerant } from './fuzz.js'
import { ENGINES, bytesOf, expectConverged, pull, replicas, syncAll } from './harness.js'

/** A version of `s` as the app previews one: its whole state, opened read-only. */
const versionOf = (s: Space): Space =>
  openSpace({ engine: s.engineKind, spaceId: s.id, state: s.encodeStateAsUpdate(), readOnly: true })

/** What a person sees of a space (domain views, not raw maps): the lines in order, the notes, the trash. */
const view = (s: Space) => ({
  name: s.name,
  currency: s.currency,
  cart: s
    .items()
    .map((i) => [i.key, i.name, i.quantity, i.note, i.unit, i.category, i.priceCents, i.checkedBy]),
  notes: s.notes().map((n) => [n.id, n.title, n.body, n.pinnedAt]),
  trash: s.notes({ trashed: true }).map((n) => [n.id, n.title, n.body, n.pinnedAt]),
})

/**
 * RESTORE-1: `s` shows what the version `v` shows — the same view, except that the trash also holds
 * the notes made since the version (a restore trashes them, never purges them: DEL-1).
 */
const expectShows = (s: Space, v: Space, what = 'the replica shows the version'): void => {
  const ids = new Set([...v.notes(), ...v.notes({ trashed: true })].map((n) => n.id))
  const shown = view(s)
  expect({ ...shown, trash: shown.trash.filter(([id]) => ids.has(id as string)) }, what).toEqual(view(v))
  const extra = s.notes().filter((n) => !ids.has(n.id))
  expect(
    extra.map((n) => n.id),
    `${what}: notes the version lacks are in the trash`,
  ).toEqual([])
}

const NOTHING: RestoreSummary = { added: 0, removed: 0, changed: 0, notes: 0, space: 0 }

/** The updates a replica sends for its own changes while `fn` runs. */
const localUpdates = (s: Space, fn: () => void): Uint8Array[] => {
  const out: Uint8Array[] = []
  const off = s.onUpdate((u, e) => {
    if (e.local) out.push(u)
  })
  try {
    fn()
  } finally {
    off()
  }
  return out
}

const expectMergeError = (fn: () => unknown, kind: string): void => {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(isMergeError(caught), `expected a MergeError ${kind}, got ${String(caught)}`).toBe(true)
  expect((caught as { kind: string }).kind).toBe(kind)
}

/** A household's space at the version the person wants back. */
function household(s: Space): { recipe: string; old: string } {
  s.rename('Flat 3')
  s.setCurrency('EUR')
  s.addItem('Milk', { quantity: 2, fields: { priceCents: 129, unit: 'l' } })
  s.addItem('Bread', { fields: { category: 'bakery', note: 'sliced' } })
  s.addItem('Eggs', { quantity: 12 })
  s.addItem('Jam')
  s.check('bread', 'Sam')
  const recipe = s.createNote({ id: 'recipe', title: 'Pancakes', body: 'flour, milk, eggs 😀, butter' })
  s.pinNote(recipe)
  const old = s.createNote({ id: 'old', title: 'Old list', body: 'gone' })
  s.trashNote(old)
  return { recipe, old }
}

describe.each(ENGINES)('%s restore', (engine) => {
  it('[RESTORE-1] after a restore the replica shows what the version shows: lines, quantities, fields, checks, order, notes, trash, name, currency', () => {
    const [a] = replicas(engine, 1) as [Space]
    const { recipe, old } = household(a)
    a.setMember('ana', { name: 'Ana', color: '#aa3300' })
    const v = versionOf(a)
    const want = view(a)
    // then the week goes on
    a.removeItem('bread')
    a.addItem('Tea', { quantity: 3 })
    a.increment('milk', 3)
    a.setField('milk', 'note', 'oat')
    a.check('eggs', 'Bo')
    a.moveItem('jam', 0)
    a.renameNote(recipe, 'Crêpes')
    a.editNote(recipe, 0, 5, 'rice') // rice, milk, eggs 😀, butter
    a.unpinNote(recipe)
    a.restoreNote(old)
    a.trashNote(recipe)
    a.createNote({ id: 'later', title: 'Later', body: 'new' })
    a.rename('Flat 4')
    a.setCurrency('GBP')
    a.setMember('ana', { name: 'Anabel', color: '#aa3300' })
    expect(view(a)).not.toEqual(want)

    const summary = a.restoreFrom(v)
    expectShows(a, v)
    // Bread back (checked by Sam, in its place), Tea removed; Milk (quantity, note), Eggs (check) and
    // Jam (place) changed; the recipe, the old list and the later note; the name and the currency
    expect(summary).toEqual({ added: 1, removed: 1, changed: 3, notes: 3, space: 2 })
    expect(a.item('bread')).toMatchObject({ quantity: 1, checkedBy: 'Sam', note: 'sliced' })
    expect(a.note('later')?.trashed).toBe(true) // never purged: in the trash
    expect(a.member('ana')?.name).toBe('Anabel') // people are not touched
    // and it is a space like any other: a replica opened from its state shows the same
    expect(view(openSpace({ engine, spaceId: a.id, state: a.encodeStateAsUpdate() }))).toEqual(view(a))
    expect(want).toEqual(view(v))
  })

  it('[RESTORE-1] a body is set back by one replace between the common prefix and suffix, never splitting a character', () => {
    const [a] = replicas(engine, 1) as [Space]
    const id = a.createNote({ title: 'n', body: 'ab😀cd😀ef' })
    const v = versionOf(a)
    a.editNote(id, 2, 2, '😃') // the 😀 becomes 😃: the two share their high surrogate
    a.editNote(id, a.note(id)!.body.length - 2, 0, 'XY')
    const typed = a.note(id)!.body
    expect(typed).toBe('ab😃cd😀XYef')
    a.restoreFrom(v)
    expect(a.note(id)!.body).toBe('ab😀cd😀ef')
  })

  it('[RESTORE-1] lines out of place are moved, the longest run already in order stays', () => {
    const [a] = replicas(engine, 1) as [Space]
    for (const n of ['one', 'two', 'three', 'four', 'five', 'six']) a.addItem(n)
    const v = versionOf(a)
    a.moveItem('six', 0)
    a.moveItem('two', 5) // six one three four five two
    const orders = new Map(a.items().map((i) => [i.key, i.order]))
    const summary = a.restoreFrom(v)
    expect(a.items().map((i) => i.key)).toEqual(['one', 'two', 'three', 'four', 'five', 'six'])
    expect(summary.changed).toBe(2)
    // one, three, four, five kept their order keys: only the two lines out of place were written
    for (const k of ['one', 'three', 'four', 'five']) expect(a.item(k)!.order).toBe(orders.get(k))
  })

  it('[RESTORE-1] a line removed and a note trashed since come back; a note the replica shows nowhere is created with its id', () => {
    const [a] = replicas(engine, 1) as [Space]
    a.addItem('Rice', { quantity: 999_999, fields: { unit: 'g' } })
    const id = a.createNote({ id: 'keep', title: 'Keep', body: 'this text' })
    const v = versionOf(a)
    a.removeItem('rice')
    a.addItem('Rice', { quantity: 4 }) // back with a new life, then gone again
    a.decrement('rice', 4)
    // a note this replica no longer shows at all (its creation time deleted, as a hostile peer could)
    a.engine.transact('hostile', (w) => w.delete('notes', `${id}\u001fcreatedAt`))
    expect(a.note(id)).toBeUndefined()
    const summary = a.restoreFrom(v)
    expect(summary).toMatchObject({ added: 1, notes: 1 })
    expect(a.item('rice')).toMatchObject({ quantity: 999_999, unit: 'g' })
    // created with the version's id; the body text the document held is edited, not added a second time
    expect(a.note(id)).toMatchObject({ title: 'Keep', body: 'this text', trashed: false })
  })

  it('[RESTORE-2] a restore is one undo step and one update; undo shows what was there just before, redo the version again', () => {
    const [a] = replicas(engine, 1) as [Space]
    const { recipe } = household(a)
    const v = versionOf(a)
    a.removeItem('eggs')
    a.addItem('Tea')
    a.increment('milk')
    a.editNote(recipe, 0, 0, 'Shopping: ')
    a.trashNote('recipe')
    a.restoreNote('old')
    a.setCurrency(null)
    a.addItem('Soap') // the command just before the restore
    const before = view(a)
    const updates = localUpdates(a, () => a.restoreFrom(v))
    expect(updates).toHaveLength(1)
    expect(view(a)).toEqual(view(v))
    expect(a.undo()).toBe(true)
    expect(view(a)).toEqual(before)
    a.redo()
    expect(view(a)).toEqual(view(v))
    a.undo()
    a.undo() // the step before the restore: the Soap add
    expect(a.item('soap')).toBeUndefined()
    expect(a.item('tea')).toBeDefined()
  })

  it('[RESTORE-3] a forward change: an offline replica\u2019s add, its increment of a line the restore removes and its typing outside the replaced span all survive', () => {
    const [a, b] = replicas(engine, 2) as [Space, Space]
    a.addItem('Milk')
    a.addItem('Tea', { quantity: 3 })
    const id = a.createNote({ id: 'plan', title: 'Plan', body: 'step 1; step 2; step 3' })
    const v = versionOf(a)
    a.addItem('Jam') // after the version
    a.increment('tea')
    a.editNote(id, 13, 1, 'TWO') // step 1; step TWO; step 3
    syncAll([a, b])
    // b goes offline and goes on; a restores the version meanwhile
    b.addItem('Bread', { quantity: 2 })
    b.increment('jam', 2)
    b.editNote(id, b.note(id)!.body.length, 0, ', done') // at the end: outside what the restore replaces
    b.editNote(id, 0, 0, '> ') // and at the start
    a.restoreFrom(v)
    expect(view(a)).toEqual(view(v))
    syncAll([a, b])
    expectConverged([a, b])
    // b's add stays; Jam, which the restore removed, keeps b's concurrent +2 (CART-3); Tea is at 3 again
    expect(Object.fromEntries(b.items().map((i) => [i.key, i.quantity]))).toEqual({
      milk: 1,
      tea: 3,
      jam: 2,
      bread: 2,
    })
    expect(b.note(id)!.body).toBe('> step 1; step 2; step 3, done')
  })

  it('[RESTORE-3] text typed offline inside the replaced span survives too, next to the restored text', () => {
    const [a, b] = replicas(engine, 2) as [Space, Space]
    const id = a.createNote({ id: 'plan', title: 'Plan', body: 'buy milk' })
    const v = versionOf(a)
    a.editNote(id, 4, 4, 'bread') // buy bread
    syncAll([a, b])
    b.editNote(id, 6, 0, 'XX') // buy brXXead
    a.restoreFrom(v) // bread → milk
    syncAll([a, b])
    expectConverged([a, b])
    const body = a.note(id)!.body
    expect(body.replace('XX', '')).toBe('buy milk')
    expect(body.startsWith('buy ')).toBe(true)
  })

  it('[RESTORE-3] undo of a restore, merged with an offline replica\u2019s edits, takes back only the restore', () => {
    const [a, b] = replicas(engine, 2) as [Space, Space]
    a.addItem('Tea', { quantity: 2 })
    const v = versionOf(a)
    a.removeItem('tea')
    a.addItem('Jam')
    syncAll([a, b])
    a.restoreFrom(v) // Tea ×2 back, Jam removed
    b.increment('jam') // concurrent: survives the remove
    b.addItem('Tea') // concurrent: another life of Tea
    syncAll([a, b])
    expect(Object.fromEntries(a.items().map((i) => [i.key, i.quantity]))).toEqual({ tea: 3, jam: 1 })
    a.undo() // takes back the restore's own Tea life and gives back what its remove took (CART-10)
    syncAll([a, b])
    expectConverged([a, b])
    expect(Object.fromEntries(a.items().map((i) => [i.key, i.quantity]))).toEqual({ tea: 1, jam: 2 })
  })

  it('[RESTORE-4] a version of another space, or of this space on another engine, is refused and changes nothing', () => {
    const [a] = replicas(engine, 1) as [Space]
    household(a)
    const other = createSpace({ engine, name: 'Other' })
    other.addItem('Caviar')
    const otherEngine = openSpace({ engine: engine === 'yjs' ? 'automerge' : 'yjs', spaceId: a.id })
    const bytes = bytesOf(a)
    const updates = localUpdates(a, () => {
      expectMergeError(() => a.restoreFrom(other), 'ForeignDocument')
      expectMergeError(() => a.restoreFrom(otherEngine), 'ForeignDocument')
    })
    expect(updates).toHaveLength(0)
    expect(bytesOf(a)).toEqual(bytes)
    // a replica opened read-only refuses it as every write (SCH-3), also with nothing to restore
    const ro = openSpace({ engine, spaceId: a.id, state: a.encodeStateAsUpdate(), readOnly: true })
    expectMergeError(() => ro.restoreFrom(versionOf(a)), 'ReadOnly')
  })

  it('[RESTORE-5] restoring a version equal to what the replica shows writes nothing, and takes no undo step', () => {
    const [a] = replicas(engine, 1) as [Space]
    household(a)
    expect(a.restoreFrom(versionOf(a))).toEqual(NOTHING)
    // a version of another moment that shows the same (the changes since were undone) writes nothing either
    const v = versionOf(a)
    a.addItem('Tea')
    a.editNote('recipe', 0, 0, 'x')
    a.undo()
    a.undo()
    const updates = localUpdates(a, () => expect(a.restoreFrom(v)).toEqual(NOTHING))
    expect(updates).toHaveLength(0)
    expect(a.canUndo).toBe(true) // the household's own commands
    // and a restore done is done: restoring the same version again writes nothing
    a.addItem('Soap')
    a.restoreFrom(v)
    expect(localUpdates(a, () => expect(a.restoreFrom(v)).toEqual(NOTHING))).toHaveLength(0)
  })

  it('[RESTORE-6] a version holding what this replica has not integrated yet is merged first: nothing comes back twice', () => {
    const [a, b] = replicas(engine, 2) as [Space, Space]
    b.addItem('Jam', { quantity: 2 })
    b.createNote({ id: 'list', title: 'List', body: 'from b' })
    const v = versionOf(b) // a version the server kept, which a has not caught up with
    const summary = a.restoreFrom(v)
    expect(summary).toEqual(NOTHING) // after the merge a shows what the version shows already
    expect(view(a)).toEqual(view(v))
    syncAll([a, b])
    expectConverged([a, b])
    expect(a.item('jam')?.quantity).toBe(2) // not 4
    expect(a.note('list')?.body).toBe('from b') // not "from bfrom b" (NOTE-3)
  })
})

// ------------------------------------------------------------------------------------- properties

const NAMES = ['Milk', ' milk ', 'Eggs', 'Bread', 'Tea', 'Jam', 'Straße', 'STRASSE'] as const
const FIELDS = ['note', 'unit', 'category', 'priceCents', 'name'] as const
const NOTE_IDS = ['n1', 'n2', 'n3'] as const
const TEXTS = ['a', 'bc', '😀', 'x😀y', 'hello ', 'ß'] as const
const CURRENCIES = ['EUR', 'GBP', null] as const

type Cmd =
  | { t: 'add'; r: number; name: number; qty: number; field: boolean }
  | { t: 'inc' | 'dec'; r: number; pick: number; by: number }
  | { t: 'remove' | 'check' | 'uncheck'; r: number; pick: number }
  | { t: 'field'; r: number; pick: number; field: number; value: number }
  | { t: 'move'; r: number; pick: number; to: number }
  | { t: 'rename'; r: number; v: number }
  | { t: 'currency'; r: number; v: number }
  | { t: 'createNote'; r: number; id: number; body: number }
  | { t: 'renameNote' | 'trash' | 'restoreNote' | 'pin' | 'unpin'; r: number; pick: number }
  | { t: 'type'; r: number; pick: number; at: number; text: number }
  | { t: 'delete'; r: number; pick: number; at: number; len: number }
  | { t: 'undo' | 'redo'; r: number }
  | { t: 'sync'; a: number; b: number }

const rep = fc.nat(1)
const pick = fc.nat(20)
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary })

const addArb = fc.record({
  t: fc.constant('add' as const),
  r: rep,
  name: fc.nat(NAMES.length - 1),
  qty: fc.integer({ min: 1, max: 3 }),
  field: fc.boolean(),
})
const createNoteArb = fc.record({
  t: fc.constant('createNote' as const),
  r: rep,
  id: fc.nat(NOTE_IDS.length),
  body: fc.nat(3),
})

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  w(6, addArb),
  w(
    4,
    fc.record({
      t: fc.constantFrom('inc' as const, 'dec' as const),
      r: rep,
      pick,
      by: fc.integer({ min: 1, max: 3 }),
    }),
  ),
  w(
    4,
    fc.record({
      t: fc.constantFrom('remove' as const, 'check' as const, 'uncheck' as const),
      r: rep,
      pick,
    }),
  ),
  w(
    3,
    fc.record({
      t: fc.constant('field' as const),
      r: rep,
      pick,
      field: fc.nat(FIELDS.length - 1),
      value: fc.nat(5),
    }),
  ),
  w(3, fc.record({ t: fc.constant('move' as const), r: rep, pick, to: fc.nat(6) })),
  w(1, fc.record({ t: fc.constantFrom('rename' as const, 'currency' as const), r: rep, v: fc.nat(2) })),
  w(2, createNoteArb),
  w(
    3,
    fc.record({
      t: fc.constantFrom('renameNote' as const, 'trash' as const, 'restoreNote' as const),
      r: rep,
      pick,
    }),
  ),
  w(2, fc.record({ t: fc.constantFrom('pin' as const, 'unpin' as const), r: rep, pick })),
  w(
    5,
    fc.record({
      t: fc.constant('type' as const),
      r: rep,
      pick,
      at: fc.nat(30),
      text: fc.nat(TEXTS.length - 1),
    }),
  ),
  w(
    2,
    fc.record({
      t: fc.constant('delete' as const),
      r: rep,
      pick,
      at: fc.nat(30),
      len: fc.integer({ min: 1, max: 4 }),
    }),
  ),
  w(3, fc.record({ t: fc.constantFrom('undo' as const, 'redo' as const), r: rep })),
  w(3, fc.record({ t: fc.constant('sync' as const), a: rep, b: rep })),
)

const at = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i]
  if (x === undefined) throw new Error(`index ${i} out of range ${xs.length}`)
  return x
}

/** UTF-16 offsets of the code point boundaries of a body. */
const bounds = (body: string): number[] => {
  const out = [0]
  let i = 0
  for (const ch of body) out.push((i += ch.length))
  return out
}

const itemKey = (s: Space, p: number): string => {
  const items = s.items()
  return items.length > 0 && p % 6 !== 5 ? at(items, p % items.length).key : 'not-there'
}
const noteId = (s: Space, p: number): string => {
  const ids = [...s.notes(), ...s.notes({ trashed: true })].map((n) => n.id).sort()
  return ids.length > 0 ? at(ids, p % ids.length) : 'not-there'
}

/** Runs one scripted command on two replicas; a command its target refuses is skipped. */
function runCmd(spaces: readonly Space[], c: Cmd): void {
  if (c.t === 'sync') {
    if (c.a !== c.b) pull(at(spaces, c.a), at(spaces, c.b))
    return
  }
  const i = c.r
  const s = at(spaces, i)
  tolerant(() => {
    switch (c.t) {
      case 'add':
        return s.addItem(at(NAMES, c.name), {
          quantity: c.qty,
          ...(c.field ? { fields: { note: `note ${i}.${c.qty}` } } : {}),
        })
      case 'inc':
        return s.increment(itemKey(s, c.pick), c.by)
      case 'dec':
        return s.decrement(itemKey(s, c.pick), c.by)
      case 'remove':
        return s.removeItem(itemKey(s, c.pick))
      case 'check':
        return s.check(itemKey(s, c.pick), `user${i}`)
      case 'uncheck':
        return s.uncheck(itemKey(s, c.pick))
      case 'field': {
        const key = itemKey(s, c.pick)
        const field = at(FIELDS, c.field)
        if (field === 'name') {
          const spellings = NAMES.filter((n) => n.trim().toLowerCase() === key)
          return s.setField(key, 'name', at([...spellings, key], c.value % (spellings.length + 1)))
        }
        return s.setField(key, field, field === 'priceCents' ? c.value * 10 : `${field} ${i}.${c.value}`)
      }
      case 'move':
        return s.moveItem(itemKey(s, c.pick), c.to)
      case 'rename':
        return s.rename(`Space ${c.v}`)
      case 'currency':
        return s.setCurrency(at(CURRENCIES, c.v))
      case 'createNote': {
        const id = c.id < NOTE_IDS.length ? at(NOTE_IDS, c.id) : `own-${i}`
        return s.createNote({ id, title: `T${i}`, body: TEXTS.slice(0, c.body).join('') })
      }
      case 'renameNote':
        return s.renameNote(noteId(s, c.pick), `title ${i}.${c.pick % 3}`)
      case 'trash':
        return s.trashNote(noteId(s, c.pick))
      case 'restoreNote':
        return s.restoreNote(noteId(s, c.pick))
      case 'pin':
        return s.pinNote(noteId(s, c.pick))
      case 'unpin':
        return s.unpinNote(noteId(s, c.pick))
      case 'type': {
        const id = noteId(s, c.pick)
        const b = bounds(s.note(id)?.body ?? '')
        return s.editNote(id, at(b, c.at % b.length), 0, at(TEXTS, c.text))
      }
      case 'delete': {
        const id = noteId(s, c.pick)
        const b = bounds(s.note(id)?.body ?? '')
        if (b.length < 2) return
        const from = c.at % (b.length - 1)
        const to = Math.min(b.length - 1, from + c.len)
        return s.editNote(id, at(b, from), at(b, to) - at(b, from), '')
      }
      case 'undo':
        return void s.undo()
      case 'redo':
        return void s.redo()
    }
  })
}

/** The commands that build a version: more adds and notes, so that it has something to restore. */
const buildArb: fc.Arbitrary<Cmd> = fc.oneof(w(3, addArb), w(1, createNoteArb), w(6, cmdArb))

interface Script {
  readonly before: readonly Cmd[]
  readonly from: number
  readonly after: readonly Cmd[]
}

const scriptArb: fc.Arbitrary<Script> = fc.record({
  before: fc.array(buildArb, { minLength: 5, maxLength: 40 }),
  /** the replica whose state is the version (1: one replica 0 may not have integrated all of) */
  from: fc.nat(1),
  after: fc.array(cmdArb, { minLength: 1, maxLength: 30 }),
})

/** RESTORE-1, RESTORE-2, RESTORE-5 and RESTORE-6 on one script. */
function restoreAndUndo(engine: EngineKind, script: Script): void {
  const spaces = replicas(engine, 2)
  const [a] = spaces as [Space, Space]
  for (const c of script.before) runCmd(spaces, c)
  const v = versionOf(at(spaces, script.from))
  for (const c of script.after) runCmd(spaces, c)
  // just before: what a shows, with what the version holds that a lacks (RESTORE-6 merges it first)
  const merged = openSpace({ engine, spaceId: a.id, state: a.encodeStateAsUpdate() })
  merged.applyUpdate(v.encodeStateAsUpdate())
  const before = view(merged)

  const updates = localUpdates(a, () => a.restoreFrom(v))
  expect(updates.length, 'one update (UNDO-4)').toBeLessThanOrEqual(1)
  expectShows(a, v, 'RESTORE-1: after the restore')
  expect(
    localUpdates(a, () => expect(a.restoreFrom(v)).toEqual(NOTHING)),
    'RESTORE-5',
  ).toHaveLength(0)
  if (updates.length === 1) {
    expect(a.undo()).toBe(true)
    expect(view(a), 'RESTORE-2: after undo').toEqual(before)
    expect(a.redo()).toBe(true)
    expectShows(a, v, 'RESTORE-2: after redo')
  } else expectShows(merged, v, 'RESTORE-5: nothing to restore')
  // and the other replica comes to the same (CONV-1)
  syncAll(spaces)
  expectConverged(spaces)
  for (const s of [...spaces, v, merged]) s.destroy()
}

/** r1's offline edits in the RESTORE-3 property: only ones whose outcome the rule states exactly. */
type Offline =
  | { t: 'add'; fresh: boolean; name: number; qty: number }
  | { t: 'inc'; pick: number; by: number }
  | { t: 'type'; pick: number; at: number; n: number }
  | { t: 'field'; pick: number; value: number }
  | { t: 'check' | 'uncheck'; pick: number }
  | { t: 'move'; pick: number; to: number }
  | { t: 'renameNote'; pick: number }
  | { t: 'createNote'; n: number }

const offlineArb: fc.Arbitrary<Offline> = fc.oneof(
  fc.record({
    t: fc.constant('add' as const),
    fresh: fc.boolean(),
    name: fc.nat(NAMES.length - 1),
    qty: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ t: fc.constant('inc' as const), pick, by: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ t: fc.constant('type' as const), pick, at: fc.nat(30), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('field' as const), pick, value: fc.nat(5) }),
  fc.record({ t: fc.constantFrom('check' as const, 'uncheck' as const), pick }),
  fc.record({ t: fc.constant('move' as const), pick, to: fc.nat(6) }),
  fc.record({ t: fc.constant('renameNote' as const), pick }),
  fc.record({ t: fc.constant('createNote' as const), n: fc.integer({ min: 0, max: 3 }) }),
)

interface OfflineScript {
  readonly before: readonly Cmd[]
  readonly after: readonly Cmd[]
  readonly offline: readonly Offline[]
}

const offlineScriptArb: fc.Arbitrary<OfflineScript> = fc.record({
  before: fc.array(buildArb, { minLength: 5, maxLength: 30 }),
  after: fc.array(cmdArb, { minLength: 1, maxLength: 25 }),
  offline: fc.array(offlineArb, { minLength: 1, maxLength: 15 }),
})

/** RESTORE-3: a restores while b, offline since a and b last met, adds, increments, types and edits. */
function restoreWhileOffline(engine: EngineKind, script: OfflineScript): void {
  const spaces = replicas(engine, 2)
  const [a, b] = spaces as [Space, Space]
  for (const c of script.before) runCmd(spaces, c)
  syncAll(spaces)
  const v = versionOf(a)
  for (const c of script.after) runCmd(spaces, c)
  syncAll(spaces) // both hold one state; now b goes offline
  const restored = new Map(v.items().map((i) => [i.key, i.quantity]))
  /** what b adds to each line offline: adds and increments (CART-2, CART-3: each survives) */
  const added = new Map<string, number>()
  const more = (key: string, n: number): void => void added.set(key, (added.get(key) ?? 0) + n)
  /** what b types: a fresh character per keystroke (CJK, never typed by anyone else) */
  const mine = new Set<string>()
  let next = 0x4e00
  let fresh = 0
  for (const c of script.offline)
    tolerant(() => {
      switch (c.t) {
        case 'add': {
          const name = c.fresh ? `fresh ${fresh++}` : at(NAMES, c.name)
          more(b.addItem(name, { quantity: c.qty }), c.qty)
          return
        }
        case 'inc': {
          const key = itemKey(b, c.pick)
          b.increment(key, c.by)
          more(key, c.by)
          return
        }
        case 'type': {
          const id = noteId(b, c.pick)
          const bs = bounds(b.note(id)?.body ?? '')
          let index = at(bs, c.at % bs.length)
          for (let k = 0; k < c.n; k++) {
            const ch = String.fromCodePoint(next++)
            b.editNote(id, index, 0, ch)
            index += ch.length
            mine.add(ch)
          }
          return
        }
        case 'field':
          return b.setField(itemKey(b, c.pick), 'note', `offline ${c.value}`)
        case 'check':
          return b.check(itemKey(b, c.pick), 'offline')
        case 'uncheck':
          return b.uncheck(itemKey(b, c.pick))
        case 'move':
          return b.moveItem(itemKey(b, c.pick), c.to)
        case 'renameNote':
          return b.renameNote(noteId(b, c.pick), 'offline title')
        case 'createNote': {
          const text = Array.from({ length: c.n }, () => String.fromCodePoint(next++)).join('')
          for (const ch of text) mine.add(ch)
          b.createNote({ id: `offline-${next}`, title: 'offline', body: text })
          return
        }
      }
    })
  const typed = new Map([...b.notes(), ...b.notes({ trashed: true })].map((n) => [n.id, n.body]))
  const shownBefore = new Map([...a.notes(), ...a.notes({ trashed: true })].map((n) => [n.id, n.body]))
  a.restoreFrom(v)
  expectShows(a, v, 'RESTORE-1 on the restoring replica')
  syncAll(spaces)
  expectConverged(spaces)

  // every line: the version's quantity (0 when the restore removed it) plus what b added offline
  const want = new Map(restored)
  for (const [k, n] of added) want.set(k, (want.get(k) ?? 0) + n)
  expect(Object.fromEntries(a.items().map((i) => [i.key, i.quantity]))).toEqual(Object.fromEntries(want))
  // every character b typed is there, in the order b typed it; without them each body is what the
  // restore left (text the restore replaced does not take b's typing with it, wherever b typed)
  const notes = new Map([...a.notes(), ...a.notes({ trashed: true })].map((n) => [n.id, n]))
  const ofB = (body: string): string => [...body].filter((ch) => mine.has(ch)).join('')
  for (const [id, body] of typed) expect(ofB(notes.get(id)?.body ?? ''), `note ${id}`).toBe(ofB(body))
  const versionNotes = new Map(
    v
      .notes()
      .concat(v.notes({ trashed: true }))
      .map((n) => [n.id, n]),
  )
  for (const [id, n] of notes) {
    const theirs = [...n.body].filter((ch) => !mine.has(ch)).join('')
    const vn = versionNotes.get(id)
    if (vn) {
      expect(theirs, `note ${id}: the version's body and b's typing`).toBe(vn.body)
      expect(n.trashed).toBe(vn.trashed)
    } else if (shownBefore.has(id)) {
      expect(theirs, `note ${id}, trashed by the restore: its body as it was`).toBe(shownBefore.get(id))
      expect(n.trashed).toBe(true)
    } else expect(n.trashed, `note ${id}, created offline`).toBe(false)
  }
  for (const s of [...spaces, v]) s.destroy()
}

const RUNS: Record<EngineKind, number> = { yjs: 100, automerge: 40 }

describe.each(ENGINES)('%s restore properties', (engine) => {
  it(
    '[RESTORE-1] [RESTORE-2] random scripts: a restore shows the version, undo what was there before, redo the version again',
    () => {
      fc.assert(
        fc.property(scriptArb, (script) => restoreAndUndo(engine, script)),
        fuzzParams(RUNS[engine], `RESTORE-1/2 ${engine}`),
      )
    },
    fuzzTimeout,
  )

  it(
    '[RESTORE-3] random scripts: a restore merged with an offline replica\u2019s adds, increments and typing keeps all of them',
    () => {
      fc.assert(
        fc.property(offlineScriptArb, (script) => restoreWhileOffline(engine, script)),
        fuzzParams(RUNS[engine], `RESTORE-3 ${engine}`),
      )
    },
    fuzzTimeout,
  )
})
