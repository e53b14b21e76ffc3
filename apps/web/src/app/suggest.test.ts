import { describe, expect, it } from 'vitest'
import { type PastItem, categories, fold, matches, suggest } from './suggest.js'

const item = (name: string, addedAt: number, more: Partial<PastItem> = {}): PastItem => ({
  key: fold(name),
  name,
  unit: '',
  priceCents: null,
  category: '',
  addedAt,
  ...more,
})

const names = (list: readonly PastItem[]) => list.map((i) => i.name)

describe('suggest', () => {
  it('folds case, accents and spaces', () => {
    expect(fold('  Crème  Fraîche ')).toBe('creme fraiche')
    expect(fold('ÄPFEL')).toBe('apfel')
  })

  it('matches the start of the name or of a word in it, nothing in the middle', () => {
    expect(matches('oat milk', 'mil')).toBe(true)
    expect(matches('oat milk', 'oat m')).toBe(true)
    expect(matches('whole-grain bread', 'gra')).toBe(true)
    expect(matches('oat milk', 'ilk')).toBe(false)
    expect(matches('oat milk', '')).toBe(false)
  })

  it('ranks the most recently added first, then by name, and shows at most six', () => {
    const history = [
      item('Milk', 10),
      item('Oat milk', 30),
      item('Mints', 20),
      item('Mango', 20),
      item('Bread', 40),
      ...['Ma1', 'Ma2', 'Ma3', 'Ma4'].map((n, i) => item(n, i)),
    ]
    expect(names(suggest(history, 'm', new Set()))).toEqual([
      'Oat milk',
      'Mango',
      'Mints',
      'Milk',
      'Ma4',
      'Ma3',
    ])
    expect(names(suggest(history, 'M', new Set(), 2))).toEqual(['Oat milk', 'Mango'])
  })

  it('is case and accent insensitive both ways', () => {
    const history = [item('Crème fraîche', 1), item('creamer', 2)]
    expect(names(suggest(history, 'CREME', new Set()))).toEqual(['Crème fraîche'])
    expect(names(suggest(history, 'crè', new Set()))).toEqual(['creamer', 'Crème fraîche'])
    expect(names(suggest(history, 'fraiche', new Set()))).toEqual(['Crème fraîche'])
  })

  it('leaves out what is on the list to buy now, and nothing for an empty query', () => {
    const history = [item('Milk', 2), item('Mints', 1)]
    expect(names(suggest(history, 'mi', new Set(['milk'])))).toEqual(['Mints'])
    expect(suggest(history, '   ', new Set())).toEqual([])
  })

  it('keeps one suggestion per item, its newest record, and reads odd times as long ago', () => {
    const history = [
      item('Milk', 1, { unit: 'l' }),
      item('milk', 5, { key: 'milk', unit: 'pack' }),
      item('Mints', Number.NaN),
    ]
    const got = suggest(history, 'mi', new Set())
    expect(got.map((i) => i.unit)).toEqual(['pack', ''])
    expect(names(got)).toEqual(['milk', 'Mints'])
  })

  it('lists the categories in use once each, sorted', () => {
    expect(
      categories([
        [{ category: 'Dairy' }, { category: '' }, { category: ' produce ' }],
        [{ category: 'dairy' }, { category: 'Bakery' }, { category: 7 }],
      ]),
    ).toEqual(['Bakery', 'Dairy', 'produce'])
  })
})
