/**
 * Notes, more (issue: checklists, pin, search, a remote trash): checklist lines are checkboxes that
 * sync as text; a pinned note heads the list on every device; one search field finds cart items and
 * notes and takes the keyboard to them; a note someone else trashes stays open here with a way to
 * keep it. At desktop and phone size, two devices in one space.
 */
import type { Page } from '@playwright/test'
import {
  addItem,
  cartItem,
  createSpace,
  expect,
  expectSaved,
  noteText,
  shareLinks,
  SIZES,
  test,
} from '../fixtures/test.js'
import type { Devices } from '../fixtures/test.js'

/** Alice creates a space, Bob opens its link; both at the given size. */
async function twoDevices(devices: Devices, size: (typeof SIZES)[number], name: string) {
  const alice = await devices.open('Alice')
  await alice.page.setViewportSize(size.viewport)
  await createSpace(alice.page, name)
  const links = await shareLinks(alice.page)
  const bob = await devices.open('Bob')
  await bob.page.setViewportSize(size.viewport)
  await bob.page.goto(links.write)
  await expectSaved(bob.page)
  return { a: alice.page, b: bob.page }
}

/** "New note", a title, Enter (the focus goes to the body), then the body's text typed. */
async function newNote(page: Page, title: string, body: string): Promise<void> {
  await page.getByRole('button', { name: 'New note' }).click()
  await page.getByLabel('Note title').fill(title)
  await page.getByLabel('Note title').press('Enter')
  await expect(page.getByRole('textbox', { name: `Text of ${title}` })).toBeFocused()
  if (body) await page.keyboard.type(body)
}

const noteTitles = (page: Page): Promise<string[]> =>
  page
    .getByTestId('note-item')
    .evaluateAll((items) =>
      items.map((i) => (i.querySelector('.note-item-title')?.textContent ?? '').replace(/^Pinned: /, '')),
    )

for (const size of SIZES) {
  test(`notes (${size.name}): checklist lines are checkboxes; a toggle syncs as text to the other device [WEB-NOTE-1]`, async ({
    devices,
  }) => {
    const { a, b } = await twoDevices(devices, size, 'Checklists')
    await newNote(a, 'Groceries', '- [ ] milk\n* [X] eggs\nbread')
    // "Checklist" makes the line with the cursor (bread) a checklist line
    await a.getByRole('button', { name: 'Checklist', exact: true }).click()
    await expect(a.getByRole('textbox', { name: 'Text of Groceries' })).toBeFocused()
    await expect.poll(() => noteText(a)).toBe('milk\neggs\nbread')
    const milk = a.getByRole('checkbox', { name: 'milk' })
    await expect(milk).not.toBeChecked()
    await expect(a.getByRole('checkbox', { name: 'eggs' })).toBeChecked()
    await expect(a.getByRole('checkbox', { name: 'bread' })).not.toBeChecked()
    await expect(a.locator('.cm-line.cm-task-done')).toHaveText('eggs')
    await expect(a.getByTestId('note-progress')).toHaveText('1/3 done')

    // a click checks milk; Ctrl+Enter checks the line with the cursor (bread)
    await milk.click()
    await expect(milk).toBeChecked()
    await a.keyboard.press('Control+Enter')
    await expect(a.getByRole('checkbox', { name: 'bread' })).toBeChecked()
    await expect(a.getByTestId('note-progress')).toHaveText('3/3 done')
    await expectSaved(a)

    // Bob sees the same boxes; his toggle of eggs reaches Alice
    await expect(b.getByRole('checkbox', { name: 'milk' })).toBeChecked()
    await expect(b.getByRole('checkbox', { name: 'bread' })).toBeChecked()
    await expect(b.getByTestId('note-progress')).toHaveText('3/3 done')
    await b.getByRole('checkbox', { name: 'eggs' }).click()
    await expect(b.getByRole('checkbox', { name: 'eggs' })).not.toBeChecked()
    await expect(a.getByRole('checkbox', { name: 'eggs' })).not.toBeChecked()
    await expect(a.getByTestId('note-progress')).toHaveText('2/3 done')
    // the toggle is Bob's one edit: his editor's undo takes exactly it back, on both devices
    await b.locator('.cm-line', { hasText: 'bread' }).click()
    await b.keyboard.press('Control+z')
    await expect(b.getByRole('checkbox', { name: 'eggs' })).toBeChecked()
    await expect(a.getByRole('checkbox', { name: 'eggs' })).toBeChecked()
    await expect(a.getByTestId('note-progress')).toHaveText('3/3 done')
    await expect.poll(() => noteText(b)).toBe('milk\neggs\nbread')
    await expectSaved(a)
    await expectSaved(b)
  })

  test(`notes (${size.name}): a pinned note heads the list on both devices, under "Pinned" [WEB-NOTE-2]`, async ({
    devices,
  }) => {
    const { a, b } = await twoDevices(devices, size, 'Pins')
    await newNote(a, 'Recipes', 'pancakes')
    await newNote(a, 'Packing', 'tent')
    await expect.poll(() => noteTitles(a)).toEqual(['Packing', 'Recipes'])
    await expect.poll(() => noteTitles(b)).toEqual(['Packing', 'Recipes'])
    await expect(a.getByRole('heading', { name: 'Pinned' })).toHaveCount(0)

    await a.getByTestId('note-item').filter({ hasText: 'Recipes' }).click()
    const pin = a.getByRole('button', { name: 'Pin', exact: true })
    await expect(pin).toHaveAttribute('aria-pressed', 'false')
    await pin.click()
    await expect(a.getByRole('button', { name: 'Pinned', exact: true })).toHaveAttribute(
      'aria-pressed',
      'true',
    )
    for (const page of [a, b]) {
      await expect.poll(() => noteTitles(page)).toEqual(['Recipes', 'Packing'])
      await expect(page.getByRole('heading', { name: 'Pinned' })).toBeVisible()
      await expect(page.getByTestId('pinned-notes').getByTestId('note-item')).toHaveText([/Recipes/])
      await expect(page.getByTestId('note-pin-marker')).toHaveCount(1)
    }

    // Bob unpins it: newest first again, everywhere
    await b.getByTestId('note-item').filter({ hasText: 'Recipes' }).click()
    await b.getByRole('button', { name: 'Pinned', exact: true }).click()
    for (const page of [a, b]) {
      await expect.poll(() => noteTitles(page)).toEqual(['Packing', 'Recipes'])
      await expect(page.getByRole('heading', { name: 'Pinned' })).toHaveCount(0)
      await expect(page.getByTestId('note-pin-marker')).toHaveCount(0)
    }
    await expectSaved(a)
    await expectSaved(b)
  })

  test(`search (${size.name}): finds an item and a note, accents and case aside, keyboard only [WEB-SEARCH-1]`, async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await a.setViewportSize(size.viewport)
    await createSpace(a, 'Search flat')
    for (const name of ['Crème fraîche', 'Milk', 'Tea']) await addItem(a, name)
    await newNote(a, 'Recipes', 'Crêpes: flour, milk, eggs')
    await newNote(a, 'Packing', 'tent')
    await expectSaved(a)

    // "/" from a cart row (not typing anywhere) puts the focus in the search
    const search = a.getByRole('combobox', { name: 'Search items and notes' })
    const tea = cartItem(a, 'Tea')
    await tea.focus()
    await a.keyboard.press('/')
    await expect(search).toBeFocused()
    await a.keyboard.type('CREME')
    const results = a.getByRole('listbox', { name: 'Search results' })
    await expect(results.getByRole('option')).toHaveText([/Crème fraîche/])
    await a.keyboard.press('Enter')
    await expect(cartItem(a, 'Crème fraîche')).toBeFocused()
    await expect(cartItem(a, 'Crème fraîche')).toBeInViewport()
    await expect(search).toHaveValue('')

    // Ctrl+K; "milk" finds the item and the note; ↓ then Enter opens the note, its text focused
    await a.keyboard.press('Control+k')
    await expect(search).toBeFocused()
    await a.keyboard.type('milk')
    await expect(results.getByRole('option')).toHaveText([/Milk/, /Recipes.*Crêpes/])
    await expect(results.getByRole('option').first()).toHaveAttribute('aria-selected', 'true')
    await a.keyboard.press('ArrowDown')
    await expect(results.getByRole('option').nth(1)).toHaveAttribute('aria-selected', 'true')
    await expect(search).toHaveAttribute(
      'aria-activedescendant',
      (await results.getByRole('option').nth(1).getAttribute('id')) ?? '',
    )
    await a.keyboard.press('Enter')
    await expect(a.getByRole('textbox', { name: 'Text of Recipes' })).toBeFocused()
    await expect(a.getByTestId('note-item').filter({ hasText: 'Recipes' })).toHaveAttribute(
      'aria-current',
      'true',
    )

    // "/" typed in the note is text, not a shortcut
    await a.keyboard.press('Control+End')
    await a.keyboard.type(' /')
    await expect(search).not.toBeFocused()
    await expect.poll(() => noteText(a)).toBe('Crêpes: flour, milk, eggs /')

    // nothing found says so; Escape clears and gives the focus back to where it was
    await tea.focus()
    await a.keyboard.press('Control+k')
    await a.keyboard.type('caviar')
    await expect(a.getByTestId('search-status')).toHaveText('Nothing matches “caviar”')
    await expect(results).toBeHidden()
    await a.keyboard.press('Escape')
    await expect(search).toHaveValue('')
    await expect(tea).toBeFocused()
    await expect(a.getByTestId('search-status')).toHaveText('')
  })

  test(`notes (${size.name}): a note someone else trashes stays open here; "Keep it" restores it on both, "Discard" closes it [WEB-NOTE-3]`, async ({
    devices,
  }) => {
    const { a, b } = await twoDevices(devices, size, 'Trash race')
    await newNote(a, 'Packing', 'tent')
    await expectSaved(a)
    const bobBody = b.getByRole('textbox', { name: 'Text of Packing' })
    await expect.poll(() => noteText(b)).toBe('tent')
    await bobBody.click()
    await b.keyboard.press('Control+End')

    // Alice trashes it while Bob writes in it: Bob's editor stays, and says who did it
    await a.getByRole('button', { name: 'Move Packing to trash' }).click()
    await expect(a.getByTestId('notes-empty')).toBeVisible()
    const notice = b.getByTestId('note-trashed-notice')
    await expect(notice).toContainText('Alice moved this note to the trash.')
    await expect(notice).toHaveAttribute('role', 'status')
    await expect(bobBody).toBeFocused()
    await b.keyboard.type(', stove')
    await expect.poll(() => noteText(b)).toBe('tent, stove')

    // "Keep it": back in the list on both devices, with Bob's words; Bob keeps writing
    await notice.getByRole('button', { name: 'Keep it' }).click()
    await expect(notice).toHaveText('')
    await expect(bobBody).toBeFocused()
    await expect(a.getByTestId('note-item')).toHaveText([/Packing/])
    await expect.poll(() => noteText(a)).toBe('tent, stove')
    await expect(b.getByTestId('note-item')).toHaveText([/Packing/])
    await expect(b.getByRole('button', { name: 'Trash (0)' })).toBeVisible()
    await expectSaved(b)

    // trashed again: "Discard" closes Bob's editor (the note stays in the trash), focus on "New note"
    await a.getByRole('button', { name: 'Move Packing to trash' }).click()
    await expect(notice).toContainText('Alice moved this note to the trash.')
    await notice.getByRole('button', { name: 'Discard' }).click()
    await expect(b.getByTestId('notes-empty')).toBeVisible()
    await expect(b.getByRole('button', { name: 'New note' })).toBeFocused()
    await expect(b.getByRole('button', { name: 'Trash (1)' })).toBeVisible()
    await expect(a.getByRole('button', { name: 'Trash (1)' })).toBeVisible()
    await expectSaved(a)
    await expectSaved(b)
  })
}
