/**
 * Scenario 1: two devices (separate browser contexts) both offline edit the same cart and type in the
 * same note; back online they hold the identical whole state, and that state is what SPEC.md's merge
 * rules say it must be (CART-1…6, NOTE-2), rule by rule.
 */
import type { Page } from '@playwright/test'
import { expectConverged, itemsByKey, snapshotOf } from '../fixtures/converge.js'
import {
  addItem,
  cartItem,
  cartNames,
  ENGINES,
  createSpace,
  editItem,
  expect,
  expectSaved,
  moveToEnd,
  noteText,
  rowAction,
  shareLinks,
  syncStatus,
  test,
  typeInNote,
} from '../fixtures/test.js'

const quantity = (page: Page, name: string) => cartItem(page, name).getByTestId('item-quantity')
const engineOf = (page: Page) =>
  page.evaluate(
    () =>
      (
        window as unknown as { __converge?: { session(): { space: { engineKind: string } } | null } }
      ).__converge?.session()?.space.engineKind,
  )
const click = (page: Page, label: string) => page.getByRole('button', { name: label, exact: true }).click()

for (const engine of ENGINES)
  test(`two devices offline on ${engine}: concurrent cart edits and typing merge by the rules, with nothing lost`, async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await createSpace(a, 'Two devices', engine)
    await expect.poll(() => engineOf(a)).toBe(engine)
    // Bread ×1, Tea ×3, Soap ×2, Butter ×1, Cheese, Wine, Apples, Pears ×1, in this order
    for (const name of ['Bread', 'Tea', 'Soap', 'Butter', 'Cheese', 'Wine', 'Apples', 'Pears'])
      await addItem(a, name)
    await click(a, 'Increase Tea')
    await click(a, 'Increase Tea')
    await click(a, 'Increase Soap')
    await expect(quantity(a, 'Tea')).toHaveText('3')
    await expect(quantity(a, 'Soap')).toHaveText('2')
    await a.getByRole('button', { name: 'New note' }).click()
    await a.getByLabel('Note title').fill('Shopping plan')
    await a.getByLabel('Note title').press('Enter')
    const base = 'We need:'
    await a.keyboard.type(base)
    const links = await shareLinks(a)

    const bob = await devices.open('Bob')
    const b = bob.page
    await b.goto(links.write)
    await expect.poll(() => noteText(b)).toBe(base)
    await expect.poll(() => engineOf(b)).toBe(engine) // the share link carried the engine
    await expectSaved(a)
    await expectSaved(b)
    await expectConverged([alice, bob])

    await alice.goOffline()
    await bob.goOffline()
    for (const p of [a, b]) await expect(syncStatus(p)).toHaveText('offline — no unsynced changes')

    // what each types into the note (NOTE-2): Alice at the end, Bob at the end and at the start
    const aliceEnd = ' milk, flour (Alice)'
    const bobEnd = ' eggs, sugar [Bob]'
    const bobStart = 'TODO '

    // Alice, offline
    await addItem(a, 'Eggs') // CART-1: Bob adds " EGGS " too
    await click(a, 'Increase Bread') // CART-2: Bob +1 too
    await rowAction(a, 'Tea', 'Remove') // CART-3: Bob increments it meanwhile
    await rowAction(a, 'Soap', 'Remove') // CART-3: Bob removes it too
    await click(a, 'Decrease Butter') // CART-4: Bob decrements it too
    await editItem(a, 'Wine', { Note: 'red' }) // CART-5, same field: Bob writes "white"
    await editItem(a, 'Cheese', { Note: 'the blue one' }) // CART-5, other fields than Bob's
    await a.getByRole('checkbox', { name: 'Bought Cheese' }).check()
    await moveToEnd(a, 'Pears', 'top') // CART-6: Bob moves other lines meanwhile
    await rowAction(a, 'Wine', 'Move up') // CART-6: Bob moves Wine down
    await typeInNote(a, 'end', aliceEnd)
    await expect.poll(() => noteText(a)).toBe(base + aliceEnd)

    // Bob, offline
    await addItem(b, ' EGGS ')
    await click(b, 'Increase Bread')
    await click(b, 'Increase Tea')
    await click(b, 'Increase Tea')
    await rowAction(b, 'Soap', 'Remove')
    await click(b, 'Decrease Butter')
    await editItem(b, 'Wine', { Note: 'white' })
    await editItem(b, 'Cheese', { Unit: 'g', Price: '4.50' })
    await moveToEnd(b, 'Bread', 'bottom')
    await rowAction(b, 'Wine', 'Move down')
    await typeInNote(b, 'end', bobEnd)
    await typeInNote(b, 'start', bobStart)
    await expect.poll(() => noteText(b)).toBe(bobStart + base + bobEnd)

    // each device kept its own edits only, stored on the device
    for (const p of [a, b]) {
      await expect(syncStatus(p)).toHaveAttribute('data-status', 'offline')
      await expect(syncStatus(p)).toHaveText('offline — changes saved on this device')
    }
    await expect(quantity(a, 'Bread')).toHaveText('2')
    await expect(quantity(b, 'Bread')).toHaveText('2')
    await expect(cartItem(a, 'Tea')).toHaveCount(0)
    await expect(quantity(b, 'Tea')).toHaveText('5')
    const wineKeyOf = async (p: Page) => itemsByKey(await snapshotOf(p))['wine']?.order
    const wineKeys = [await wineKeyOf(a), await wineKeyOf(b)]
    expect(wineKeys[0]).not.toEqual(wineKeys[1])

    await alice.goOnline()
    await bob.goOnline()
    await expectSaved(a)
    await expectSaved(b)
    const merged = await expectConverged([alice, bob])
    const items = itemsByKey(merged)

    // CART-1: one line for "Eggs" and " EGGS ", quantity 2, one of the two spellings
    expect(items['eggs']?.quantity).toBe(2)
    expect(['Eggs', 'EGGS']).toContain(items['eggs']?.name)
    // CART-2: Bread ×1, +1 on each device → ×3
    expect(items['bread']?.quantity).toBe(3)
    // CART-3: Tea ×3 removed by Alice while Bob added 2 → Tea survives with Bob's 2 only
    expect(items['tea']?.quantity).toBe(2)
    // CART-3: Soap removed on both → gone; CART-4: Butter 1 − 1 − 1 → gone on both
    expect(items['soap']).toBeUndefined()
    expect(items['butter']).toBeUndefined()
    expect(merged.removed).toEqual(expect.arrayContaining(['butter', 'soap']))
    // CART-5: different fields of Cheese all survive; Wine's note is one of the two, the same on both
    expect(items['cheese']).toMatchObject({
      quantity: 1,
      note: 'the blue one',
      checked: true,
      checkedBy: 'Alice',
      unit: 'g',
      priceCents: 450,
    })
    expect(['red', 'white']).toContain(items['wine']?.note)
    // CART-6: every line once, in one order: Pears moved to the top by Alice, Bread to the bottom by
    // Bob; Wine, moved by both, got one of the two keys; the list is sorted by (key, item)
    const order = merged.cart.map((i) => i.key)
    expect([...order].sort()).toEqual(['apples', 'bread', 'cheese', 'eggs', 'pears', 'tea', 'wine'])
    expect(order[0]).toBe('pears')
    expect(order.at(-1)).toBe('bread')
    expect(wineKeys).toContain(items['wine']?.order)
    const sorted = [...merged.cart].sort((x, y) =>
      x.order === y.order ? (x.key < y.key ? -1 : 1) : x.order < y.order ? -1 : 1,
    )
    expect(order).toEqual(sorted.map((i) => i.key))
    // NOTE-2: every keystroke of both, each run whole: Bob's start, then the base, then both endings in
    // one order or the other
    const body = merged.notes[0]?.body
    expect([bobStart + base + aliceEnd + bobEnd, bobStart + base + bobEnd + aliceEnd]).toContain(body)

    // both screens show that state (lines still to buy first, then the bought ones, each in list order)
    const names = [...merged.cart.filter((i) => !i.checked), ...merged.cart.filter((i) => i.checked)].map(
      (i) => i.name,
    )
    for (const p of [a, b]) {
      expect(await cartNames(p)).toEqual(names)
      await expect(quantity(p, 'Tea')).toHaveText('2')
      await expect.poll(() => noteText(p)).toBe(body)
      await expect(p.getByTestId('total-quantity')).toHaveText('11')
    }

    // CART-3/4: removed lines come back with exactly what is added (no debt from the double remove)
    await addItem(a, 'Soap')
    await addItem(b, 'Butter')
    await expectSaved(a)
    await expectSaved(b)
    const after = itemsByKey(await expectConverged([alice, bob]))
    expect(after['soap']?.quantity).toBe(1)
    expect(after['butter']?.quantity).toBe(1)
  })
