/**
 * Tolerant reads for rendering (BAD-4 in the UI). `@converge/merge` already reads nonsense as
 * defaults, but a value a peer wrote, or one stored on this device before a validation rule existed,
 * can still be out of range: a time of 1e300 or NaN, a 10,000-character name, a price past
 * Number.MAX_SAFE_INTEGER, text with control characters. Every helper here takes `unknown`, never
 * throws, and gives something calm to show.
 */

/** How much of a name is shown: a space's, an item's, who checked a line (BAD-7 bounds them to 200). */
export const MAX_NAME = 200
/** How much of an item's note, unit or category is shown (BAD-7 bounds item text to 1,000). */
export const MAX_ITEM_TEXT = 1000
/** How much of a note title is shown in lists and labels (the title field takes 200). */
export const MAX_TITLE = 200

/** The largest distance from the epoch a `Date` can hold, in ms (ECMA-262: ±8.64e15). */
export const MAX_TIME = 8.64e15

/** A time in ms that a `Date` can hold, or null for anything else (NaN, ±Infinity, 1e300, a string…). */
export function safeTime(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_TIME ? v : null
}

/** What a date that cannot be read says. */
export const UNKNOWN_DATE = 'date unknown'

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** A time as "12 May 2025, 14:03" in the user's locale; `fallback` when it is not a readable time. */
export function formatWhen(v: unknown, fallback: string = UNKNOWN_DATE): string {
  const t = safeTime(v)
  if (t === null) return fallback
  try {
    return dateFormat.format(t)
  } catch {
    return fallback
  }
}

/** C0 and C1 control characters and DEL (shown as a space), and the bidi embeddings, overrides and
 * isolates (dropped: they would let a value reorder the text around it). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g

/**
 * A string to show: `fallback` for anything that is not a string; control characters as spaces,
 * bidi controls dropped; at most `max` characters (never splitting a surrogate pair), with "…" when
 * it was cut.
 */
export function safeText(v: unknown, max: number, fallback = ''): string {
  if (typeof v !== 'string') return fallback
  const limit = Number.isFinite(max) && max > 0 ? Math.floor(max) : 0
  // cut first (a long value is not scanned whole), a little past the limit for what is dropped
  let s = v.length > limit * 2 + 16 ? v.slice(0, limit * 2 + 16) : v
  s = s.replace(CONTROL, ' ').replace(BIDI, '')
  if (s.length <= limit) return s
  let end = Math.max(0, limit - 1)
  const last = s.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end-- // do not keep half of a surrogate pair
  return `${s.slice(0, end)}…`
}

/** A count to show (a quantity, a number of lines): a whole number ≥ 0 that is exact, else `fallback`. */
export function formatCount(v: unknown, fallback = '—'): string {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : fallback
}

/** A count to compute with: a whole number ≥ 0 that is exact, else 0. */
export const safeCount = (v: unknown): number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0

const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const moneyIn = new Map<string, Intl.NumberFormat>()

/** Two decimals, as money in `currency` (an ISO 4217 code) when given and known, else a plain number. */
function moneyFormat(currency: string | null | undefined): Intl.NumberFormat {
  if (!currency) return money
  let f = moneyIn.get(currency)
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, {
        style: 'currency',
        currency,
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      })
    } catch {
      f = money
    }
    moneyIn.set(currency, f)
  }
  return f
}

/** Cents that can be shown exactly: a whole number with |cents| ≤ Number.MAX_SAFE_INTEGER, else null. */
export const safeCents = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) ? v : null

/**
 * 249 → "2.49" (in the user's locale), or "€2.49" with `currency` "EUR"; `fallback` for a price that
 * is not exact whole cents.
 */
export function formatPrice(cents: unknown, fallback = '—', currency?: string | null): string {
  const c = safeCents(cents)
  if (c === null) return fallback
  try {
    return moneyFormat(currency).format(c / 100)
  } catch {
    return fallback
  }
}

/** A price for an input field: 249 → "2.49" (always a dot, as parsePrice reads it); "" when there is none. */
export function priceInput(cents: unknown): string {
  const c = safeCents(cents)
  if (c === null || c < 0) return ''
  const whole = Math.floor(c / 100)
  const rest = c % 100
  return `${whole}.${rest < 10 ? '0' : ''}${rest}`
}
