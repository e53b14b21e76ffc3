import { describe, expect, it } from 'vitest'
import { excerpt, fold, queryWords, search } from './notes-search.js'

const items = [
  { key: 'creme fraiche', name: 'Crème fraîche', note: '', category: 'Dairy' },
  { key: 'milk', name: 'Milk', note: 'oat, 2 litres', category: 'Dairy' },
  { key: 'tent pegs', name: 'Tent pegs', note: '', category: '' },
]
const notes = [
  { id: 'n1', title: 'Packing', body: 'tent\nstove\nSleeping bags for Zoë' },
  { id: 'n2', title: 'Recipes', body: 'Crêpes: flour, milk, eggs' },
]

describe('search across items and notes', () => {
  it('folds case and accents', () => {
    expect(fold('Crème FRAÎCHE')).toBe('creme fraiche')
    expect(queryWords('  Zoë   Bags ')).toEqual(['zoe', 'bags'])
  })

  it('finds items by name, note or category and notes by title or body, ignoring case and accents', () => {
    expect(search('creme', items, notes).map((r) => r.label)).toEqual(['Crème fraîche'])
    expect(search('OAT', items, notes).map((r) => r.label)).toEqual(['Milk'])
    expect(search('dairy', items, notes).map((r) => r.label)).toEqual(['Crème fraîche', 'Milk'])
    expect(search('packing', items, notes)).toEqual([
      { kind: 'note', id: 'n1', label: 'Packing', detail: 'tent' },
    ])
    expect(search('zoe', items, notes)).toEqual([
      { kind: 'note', id: 'n1', label: 'Packing', detail: 'Sleeping bags for Zoë' },
    ])
    // items first, then notes
    expect(search('tent', items, notes).map((r) => r.kind)).toEqual(['item', 'note'])
    expect(search('milk', items, notes).map((r) => r.label)).toEqual(['Milk', 'Recipes'])
  })

  it('needs every word; a blank query or a miss finds nothing', () => {
    expect(search('milk eggs', items, notes).map((r) => r.label)).toEqual(['Recipes'])
    expect(search('   ', items, notes)).toEqual([])
    expect(search('caviar', items, notes)).toEqual([])
  })

  it('is tolerant of values that are not strings, and limits the number of results', () => {
    const odd = [{ key: 'x', name: 7, note: null, category: undefined } as never]
    expect(search('x', odd, [])).toEqual([])
    const many = Array.from({ length: 80 }, (_, i) => ({
      key: `k${i}`,
      name: `Apple ${i}`,
      note: '',
      category: '',
    }))
    expect(search('apple', many, [], 10)).toHaveLength(10)
  })

  it('shows a long line around the word found', () => {
    const long = `${'a'.repeat(100)} needle ${'b'.repeat(100)}`
    const e = excerpt(long, ['needle'], 40)
    expect(e).toContain('needle')
    expect(e.startsWith('…')).toBe(true)
    expect(e.endsWith('…')).toBe(true)
  })
})
