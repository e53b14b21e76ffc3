/**
 * Shopping-list behaviour of the cart, on top of `@converge/merge`: the "to buy" and "bought"
 * sections (derived from the checked state, so a remote check moves a line for everyone), moves
 * within a section, the quantity typed into a field, renaming a line to another name, and the words
 * that say what an add did.
 */
import { type CartItem, MAX_QUANTITY, type Space, normaliseName } from '@converge/merge'
import { MAX_NAME, safeText } from './safe.js'

/** An item's name as shown (BAD-4 in the UI: cut to MAX_NAME, no control characters; its key if empty). */
export const shownName = (item: CartItem): string =>
  safeText(item.name, MAX_NAME) || safeText(item.key, MAX_NAME)

/** The lines still to buy and the bought ones, each in the list's order. */
export function splitBought(items: readonly CartItem[]): {
  toBuy: CartItem[]
  bought: CartItem[]
} {
  const toBuy: CartItem[] = []
  const bought: CartItem[] = []
  for (const item of items) (item.checked ? bought : toBuy).push(item)
  return { toBuy, bought }
}

/**
 * The index in the whole list (`space.moveItem`) that puts `key` at place `to` of `section` (a part
 * of `all`, in the same order): the index of the line it lands on. Null when it does not move.
 */
export function sectionMoveIndex(
  all: readonly CartItem[],
  section: readonly CartItem[],
  key: string,
  to: number,
): number | null {
  const from = section.findIndex((i) => i.key === key)
  const target = section[to]
  if (from < 0 || !target || to === from) return null
  const index = all.findIndex((i) => i.key === target.key)
  return index < 0 ? null : index
}

/** A typed quantity: a whole number from 1 to MAX_QUANTITY, else undefined (the field goes back). */
export function parseQuantity(text: string): number | undefined {
  const t = text.trim()
  if (!/^\d{1,7}$/.test(t)) return undefined
  const n = Number(t)
  return n >= 1 && n <= MAX_QUANTITY ? n : undefined
}

/** Sets a line's quantity through the counter: the difference, as one increment or decrement. */
export function setQuantity(space: Space, key: string, quantity: number): boolean {
  const now = space.item(key)
  if (!now) return false
  const by = quantity - now.quantity
  if (by > 0) space.increment(key, by)
  else if (by < 0) space.decrement(key, -by)
  return by !== 0
}

/** What an add of `typed` did, given the line as it was before (undefined: a new line). */
export function addFeedback(
  typed: string,
  before: CartItem | undefined,
  after: CartItem | undefined,
): string {
  const name = after ? shownName(after) : typed
  if (!before || before.quantity <= 0) return `Added ${name}.`
  if (before.checked) return `${name} is back on the list.`
  const quantity = after ? ` (now ${after.quantity})` : ''
  return typed === name ? `One more ${name}${quantity}.` : `“${typed}” merged into ${name}${quantity}.`
}

/**
 * Renames a line. The same item spelled another way (CART-9) is a display-name edit (CART-5); another
 * item is a new line with everything this one had (quantity, note, unit, price, category, checked,
 * place) and this one removed, or, when that item is already on the list, this line's quantity added
 * to it. Call it inside `space.transact` so it is one undo step. Returns the key the line has now and
 * whether it merged into another.
 */
export function renameItem(
  space: Space,
  items: readonly CartItem[],
  item: CartItem,
  name: string,
): { key: string; merged: boolean } {
  const key = normaliseName(name)
  const shown = name.trim()
  if (key === item.key) {
    if (shown !== item.name) space.setField(item.key, 'name', shown)
    return { key, merged: false }
  }
  const existing = items.find((i) => i.key === key)
  if (existing) {
    space.increment(key, item.quantity)
    space.removeItem(item.key)
    return { key, merged: true }
  }
  const index = items.findIndex((i) => i.key === item.key)
  space.addItem(shown, {
    quantity: item.quantity,
    fields: { note: item.note, unit: item.unit, priceCents: item.priceCents, category: item.category },
  })
  const added = space.item(key)
  if (added && added.name !== shown) space.setField(key, 'name', shown)
  if (item.checked) space.check(key, item.checkedBy ?? '')
  space.removeItem(item.key)
  if (index >= 0) space.moveItem(key, Math.min(index, space.items().length - 1))
  return { key, merged: false }
}

/** A category heading of the "to buy" section and its lines, in the list's order. */
export interface CategoryGroup {
  /** the category folded for comparing ("dairy"); '' for the lines without one */
  readonly id: string
  /** the heading as shown: the category as the group's first line spells it, or "Other" */
  readonly label: string
  readonly items: readonly CartItem[]
}

/** The heading of the lines without a category. */
export const OTHER_CATEGORY = 'Other'

/** A category for comparing: trimmed, spaces collapsed, case and accents folded. */
export const categoryId = (category: unknown): string =>
  safeText(category, MAX_NAME)
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()

/**
 * The "to buy" lines grouped by category (aisles). Groups are ordered by the place of their first line
 * in the list's own order, so moving lines still decides which aisle comes first; "Other" (no
 * category) is always last. Within a group the list's order. Categories that differ only in case,
 * accents or spaces are one group, headed as its first line spells it (with a capital first letter).
 */
export function groupByCategory(items: readonly CartItem[]): CategoryGroup[] {
  const groups = new Map<string, { label: string; items: CartItem[] }>()
  for (const item of items) {
    const id = categoryId(item.category)
    let g = groups.get(id)
    if (!g) {
      const spelled = safeText(item.category, MAX_NAME).trim()
      g = {
        label: id === '' ? OTHER_CATEGORY : spelled.charAt(0).toUpperCase() + spelled.slice(1),
        items: [],
      }
      groups.set(id, g)
    }
    g.items.push(item)
  }
  const out: CategoryGroup[] = []
  for (const [id, g] of groups) if (id !== '') out.push({ id, ...g })
  const other = groups.get('')
  if (other) out.push({ id: '', ...other })
  return out
}

/**
 * The moves (`space.moveItem(key, index)`, applied in this order) that put `key` at place `to` of
 * `group` (a part of `all`, in the same order) and change nothing else that is shown: the other lines
 * of the group keep their order, and the group's first place in `all` stays where it was, so the
 * groups keep their order. One move, or two when the group's first line goes down (the line after it
 * takes its place first). Empty when it does not move.
 */
export function groupMoves(
  all: readonly CartItem[],
  group: readonly CartItem[],
  key: string,
  to: number,
): [string, number][] {
  const from = group.findIndex((i) => i.key === key)
  if (from < 0 || to < 0 || to >= group.length || to === from) return []
  const order = all.map((i) => i.key)
  const moves: [string, number][] = []
  const move = (k: string, index: number): void => {
    order.splice(order.indexOf(k), 1)
    order.splice(index, 0, k)
    moves.push([k, index])
  }
  const target = group[to]!.key
  if (to < from) {
    move(key, order.indexOf(target))
    return moves
  }
  if (from === 0) {
    // the next line of the group takes the first place, so the group starts where it did
    const next = group[1]!.key
    move(next, order.indexOf(key))
    if (to === 1) return moves
  }
  move(key, order.indexOf(target))
  return moves
}

/**
 * Adds a line that is not on the list (new, or removed before) as `by`. A line the space had before
 * comes back with the unit, price and category it had (remembered per name): the document keeps
 * them, and any of them it no longer holds as the history says are written back, in the same undo
 * step — never a field that is already so (a write would clobber someone's concurrent edit for
 * nothing). Returns the key.
 */
export function addRemembered(space: Space, name: string, by: string): string {
  const key = normaliseName(name)
  const past = space.itemHistory().find((r) => r.key === key && !r.visible)
  let added = key
  space.transact(() => {
    added = space.addItem(name, { by })
    const now = space.item(added)
    if (!past || !now) return
    if (past.unit !== now.unit) space.setField(added, 'unit', past.unit)
    if (past.priceCents !== now.priceCents) space.setField(added, 'priceCents', past.priceCents)
    if (past.category !== now.category) space.setField(added, 'category', past.category)
  })
  return added
}
