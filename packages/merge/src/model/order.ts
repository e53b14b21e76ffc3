import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'

/**
 * CART-6: items carry a fractional order key (a last-writer-wins register). The list is sorted by
 * (order key, item key), so concurrent moves that pick the same key still give one total order.
 */
export const compareOrder = (a: { order: string; key: string }, b: { order: string; key: string }): number =>
  a.order < b.order ? -1 : a.order > b.order ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0

const isValidKey = (k: string): boolean => {
  try {
    generateKeyBetween(k, null)
    return true
  } catch {
    return false
  }
}

/** An order key read from the document; an invalid one (from a hostile peer) sorts as "a0". */
export const readOrderKey = (v: unknown): string => (typeof v === 'string' && isValidKey(v) ? v : 'a0')

/**
 * `n` keys in order, strictly after `lo` and before `hi`. `moveItem` never passes a `hi` at or below
 * `lo` (it re-keys the lines that tie), but a hostile peer's keys could: then the keys go after `lo`.
 */
export const keysBetween = (lo: string | null, hi: string | null, n: number): string[] =>
  lo !== null && hi !== null && lo >= hi ? generateNKeysBetween(lo, null, n) : generateNKeysBetween(lo, hi, n)
