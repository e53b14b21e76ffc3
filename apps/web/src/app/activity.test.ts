import type { CartItem, Note } from '@converge/merge'
import { describe, expect, it } from 'vitest'
import { activity, ago } from './activity.js'

const item = (name: string, addedBy: unknown, addedAt: unknown): CartItem =>
  ({
    key: name.toLowerCase(),
    name,
    quantity: 1,
    note: '',
    unit: '',
    priceCents: null,
    category: '',
    checked: false,
    checkedBy: null,
    order: 'a0',
    addedBy,
    addedAt,
  }) as CartItem
const note = (id: string, title: string, createdAt: number, trashedAt: number | null = null): Note => ({
  id,
  title,
  body: '',
  createdAt,
  createdBy: 'r',
  updatedAt: createdAt,
  trashed: trashedAt !== null,
  trashedAt,
  pinnedAt: null,
})

describe('activity: derived from the space itself, newest first', () => {
  it('names who added a line and when; notes created and trashed; newest first', () => {
    const list = activity(
      [item('Jam', 'Sam', 3000), item('Milk', null, 1000), item('Old', null, null)],
      [note('n1', 'Plan', 2000)],
      [note('n2', '', 500, 4000)],
    )
    expect(list.map((e) => [e.who, e.what, e.at])).toEqual([
      [null, 'Note “Untitled” moved to the trash', 4000],
      ['Sam', 'added Jam', 3000],
      [null, 'New note “Plan”', 2000],
      [null, 'added Milk', 1000],
      [null, 'New note “Untitled”', 500],
    ])
  })

  it('reads nonsense as nothing (BAD-4): a time of 1e300, a name that is not a string', () => {
    const list = activity([item('Jam', 42, 1e300), item('Tea', { x: 1 }, 10)], [], [])
    expect(list.map((e) => [e.who, e.what])).toEqual([[null, 'added Tea']])
  })

  it('says how long ago calmly, never in the future', () => {
    expect(ago(10_000, 5_000)).toBe('just now')
    expect(ago(0, 2 * 60_000)).toMatch(/2 min/)
    expect(ago(0, 3 * 3_600_000)).toMatch(/3 hr/)
  })
})
