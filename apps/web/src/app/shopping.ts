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
