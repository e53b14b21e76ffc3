/**
 * The currency prices are shown in, per space and per device (localStorage). It is not in the space
 * document: `meta` holds only `schema`, `id`, `createdAt` and `name`, and BAD-7 has every server and
 * client refuse any other key, so a shared currency needs a merge rule and a schema step first.
 * Prices stay whole cents (CART-5); the currency only changes how they are shown.
 */
import { useCallback, useState } from 'react'

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

/** The space's currency on this device and a setter that keeps it (memory only if storage fails). */
export function useCurrency(spaceId: string): [string | null, (currency: string | null) => void] {
  const [state, setState] = useState(() => ({ spaceId, currency: read(spaceId) }))
  const currency = state.spaceId === spaceId ? state.currency : read(spaceId)
  const set = useCallback(
    (next: string | null) => {
      const value = validCurrency(next)
      setState({ spaceId, currency: value })
      try {
        if (value) window.localStorage.setItem(KEY(spaceId), value)
        else window.localStorage.removeItem(KEY(spaceId))
      } catch {
        // storage refused: kept for this visit
      }
    },
    [spaceId],
  )
  return [currency, set]
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
