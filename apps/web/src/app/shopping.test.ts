import { type EngineKind, createSpace, loadEngine } from '@converge/merge'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  addFeedback,
  addRemembered,
  groupByCategory,
  groupMoves,
  parseQuantity,
  renameItem,
  sectionMoveIndex,
  setQuantity,
  splitBought,
} from './shopping.js'

const names = (items: readonly { name: string }[]): string[] => items.map((i) => i.name)

describe.each<EngineKind>(['yjs', 'automerge'])('shopping list on %s', (engine) => {
  beforeAll(() => loadEngine(engine))
  const open = () => createSpace({ engine, name: 'Flat' })

  it('splits the list into to buy and bought, each in the list order', () => {
    const space = open()
    for (const n of ['Milk', 'Bread', 'Eggs', 'Tea']) space.addItem(n)
    space.check('bread', 'A')
    space.check('tea', 'A')
    const { toBuy, bought } = splitBought(space.items())
    expect(names(toBuy)).toEqual(['Milk', 'Eggs'])
    expect(names(bought)).toEqual(['Bread', 'Tea'])
  })

  it('moves a line within its section, past the lines of the other', () => {
    const space = open()
    for (const n of ['Milk', 'Bread', 'Eggs', 'Tea']) space.addItem(n)
    space.check('bread', 'A')
    const all = space.items()
    const { toBuy } = splitBought(all)
    // Milk down one place in "to buy" lands after Eggs, past the bought Bread
    const index = sectionMoveIndex(all, toBuy, 'milk', 1)
    expect(index).not.toBeNull()
    space.moveItem('milk', index!)
    expect(names(splitBought(space.items()).toBuy)).toEqual(['Eggs', 'Milk', 'Tea'])
    // and back up
    const again = space.items()
    space.moveItem('milk', sectionMoveIndex(again, splitBought(again).toBuy, 'milk', 0)!)
    expect(names(splitBought(space.items()).toBuy)).toEqual(['Milk', 'Eggs', 'Tea'])
    expect(sectionMoveIndex(again, toBuy, 'milk', 9)).toBeNull()
  })

  it('sets a typed quantity through the counter, one undo step', () => {
    const space = open()
    space.addItem('Milk')
    expect(setQuantity(space, 'milk', 12)).toBe(true)
    expect(space.item('milk')?.quantity).toBe(12)
    expect(setQuantity(space, 'milk', 3)).toBe(true)
    expect(space.item('milk')?.quantity).toBe(3)
    expect(setQuantity(space, 'milk', 3)).toBe(false)
    space.undo()
    expect(space.item('milk')?.quantity).toBe(12)
  })

  it('renames a line to another item keeping its note, price, place and checked state, one undo step', () => {
    const space = open()
    for (const n of ['Bread', 'Mlik', 'Eggs']) space.addItem(n)
    space.increment('mlik', 2)
    space.setField('mlik', 'note', 'oat')
    space.setField('mlik', 'priceCents', 129)
    space.check('mlik', 'Alice')
    const item = space.item('mlik')!
    let result: { key: string; merged: boolean } | undefined
    space.transact(() => (result = renameItem(space, space.items(), item, 'Milk')))
    expect(result).toEqual({ key: 'milk', merged: false })
    const milk = space.item('milk')!
    expect(milk).toMatchObject({
      name: 'Milk',
      quantity: 3,
      note: 'oat',
      priceCents: 129,
      checkedBy: 'Alice',
    })
    expect(names(space.items())).toEqual(['Bread', 'Milk', 'Eggs'])
    space.undo()
    expect(names(space.items())).toEqual(['Bread', 'Mlik', 'Eggs'])
    expect(space.item('mlik')).toMatchObject({ quantity: 3, note: 'oat' })
  })

  it('renames to another spelling of the same item as a display-name edit', () => {
    const space = open()
    space.addItem('milk')
    const r = renameItem(space, space.items(), space.item('milk')!, 'Milk')
    expect(r).toEqual({ key: 'milk', merged: false })
    expect(names(space.items())).toEqual(['Milk'])
  })

  it('renames into an item on the list by adding its quantity there', () => {
    const space = open()
    space.addItem('Milk')
    space.addItem('milk 2')
    space.increment('milk 2', 1)
    space.transact(() => renameItem(space, space.items(), space.item('milk 2')!, 'MILK'))
    expect(space.items().map((i) => [i.name, i.quantity])).toEqual([['Milk', 3]])
  })
  it('groups the lines to buy by category, in the order of their first line, "Other" last', () => {
    const space = open()
    for (const [n, c] of [
      ['Apples', 'Produce'],
      ['Soap', ''],
      ['Milk', 'Dairy'],
      ['Pears', 'produce '],
      ['Cheese', 'Dairy'],
    ] as const)
      space.addItem(n, { fields: { category: c } })
    const groups = groupByCategory(space.items())
    expect(groups.map((g) => g.label)).toEqual(['Produce', 'Dairy', 'Other'])
    expect(groups.map((g) => names(g.items))).toEqual([['Apples', 'Pears'], ['Milk', 'Cheese'], ['Soap']])
  })

  it('moves a line within its group without changing the order of the groups', () => {
    const space = open()
    for (const [n, c] of [
      ['Milk', 'Dairy'],
      ['Apples', 'Produce'],
      ['Cheese', 'Dairy'],
      ['Pears', 'Produce'],
      ['Yogurt', 'Dairy'],
    ] as const)
      space.addItem(n, { fields: { category: c } })
    const shown = () => groupByCategory(space.items()).map((g) => `${g.label}: ${names(g.items).join(' ')}`)
    const move = (key: string, to: number): void => {
      const all = space.items()
      const group = groupByCategory(all).find((g) => g.items.some((i) => i.key === key))!
      space.transact(() => {
        for (const [k, index] of groupMoves(all, group.items, key, to)) space.moveItem(k, index)
      })
    }
    expect(shown()).toEqual(['Dairy: Milk Cheese Yogurt', 'Produce: Apples Pears'])
    // the group's first line down one: Dairy stays the first group
    move('milk', 1)
    expect(shown()).toEqual(['Dairy: Cheese Milk Yogurt', 'Produce: Apples Pears'])
    move('cheese', 2)
    expect(shown()).toEqual(['Dairy: Milk Yogurt Cheese', 'Produce: Apples Pears'])
    move('cheese', 0)
    expect(shown()).toEqual(['Dairy: Cheese Milk Yogurt', 'Produce: Apples Pears'])
    move('pears', 0)
    expect(shown()).toEqual(['Dairy: Cheese Milk Yogurt', 'Produce: Pears Apples'])
    // nothing to do: the same place, or out of the group
    expect(groupMoves(space.items(), groupByCategory(space.items())[0]!.items, 'milk', 1)).toEqual([])
    expect(groupMoves(space.items(), groupByCategory(space.items())[0]!.items, 'milk', 3)).toEqual([])
  })
  it('adds a line back with the unit, price and category it had, in one undo step', () => {
    const space = open()
    space.addItem('Milk', { fields: { unit: 'l', priceCents: 110, category: 'Dairy', note: 'oat' } })
    space.addItem('Bread')
    space.removeItem('milk')
    expect(space.item('milk')).toBeUndefined()
    const key = addRemembered(space, 'milk', 'Alice')
    expect(key).toBe('milk')
    const milk = space.item('milk')!
    expect([milk.name, milk.quantity, milk.unit, milk.priceCents, milk.category]).toEqual([
      'Milk',
      1,
      'l',
      110,
      'Dairy',
    ])
    expect(milk.addedBy).toBe('Alice')
    space.undo()
    expect(space.item('milk')).toBeUndefined()
    // a name never seen is a plain add
    addRemembered(space, 'Tea', 'Alice')
    expect(space.item('tea')).toMatchObject({ name: 'Tea', unit: '', priceCents: null, category: '' })
  })
})

describe('typed quantities and add feedback', () => {
  it('takes whole numbers from 1 to MAX_QUANTITY', () => {
    expect(parseQuantity(' 12 ')).toBe(12)
    expect(parseQuantity('1000000')).toBe(1_000_000)
    for (const bad of ['', '0', '-1', '1.5', '1e3', 'two', '10000000'])
      expect(parseQuantity(bad)).toBeUndefined()
  })

  it('says what an add did', () => {
    const space = createSpace({ engine: 'yjs' })
    space.addItem('Milk')
    const milk = space.item('milk')!
    expect(addFeedback('Bread', undefined, undefined)).toBe('Added Bread.')
    space.increment('milk')
    expect(addFeedback('Milk', milk, space.item('milk'))).toBe('One more Milk (now 2).')
    expect(addFeedback('milk', milk, space.item('milk'))).toBe('“milk” merged into Milk (now 2).')
    space.check('milk', 'A')
    expect(addFeedback('milk', space.item('milk'), space.item('milk'))).toBe('Milk is back on the list.')
  })
})
