/**
 * Trips in the app (SPEC.md WEB-TRIP-1…4): what "Done shopping" says at each step, and the trips list
 * grouped by month with totals. Pure: the components render what these return.
 */
import type { Trip, TripFailure } from '@converge/sync-client'
import { formatPrice } from './safe.js'

/** A month of trips, in the device's time zone. */
export interface TripMonth {
  /** `2026-12` */
  readonly key: string
  /** "December 2026" */
  readonly label: string
  readonly trips: readonly Trip[]
  readonly totalCents: number
  /** Lines without a price over the month's trips (so a total is never shown as complete when it is not). */
  readonly unpricedLines: number
  /** Lines with a price: none, and the month has no total to show. */
  readonly pricedLines: number
}

const monthLabel = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' })
const whenLabel = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
})

/** WEB-TRIP-3: the recorded trips (complete ones; void ones recorded nothing), newest month first. */
export function tripMonths(trips: readonly Trip[]): TripMonth[] {
  const months = new Map<string, Trip[]>()
  const sorted = trips
    .filter((t) => t.status === 'complete')
    .sort((a, b) => b.finishedAt - a.finishedAt || (a.id < b.id ? -1 : 1))
  for (const t of sorted) {
    const d = new Date(t.finishedAt)
    const key = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
    months.set(key, [...(months.get(key) ?? []), t])
  }
  return [...months].map(([key, list]) => ({
    key,
    label: monthLabel.format(new Date(list[0]!.finishedAt)),
    trips: list,
    totalCents: list.reduce((n, t) => n + t.totalCents, 0),
    unpricedLines: list.reduce((n, t) => n + t.unpricedLines, 0),
    pricedLines: list.reduce((n, t) => n + t.lines.length - t.unpricedLines, 0),
  }))
}

/** "Tue 1 Dec, 18:04" */
export const tripWhen = (t: Pick<Trip, 'finishedAt'>): string => whenLabel.format(new Date(t.finishedAt))

/** "3 items · €12.40" (+ "2 without price"). */
export function tripSummary(
  t: { readonly lines: readonly unknown[]; readonly totalCents: number; readonly unpricedLines: number },
  currency: string | null,
): string {
  const n = t.lines.length
  const items = `${n} ${n === 1 ? 'item' : 'items'}`
  const priced = n - t.unpricedLines
  const total = priced > 0 ? ` · ${formatPrice(t.totalCents, '—', currency)}` : ''
  const unpriced = t.unpricedLines > 0 && priced > 0 ? ` (+ ${t.unpricedLines} without price)` : ''
  return items + total + unpriced
}

/** What the dialog says when finishing did not go through (WEB-TRIP-2). */
export function finishProblem(
  f: TripFailure,
  currency: string | null,
): { text: string; retry: 'same' | 'fresh' | 'reload' | null } {
  if (f.status === null)
    return {
      text: 'Could not reach the server. Nothing is lost: try again when you are back online.',
      retry: 'same',
    }
  if (f.status === 409 && f.trip)
    return {
      text: `${f.trip.finishedBy || 'Someone'} finished this trip already (${tripWhen(f.trip)}, ${tripSummary(f.trip, currency)}).`,
      retry: null,
    }
  if (f.status === 412)
    return f.trip && f.trip.status === 'complete' && Date.now() - f.trip.finishedAt < 10 * 60_000
      ? {
          text: `${f.trip.finishedBy || 'Someone'} finished this trip already (${tripWhen(f.trip)}, ${tripSummary(f.trip, currency)}).`,
          retry: null,
        }
      : { text: 'The list changed while you looked. Check it again below.', retry: 'reload' }
  if (f.status === 503 && f.trip?.status === 'void')
    return {
      text: 'The list could not be updated, so the trip was not recorded. Nothing changed; try again.',
      retry: 'fresh',
    }
  if (f.status === 503 || f.status === 429)
    return { text: 'The server is busy. Nothing changed; try again in a moment.', retry: 'same' }
  if (f.status === 422) return { text: 'Nothing is ticked off on the server yet.', retry: 'reload' }
  if (f.status === 401 || f.status === 403 || f.status === 410)
    return { text: `This link cannot finish trips: ${f.message}`, retry: null }
  return { text: `The trip could not be finished: ${f.message}`, retry: 'same' }
}

/** A fresh Idempotency-Key: one per trip the person means to finish, kept across its retries. */
export const newTripKey = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
