import { describe, expect, it } from 'vitest'
import { restoredText, versionDiff, versionLabel } from './history.js'

const at = new Date(2026, 11, 1, 18, 4).getTime()

describe('version history in the app', () => {
  it('[WEB-HISTORY-1] a version is named by when, who and how many changes', () => {
    const label = versionLabel({ at, authors: ['Sam', 'Alex'], changes: 12 })
    expect(label).toMatch(/— Sam, Alex, 12 changes$/)
    expect(label).toContain('1')
    expect(versionLabel({ at, authors: [], changes: 1 })).toMatch(/— 1 change$/)
    expect(versionLabel({ at, authors: ['A', 'B', 'C', 'D', 'E'], changes: 3 })).toMatch(
      /— A, B, C and 2 more, 3 changes$/,
    )
  })

  it('[WEB-HISTORY-3] a restore says what it brought back, or that nothing differed', () => {
    expect(restoredText({ at }, { added: 2, removed: 1, changed: 0, notes: 1, space: 0 })).toMatch(
      /^Restored .*: 2 lines back, 1 removed, 1 note\.$/,
    )
    expect(restoredText({ at }, { added: 0, removed: 0, changed: 0, notes: 0, space: 0 })).toMatch(
      /nothing to restore\.$/,
    )
  })
})

describe('what restoring a version would do', () => {
  const line = (name: string, more: Partial<Parameters<typeof versionDiff>[0]['items'][number]> = {}) => ({
    key: name.toLowerCase(),
    name,
    quantity: 1,
    checked: false,
    note: '',
    unit: '',
    priceCents: null,
    category: '',
    ...more,
  })
  const note = (id: string, title: string, body = '') => ({ id, title, body })

  it('[WEB-HISTORY-4] each line and note of the version is marked by what restoring does to it, against the list now', () => {
    const d = versionDiff(
      {
        items: [
          line('Bread', { quantity: 3 }),
          line('Tea', { checked: true }),
          line('Jam', { priceCents: 250 }),
          line('Eggs'),
        ],
        notes: [note('n1', 'Packing', 'towels, boots'), note('n3', 'Party')],
      },
      {
        items: [line('Milk'), line('Bread'), line('Tea'), line('Jam'), line('Salt')],
        notes: [note('n1', 'Packing', 'towels'), note('n2', 'Recipes')],
      },
    )
    expect(Object.fromEntries(d.lines)).toEqual({
      milk: 'comes back',
      bread: 'now ×3',
      tea: 'ticked now',
      jam: 'details differ now',
      salt: 'comes back',
    })
    expect(d.off).toEqual(['Eggs'])
    expect(Object.fromEntries(d.notes)).toEqual({ n1: 'edited since', n2: 'comes back' })
    expect(d.toTrash).toEqual(['Party'])
    expect(d.summary).toBe(
      'Restoring this version: 2 lines come back, 1 line comes off the list, 3 lines change, 1 note comes back, 1 note changes, 1 note goes to the trash.',
    )
  })

  it('[WEB-HISTORY-4] a version that shows what the list shows now says so, and marks nothing', () => {
    const same = { items: [line('Milk', { quantity: 2 })], notes: [note('n1', '', 'x')] }
    const d = versionDiff(same, same)
    expect(d.lines.size + d.notes.size + d.off.length + d.toTrash.length).toBe(0)
    expect(d.summary).toBe('The list and notes look like this now.')
    // an untitled note about to be trashed is named as the app names it
    expect(versionDiff(same, { items: same.items, notes: [] }).toTrash).toEqual(['Untitled note'])
  })
})
