/**
 * Restoring an earlier version of a space (SPEC.md RESTORE-1…6): never a rewind, always a forward
 * change. The version is another replica of the same space (`openSpace({ state, readOnly: true })`
 * of a whole-document state the server kept); this replica is made to show what the version shows
 * by the ordinary commands of the difference — adds, observed removes, increments and decrements,
 * field writes, checks, moves, note edits, trash and restore — which `Space.restoreFrom` runs as one
 * local command: one update that syncs like any edit, one undo step, merged with whatever anyone
 * did concurrently by the rules each of those commands already has.
 *
 * Every value is checked here before its command runs (a version may hold what a command refuses:
 * a name another item normalises to, a field past its bound, a quantity past MAX_QUANTITY), so a
 * command half way through the restore never throws and leaves half a restore behind.
 */
import type { Scalar } from './engine.js'
import { MAX_QUANTITY } from './model/counter.js'
import { joinKey, normaliseName } from './model/keys.js'
import type { CartItem, ItemField, Note, Space } from './space.js'

/** What a restore did, for the app to say so ("Restored: 3 lines back, 1 removed, …"). */
export interface RestoreSummary {
  /** Cart lines the version has that the cart did not show: added back. */
  readonly added: number
  /** Cart lines the cart showed that the version does not have: removed (observed-remove, CART-3). */
  readonly removed: number
  /** Cart lines in both whose quantity, fields, checked state or place were set to the version's. */
  readonly changed: number
  /** Notes whose title, body, pin, trash or place were set to the version's, created, or trashed. */
  readonly notes: number
  /** The space's own fields set to the version's: its name, its currency (0–2). */
  readonly space: number
}

/** What a restore needs of the space beyond its public commands. */
export interface RestoreWrites {
  /**
   * A note's `pinnedAt` (NOTE-4) or `createdAt` (NOTE-1) register set to the version's value, as one
   * undoable command. The notes are listed by these times, so with the version's times they come back
   * in the version's order (`pinNote` would write now; two creations of one id, NOTE-3, leave the
   * time of one of them).
   */
  setNoteTime(noteId: string, field: 'pinnedAt' | 'createdAt', at: number | null): void
}

const FIELDS: readonly ItemField[] = ['name', 'note', 'unit', 'category', 'priceCents']
const MAX_ITEM_TEXT = 1000
const MAX_WHO = 200
const NOTE_ID = /^[0-9a-z_-]{1,64}$/
/** Date's range, as BAD-7 bounds a time. */
const MAX_TIME = 8.64e15
const isTime = (t: number): boolean => Number.isFinite(t) && t >= 0 && t <= MAX_TIME

type Fields = Record<ItemField, Scalar>

const fieldsOfItem = (i: CartItem): Fields => ({
  name: i.name,
  note: i.note,
  unit: i.unit,
  category: i.category,
  priceCents: i.priceCents,
})

/** A line's fields as the cart would show them (BAD-4 defaults), also for a line not visible now. */
function storedFields(space: Space, key: string): Fields {
  const get = (f: ItemField): Scalar | undefined => space.engine.get('items', joinKey(key, f))
  const text = (f: ItemField): string => {
    const v = get(f)
    return typeof v === 'string' ? v : ''
  }
  const name = get('name')
  const price = get('priceCents')
  return {
    name: typeof name === 'string' ? name : key,
    note: text('note'),
    unit: text('unit'),
    category: text('category'),
    priceCents: typeof price === 'number' && Number.isSafeInteger(price) && price >= 0 ? price : null,
  }
}

const sameKey = (name: string, key: string): boolean => {
  try {
    return normaliseName(name) === key
  } catch {
    return false
  }
}

/** Whether `setField` takes the value (CART-5): a restore skips what a command would refuse. */
function settable(key: string, field: ItemField, value: Scalar): boolean {
  if (field === 'priceCents')
    return value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
  if (typeof value !== 'string' || value.length > MAX_ITEM_TEXT) return false
  return field !== 'name' || sameKey(value, key)
}

/** The keys of the longest run of `seq` (positions in the wanted order) that is already in order. */
function inOrder(keys: readonly string[], seq: readonly number[]): Set<string> {
  // patience sorting: tails[l] = index in seq of the smallest tail of an increasing run of length l + 1
  const tails: number[] = []
  const prev: number[] = new Array<number>(seq.length).fill(-1)
  seq.forEach((v, i) => {
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (seq[tails[mid]!]! < v) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) prev[i] = tails[lo - 1]!
    tails[lo] = i
  })
  const out = new Set<string>()
  for (let i = tails.length > 0 ? tails[tails.length - 1]! : -1; i >= 0; i = prev[i]!) out.add(keys[i]!)
  return out
}

/**
 * CART-6: the visible lines put in the version's order with as few moves as there are lines out of
 * place: the longest run already in order stays, each other line goes just after the line the version
 * has before it, in the version's order. Returns the lines moved.
 */
function restoreOrder(space: Space, wanted: readonly string[]): string[] {
  const shown = new Set(space.items().map((i) => i.key))
  const target = wanted.filter((k) => shown.has(k))
  const place = new Map(target.map((k, i) => [k, i]))
  const now = space
    .items()
    .map((i) => i.key)
    .filter((k) => place.has(k))
  const stays = inOrder(
    now,
    now.map((k) => place.get(k)!),
  )
  const moved: string[] = []
  target.forEach((key, i) => {
    if (stays.has(key)) return
    const list = space.items().map((it) => it.key)
    const others = list.filter((k) => k !== key)
    const to = i === 0 ? 0 : others.indexOf(target[i - 1]!) + 1
    if (list.indexOf(key) === to) return // the moves before it put it in its place already
    space.moveItem(key, to)
    moved.push(key)
  })
  return moved
}

/** A line the version has and the cart does not show, added back as the version shows it. */
function addBack(space: Space, want: CartItem): boolean {
  const key = want.key
  // the item's identity is its key: a display name that is another item's (a hostile peer's) is not used
  const name = sameKey(want.name, key) ? want.name : sameKey(key, key) ? key : null
  if (name === null) return false
  const had = storedFields(space, key)
  const fields: Partial<Fields> = {}
  for (const f of FIELDS) if (had[f] !== want[f] && settable(key, f, want[f])) fields[f] = want[f]
  space.addItem(name, {
    quantity: Math.min(want.quantity, MAX_QUANTITY),
    fields,
    ...(want.addedBy !== null ? { by: want.addedBy } : {}),
  })
  // an add puts the line back unchecked (CART-1): checked again as the version has it
  if (want.checkedBy !== null) space.check(key, want.checkedBy.slice(0, MAX_WHO))
  return true
}

/** A line in both: its quantity, fields and checked state set to the version's. Whether it wrote. */
function adjust(space: Space, have: CartItem, want: CartItem): boolean {
  const key = want.key
  let wrote = false
  const target = Math.min(want.quantity, Math.max(have.quantity, MAX_QUANTITY))
  if (target > have.quantity) {
    // CART-2: to the newest life, which a concurrent remove had not seen if it is someone's re-add
    space.increment(key, target - have.quantity)
    wrote = true
  }
  // CART-8: one decrement moves at most MAX_QUANTITY (concurrent adds can take a line past it)
  for (let left = have.quantity - target; left > 0; left -= MAX_QUANTITY) {
    space.decrement(key, Math.min(left, MAX_QUANTITY))
    wrote = true
  }
  const had = fieldsOfItem(have)
  for (const f of FIELDS)
    if (had[f] !== want[f] && settable(key, f, want[f])) {
      space.setField(key, f, want[f])
      wrote = true
    }
  const by = want.checkedBy?.slice(0, MAX_WHO) ?? null
  if (by !== null && have.checkedBy !== by) {
    space.check(key, by)
    wrote = true
  } else if (by === null && have.checked) {
    space.uncheck(key)
    wrote = true
  }
  return wrote
}

/** NOTE-2: the body set to `want` by one replace between the common prefix and suffix, kept as they are. */
function replaceBody(space: Space, id: string, have: string, want: string): void {
  let start = 0
  const most = Math.min(have.length, want.length)
  while (start < most && have.charCodeAt(start) === want.charCodeAt(start)) start++
  // never between the halves of a surrogate pair (editNote refuses it): the pair goes into the replace
  if (start > 0 && isHigh(have.charCodeAt(start - 1))) start--
  let end = 0
  while (
    end < most - start &&
    have.charCodeAt(have.length - 1 - end) === want.charCodeAt(want.length - 1 - end)
  )
    end++
  if (end > 0 && isLow(have.charCodeAt(have.length - end))) end--
  space.editNote(id, start, have.length - end - start, want.slice(start, want.length - end))
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/** A note the version has: created if this replica shows none, then set to the version's. Whether it wrote. */
function restoreNote(space: Space, want: Note, have: Note | undefined, writes: RestoreWrites): boolean {
  let wrote = false
  if (!have) {
    if (!NOTE_ID.test(want.id)) return false
    // with no body: a body text this replica holds already (NOTE-3) is edited like any other below
    space.createNote({ id: want.id, title: want.title })
    have = space.note(want.id)!
    wrote = true
  }
  if (have.title !== want.title) {
    space.renameNote(want.id, want.title)
    wrote = true
  }
  if (have.body !== want.body) {
    replaceBody(space, want.id, have.body, want.body)
    wrote = true
  }
  if (have.createdAt !== want.createdAt && isTime(want.createdAt)) {
    writes.setNoteTime(want.id, 'createdAt', want.createdAt)
    wrote = true
  }
  if (have.pinnedAt !== want.pinnedAt) {
    writes.setNoteTime(want.id, 'pinnedAt', want.pinnedAt)
    wrote = true
  }
  if (have.trashed !== want.trashed) {
    if (want.trashed) space.trashNote(want.id)
    else space.restoreNote(want.id)
    wrote = true
  }
  return wrote
}

/**
 * RESTORE-1: the commands that make `space` show what `old` shows. Call it inside one transaction
 * (`Space.restoreFrom` does, after its checks): it issues nothing where the two agree already.
 */
export function restoreCommands(space: Space, old: Space, writes: RestoreWrites): RestoreSummary {
  let added = 0
  let removed = 0
  const changed = new Set<string>()
  const want = old.items()
  const wanted = new Set(want.map((i) => i.key))
  const have = new Map(space.items().map((i) => [i.key, i]))
  for (const key of have.keys())
    if (!wanted.has(key)) {
      space.removeItem(key)
      removed++
    }
  for (const w of want) {
    const h = have.get(w.key)
    if (!h) {
      if (addBack(space, w)) added++
    } else if (adjust(space, h, w)) changed.add(w.key)
  }
  for (const key of restoreOrder(
    space,
    want.map((i) => i.key),
  ))
    if (have.has(key)) changed.add(key)

  let notes = 0
  const all = (s: Space): Note[] => [...s.notes(), ...s.notes({ trashed: true })]
  const oldNotes = all(old)
  const theirs = new Set(oldNotes.map((n) => n.id))
  const mine = new Map(all(space).map((n) => [n.id, n]))
  for (const n of oldNotes) if (restoreNote(space, n, mine.get(n.id), writes)) notes++
  // DEL-1: what the version does not have goes to the trash, never away
  for (const n of mine.values())
    if (!theirs.has(n.id) && !n.trashed) {
      space.trashNote(n.id)
      notes++
    }

  let spaceFields = 0
  if (space.name !== old.name) {
    space.rename(old.name)
    spaceFields++
  }
  if (space.currency !== old.currency) {
    space.setCurrency(old.currency)
    spaceFields++
  }
  return { added, removed, changed: changed.size, notes, space: spaceFields }
}
