import type { Trip } from '@converge/sync-client'
import { describe, expect, it } from 'vitest'
import { finishProblem, tripMonths, tripSummary } from './trips.js'

const line = (name: string, priceCents: number | null = 100) => ({
  key: name.toLowerCase(),
  name,
  quantity: 1,
  unit: '',
  priceCents,
  checkedBy: null,
})

const trip = (over: Partial<Trip>): Trip => ({
  id: 't',
  spaceId: 's',
  status: 'complete',
  finishedBy: 'Sam',
  finishedAt: new Date(2026, 11, 1, 18, 4).getTime(),
  lines: [{ key: 'milk', name: 'Milk', quantity: 2, unit: '', priceCents: 129, checkedBy: 'Sam' }],
  totalCents: 258,
  unpricedLines: 0,
  baseVersion: 'AA',
  completedVersion: 'AB',
  voidReason: null,
  ...over,
})

describe('trips in the app', () => {
  it('[WEB-TRIP-3] groups recorded trips by month, newest first, with totals; void trips count for nothing', () => {
    const months = tripMonths([
      trip({ id: 'a', finishedAt: new Date(2026, 10, 20).getTime(), totalCents: 1000 }),
      trip({ id: 'b', finishedAt: new Date(2026, 11, 2).getTime(), totalCents: 500, unpricedLines: 1 }),
      trip({ id: 'c', finishedAt: new Date(2026, 11, 1).getTime(), totalCents: 250 }),
      trip({ id: 'v', finishedAt: new Date(2026, 11, 3).getTime(), status: 'void', totalCents: 9999 }),
    ])
    expect(months.map((m) => [m.key, m.trips.map((t) => t.id), m.totalCents, m.unpricedLines])).toEqual([
      ['2026-12', ['b', 'c'], 750, 1],
      ['2026-11', ['a'], 1000, 0],
    ])
  })

  it('[WEB-TRIP-3] a trip says its items and total, and how many lines had no price', () => {
    expect(tripSummary(trip({}), null)).toBe('1 item · 2.58')
    expect(
      tripSummary(
        trip({ lines: [line('A'), line('B'), line('C', null)], unpricedLines: 1, totalCents: 100 }),
        null,
      ),
    ).toBe('3 items · 1.00 (+ 1 without price)')
    expect(tripSummary(trip({ lines: [line('A', null)], unpricedLines: 1, totalCents: 0 }), null)).toBe(
      '1 item',
    )
  })

  it('[WEB-TRIP-2] each refusal says what happened and whether to retry with the same key, a new one, or a fresh look', () => {
    expect(finishProblem({ status: null, message: 'x' }, null).retry).toBe('same')
    expect(finishProblem({ status: 409, message: 'x', trip: trip({}) }, null)).toEqual({
      text: expect.stringContaining('Sam finished this trip already'),
      retry: null,
    })
    expect(finishProblem({ status: 412, message: 'x', version: 'AB', trip: null }, null).retry).toBe('reload')
    const justNow = trip({ finishedAt: Date.now() - 1000, finishedBy: 'Alex' })
    expect(finishProblem({ status: 412, message: 'x', version: 'AB', trip: justNow }, null).text).toContain(
      'Alex finished this trip already',
    )
    expect(finishProblem({ status: 503, message: 'x', trip: trip({ status: 'void' }) }, null).retry).toBe(
      'fresh',
    )
    expect(finishProblem({ status: 503, message: 'busy' }, null).retry).toBe('same')
    expect(finishProblem({ status: 403, message: 'read-only' }, null).retry).toBeNull()
  })
})
