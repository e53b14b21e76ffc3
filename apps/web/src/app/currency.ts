/**
 * The currency prices are shown in: the space's own (merge SPACE-1, `meta.currency`, one for
 * everyone in the space, last-writer-wins, undoable), and until someone sets it, what this device
 * chose before spaces had a currency (localStorage, read only; setting the space's clears it).
 * Prices stay whole cents (CART-5); the currency only changes how they are shown.
 */
import type { Space } from '@converge/merge'
import { useCallback, useState, useSyncExternalStore } from 'react'

/** Currencies offered, all with two minor digits (prices are stored as cents). */
export const CURRENCIES = [
  'EUR',
  'USD',
  'GBP',
  'CHF',
  'CAD',
  'AUD',
  'NZD',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'INR',
  'BRL',
  'MXN',
  'ZAR',
] as const

const KEY = (spaceId: string): string => `converge.currency.${spaceId}`

/** A currency code this app offers, else null (no currency: plain numbers). */
export const validCurrency = (v: unknown): string | null =>
  typeof v === 'string' && (CURRENCIES as readonly string[]).includes(v) ? v : null

function read(spaceId: string): string | null {
  try {
    return validCurrency(window.localStorage.getItem(KEY(spaceId)))
  } catch {
    return null
  }
}

/**
 * The space's currency and a setter that writes it for everyone (SPACE-1). A code outside this
 * app's list that a newer client wrote is shown all the same when `Intl` knows it.
 */
export function useSpaceCurrency(space: Space): [string | null, (currency: string | null) => void] {
  const shared = useSyncExternalStore(
    useCallback((fn: () => void) => space.subscribe(fn), [space]),
    () => space.currency,
  )
  const [legacy, setLegacy] = useState(() => read(space.id))
  const set = useCallback(
    (next: string | null) => {
      space.setCurrency(next && /^[A-Z]{3}$/.test(next) ? next : null)
      setLegacy(null)
      try {
        window.localStorage.removeItem(KEY(space.id))
      } catch {
        // storage refused: nothing was kept there either
      }
    },
    [space],
  )
  return [shared ?? legacy, set]
}

/** A currency's name for the picker, e.g. "EUR — Euro" (the code alone where Intl has no name). */
export function currencyLabel(code: string): string {
  try {
    const name = new Intl.DisplayNames(undefined, { type: 'currency' }).of(code)
    return name && name !== code ? `${code} — ${name}` : code
  } catch {
    return code
  }
}
