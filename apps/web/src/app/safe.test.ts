import { describe, expect, it } from 'vitest'
import {
  MAX_TIME,
  UNKNOWN_DATE,
  formatCount,
  formatPrice,
  formatWhen,
  priceInput,
  safeCents,
  safeCount,
  safeText,
  safeTime,
} from './safe.js'

/** Values a peer's update or an old stored space may hold where the app expects a number. */
const NOT_A_NUMBER: readonly unknown[] = [
  1e300,
  -1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '2024-01-01',
  '42',
  '',
  null,
  undefined,
  true,
  {},
  { valueOf: () => 5 },
  [],
  [5],
  () => 5,
  Symbol('t'),
  10n,
]

/** …and where it expects a time: also numbers past what a Date can hold. */
const NOT_A_TIME: readonly unknown[] = [...NOT_A_NUMBER, MAX_TIME + 1, -MAX_TIME - 1]

describe('[BAD-4] safeTime', () => {
  it('passes every time a Date can hold', () => {
    for (const t of [0, 1, 1_700_000_000_000, -1, MAX_TIME, -MAX_TIME, 0.5]) expect(safeTime(t)).toBe(t)
  })

  it('reads nonsense as null', () => {
    for (const v of NOT_A_TIME) expect(safeTime(v)).toBeNull()
  })
})

describe('[BAD-4] formatWhen', () => {
  it('formats a readable time as a Date would', () => {
    const t = Date.UTC(2024, 4, 12, 14, 3)
    const expected = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(t)
    expect(formatWhen(t)).toBe(expected)
    expect(formatWhen(MAX_TIME)).not.toBe(UNKNOWN_DATE)
    expect(formatWhen(-MAX_TIME)).not.toBe(UNKNOWN_DATE)
  })

  it('never throws: nonsense gives the fallback', () => {
    // what the UI did before: these throw RangeError
    expect(() => new Date(1e300).toISOString()).toThrow(RangeError)
    expect(() => new Intl.DateTimeFormat().format(Number.NaN)).toThrow(RangeError)
    for (const v of NOT_A_TIME) {
      expect(formatWhen(v)).toBe(UNKNOWN_DATE)
      expect(formatWhen(v, 'never')).toBe('never')
    }
  })
})

describe('[BAD-4] safeText', () => {
  it('passes ordinary text unchanged', () => {
    for (const s of ['', 'Milk', 'Straße', '🥛 two litres', 'a · b — c', 'x'.repeat(200)])
      expect(safeText(s, 200)).toBe(s)
  })

  it('reads what is not a string as the fallback', () => {
    for (const v of [42, Number.NaN, 1e300, null, undefined, true, {}, { toString: () => 'x' }, [], ['a']]) {
      expect(safeText(v, 200)).toBe('')
      expect(safeText(v, 200, 'Untitled')).toBe('Untitled')
    }
  })

  it('cuts a 10,000-character value to the limit, with an ellipsis', () => {
    const out = safeText('x'.repeat(10_000), 200)
    expect(out).toHaveLength(200)
    expect(out.endsWith('…')).toBe(true)
    expect(safeText('abcdef', 3)).toBe('ab…')
  })

  it('never cuts a character made of a surrogate pair in half', () => {
    const out = safeText('a😀😀😀', 3)
    expect(out).toBe('a…')
    for (let max = 1; max < 12; max++) {
      const s = safeText('😀'.repeat(10), max)
      expect(s.length).toBeLessThanOrEqual(max)
      expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(s)).toBe(false)
    }
  })

  it('shows control characters as spaces and drops bidi controls', () => {
    expect(safeText('a\u0000b\u0007c\nd\te\u007ff\u0085g', 100)).toBe('a b c d e f g')
    expect(safeText('abc\u202edef\u2066g\u2069', 100)).toBe('abcdefg')
  })

  it('a limit that is not a positive number shows nothing but the ellipsis', () => {
    expect(safeText('abc', Number.NaN)).toBe('…')
    expect(safeText('', 0)).toBe('')
  })
})

describe('[BAD-4] counts', () => {
  it('formats whole numbers ≥ 0 that are exact', () => {
    expect(formatCount(0)).toBe('0')
    expect(formatCount(3)).toBe('3')
    expect(formatCount(Number.MAX_SAFE_INTEGER)).toBe(String(Number.MAX_SAFE_INTEGER))
    expect(safeCount(7)).toBe(7)
  })

  it('reads nonsense, negatives, fractions and inexact numbers as the fallback (or 0)', () => {
    for (const v of [...NOT_A_NUMBER, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, 1e308]) {
      expect(formatCount(v)).toBe('—')
      expect(formatCount(v, '?')).toBe('?')
      expect(safeCount(v)).toBe(0)
    }
  })
})

describe('[BAD-4] prices', () => {
  it('formats whole cents in the user locale', () => {
    const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    expect(formatPrice(249)).toBe(money.format(2.49))
    expect(formatPrice(0)).toBe(money.format(0))
    expect(formatPrice(249, '—', 'EUR')).toBe(
      new Intl.NumberFormat(undefined, {
        style: 'currency',
        currency: 'EUR',
        minimumFractionDigits: 2,
      }).format(2.49),
    )
    expect(formatPrice(249, '—', 'not a currency')).toBe(money.format(2.49))
    expect(formatPrice(Number.NaN, '—', 'EUR')).toBe('—')
    expect(formatPrice(Number.MAX_SAFE_INTEGER)).toBe(money.format(Number.MAX_SAFE_INTEGER / 100))
  })

  it('never throws for huge or non-finite values: the fallback', () => {
    for (const v of [...NOT_A_NUMBER, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2.5]) {
      expect(safeCents(v)).toBeNull()
      expect(formatPrice(v)).toBe('—')
      expect(formatPrice(v, '')).toBe('')
    }
  })

  it('gives an input field exact cents with a dot, or nothing', () => {
    expect(priceInput(249)).toBe('2.49')
    expect(priceInput(5)).toBe('0.05')
    expect(priceInput(100)).toBe('1.00')
    expect(priceInput(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91')
    for (const v of [...NOT_A_NUMBER, -1, 1e308, 2.5]) expect(priceInput(v)).toBe('')
  })
})
