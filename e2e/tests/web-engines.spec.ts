/**
 * WEB-ENGINE-1, WEB-ENGINE-2, WEB-NOTE-5: an Automerge space in the app, as an adopting engineer tries
 * it — chosen at creation, carried by its links, its note editor with others' cursors and undo; a Yjs
 * visitor never downloads Automerge; a device that opens the space with the wrong engine is refused.
 */
import {
  addItem,
  createSpace,
  expect,
  expectSaved,
  noteText,
  shareLinks,
  syncStatus,
  test,
} from '../fixtures/test.js'

const AUTOMERGE = /automerge|\.wasm(\?|$)/i

test('[WEB-ENGINE-1][WEB-NOTE-5] an Automerge space: its link carries the engine, notes show both people typing with their cursors, undo takes back only my own typing', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  const fetched: string[] = []
  a.on('request', (r) => fetched.push(r.url()))
  await createSpace(a, 'Automerge flat', 'automerge')
  expect(fetched.some((u) => AUTOMERGE.test(u))).toBe(true) // the engine came with the first Automerge space
  await addItem(a, 'Milk')
  const links = await shareLinks(a)
  expect(links.write).toMatch(/#t=[^&]+&e=automerge$/)
  expect(links.read).toMatch(/&e=automerge$/)
  await a.getByRole('link', { name: 'Spaces' }).click()
  await expect(a.getByTestId('space-card').filter({ hasText: 'Automerge flat' })).toContainText('Automerge')
  await a.getByTestId('space-card').filter({ hasText: 'Automerge flat' }).getByRole('link').click()

  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(links.write)
  await expect(b.getByTestId('cart').getByText('Milk')).toBeVisible()
  await expectSaved(b)

  await a.getByRole('button', { name: 'New note' }).click()
  await a.getByLabel('Note title').fill('Dinner')
  await a.getByLabel('Note title').press('Enter')
  await a.keyboard.type('Alice: pasta')
  await b.getByTestId('note-item').first().click()
  await expect.poll(() => noteText(b)).toBe('Alice: pasta')
  await b.getByTestId('note-body').click()
  await b.keyboard.press('Control+End')
  await b.keyboard.press('Enter')
  await b.keyboard.type('Bob: dessert')
  await expect.poll(() => noteText(a)).toBe('Alice: pasta\nBob: dessert')
  // each sees the other's caret, named, in the other's colour
  await expect(a.locator('.cm-remote-caret', { hasText: 'Bob' })).toHaveCount(1)
  await expect(b.locator('.cm-remote-caret', { hasText: 'Alice' })).toHaveCount(1)

  // Alice's undo takes back her own last typing, never Bob's
  await a.getByTestId('note-body').click()
  await a.keyboard.press('Control+End')
  await a.keyboard.type(' and salad')
  await expect.poll(() => noteText(b)).toBe('Alice: pasta\nBob: dessert and salad')
  await a.keyboard.press('Control+z')
  await expect.poll(() => noteText(a)).toBe('Alice: pasta\nBob: dessert')
  await expect.poll(() => noteText(b)).toBe('Alice: pasta\nBob: dessert')
  await a.keyboard.press('Control+Shift+z')
  await expect.poll(() => noteText(b)).toBe('Alice: pasta\nBob: dessert and salad')
  await expectSaved(a)
  await expectSaved(b)
})

test('[WEB-ENGINE-1][WEB-ENGINE-2] a Yjs visitor downloads no Automerge; opening an Automerge space as Yjs is refused with nothing shown of it', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Secret list', 'automerge')
  await addItem(alice.page, 'Private item')
  await expectSaved(alice.page)
  const links = await shareLinks(alice.page)

  const carol = await devices.open('Carol')
  const c = carol.page
  const fetched: string[] = []
  c.on('request', (r) => fetched.push(r.url()))
  await createSpace(c, 'Groceries') // Yjs
  await addItem(c, 'Bread')
  await expectSaved(c)
  expect(fetched.filter((u) => AUTOMERGE.test(u))).toEqual([])

  // the link without its engine (cut short, or from an app before engines) opens the space as Yjs
  await c.goto(links.write.replace(/&e=automerge$/, ''))
  await expect(syncStatus(c)).toHaveAttribute('data-status', 'error')
  await expect(syncStatus(c)).toContainText('not syncing')
  await expect(c.getByText('Private item')).toHaveCount(0)
})
