/**
 * The home screen's "Remove from this device" can be taken back (issue: undo for removal), and focus
 * always lands somewhere useful after an action: after creating a space, removing one, undoing, and
 * after Escape closes a dialog — never on <body>.
 */
import type { Page } from '@playwright/test'
import { addItem, cartItem, createSpace, expect, expectSaved, PHONE, SIZES, test } from '../fixtures/test.js'

/** The element with focus is a real control, not <body> (nor nothing). */
async function expectFocusNotOnBody(page: Page): Promise<void> {
  await expect
    .poll(() => page.evaluate(() => document.activeElement?.tagName ?? 'none'))
    .not.toMatch(/^(BODY|none)$/)
}

const card = (page: Page, name: string) => page.getByTestId('space-card').filter({ hasText: name })
const spaceLink = (page: Page, name: string) => card(page, name).locator('a.space-link')
const notice = (page: Page) => page.getByTestId('remove-notice')

/** The space screen's "← Spaces" link: back home without loading the page (works offline). */
async function backHome(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Spaces' }).click()
  await expect(page.getByLabel('Space name')).toBeVisible()
}

for (const size of SIZES)
  test(`[WEB-HOME-1] (${size.name}) removing a space from this device is undone with Undo, offline, and happens only when the notice goes`, async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    const page = alice.page
    await page.setViewportSize(size.viewport)
    await page.clock.install()
    await createSpace(page, 'Groceries')
    await addItem(page, 'Milk')
    await addItem(page, 'Bread')
    await expectSaved(page)
    await createSpace(page, 'Flat 3B')
    await createSpace(page, 'Spare')
    await expectSaved(page)
    await backHome(page)
    // newest opened first
    await expect(page.getByTestId('space-card')).toHaveText([/Spare/, /Flat 3B/, /Groceries/])

    await alice.goOffline()
    // everything is on the server: no question asked, the space leaves the list at once
    await page.getByRole('button', { name: 'Remove Groceries from this device' }).click()
    await expect(page.getByTestId('remove-dialog')).toHaveCount(0)
    await expect(page.getByTestId('space-card')).toHaveText([/Spare/, /Flat 3B/])
    await expect(notice(page)).toContainText('Removed “Groceries” from this device')
    // the last one went: focus on the one above it
    await expect(spaceLink(page, 'Flat 3B')).toBeFocused()

    // Undo: back in its place, focus on it, its items still there (offline)
    await notice(page).getByRole('button', { name: 'Undo' }).click()
    await expect(page.getByTestId('space-card')).toHaveText([/Spare/, /Flat 3B/, /Groceries/])
    await expect(notice(page)).toHaveText('')
    await expect(spaceLink(page, 'Groceries')).toBeFocused()
    await spaceLink(page, 'Groceries').click()
    await expect(cartItem(page, 'Milk')).toBeVisible()
    await expect(cartItem(page, 'Bread')).toBeVisible()
    await backHome(page)
    // opened last: listed first
    await expect(page.getByTestId('space-card')).toHaveText([/Groceries/, /Spare/, /Flat 3B/])

    // removed again and left alone: after 10 s the notice goes and the data is deleted
    await page.getByRole('button', { name: 'Remove Flat 3B from this device' }).click()
    await expect(spaceLink(page, 'Spare')).toBeFocused()
    await expect(notice(page)).toContainText('Removed “Flat 3B” from this device')
    await page.clock.fastForward(9_000)
    await expect(notice(page)).toContainText('Flat 3B')
    await page.clock.fastForward(1_500)
    await expect(notice(page)).toHaveText('')
    await expect(page.getByTestId('space-card')).toHaveCount(2)

    // removed, and the page left before the notice went: deleted too
    await alice.goOnline()
    await page.getByRole('button', { name: 'Remove Spare from this device' }).click()
    await expect(notice(page)).toContainText('Removed “Spare” from this device')
    await page.reload()
    await expect(page.getByTestId('space-card')).toHaveCount(1)
    await expect(page.getByTestId('space-card')).toHaveText([/Groceries/])

    // dismissed: deleted at once; the list is empty, focus on the field that creates a space
    await page.getByRole('button', { name: 'Remove Groceries from this device' }).click()
    await expect(page.getByLabel('Space name')).toBeFocused()
    await notice(page).getByRole('button', { name: 'Dismiss message' }).click()
    await expect(page.getByTestId('empty-spaces')).toBeVisible()
    await expectFocusNotOnBody(page)
    await page.reload()
    await expect(page.getByTestId('empty-spaces')).toBeVisible()
  })

test('[WEB-HOME-2] a space with changes the server does not have asks first, keeping today’s warning; Escape returns focus to its Remove button', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const page = alice.page
  await page.setViewportSize(PHONE)
  await createSpace(page, 'Cabin')
  await createSpace(page, 'Boat')
  await alice.goOffline()
  await addItem(page, 'Rope') // stays on this device: the server has not confirmed it
  await backHome(page)
  const remove = page.getByRole('button', { name: 'Remove Boat from this device' })
  await remove.click()
  const dialog = page.getByTestId('remove-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText('Changes not yet saved to the server are lost.')
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(remove).toBeFocused()
  await expect(page.getByTestId('space-card')).toHaveCount(2)

  // confirmed: off the list, and Undo still offered
  await remove.click()
  await dialog.getByRole('button', { name: 'Remove from this device' }).click()
  await expect(dialog).toHaveCount(0)
  await expect(page.getByTestId('space-card')).toHaveText([/Cabin/])
  await expect(spaceLink(page, 'Cabin')).toBeFocused()
  await notice(page).getByRole('button', { name: 'Undo' }).click()
  await expect(spaceLink(page, 'Boat')).toBeFocused()
  await spaceLink(page, 'Boat').click()
  await expect(cartItem(page, 'Rope')).toBeVisible()
})

test('[WEB-HOME-1] removing from the space screen goes home with Undo', async ({ devices }) => {
  const { page } = await devices.open('Alice')
  await createSpace(page, 'Attic')
  await addItem(page, 'Boxes')
  await expectSaved(page)
  await page.getByRole('button', { name: 'Remove from this device' }).click()
  await page.getByTestId('remove-dialog').getByRole('button', { name: 'Remove from this device' }).click()
  await expect(page.getByLabel('Space name')).toBeVisible()
  await expect(notice(page)).toContainText('Removed “Attic” from this device')
  await notice(page).getByRole('button', { name: 'Undo' }).click()
  await expect(spaceLink(page, 'Attic')).toBeFocused()
  await spaceLink(page, 'Attic').click()
  await expect(cartItem(page, 'Boxes')).toBeVisible()
})

test('[WEB-FOCUS-1] focus after actions: a new space’s “Add item”, and back on the opener when Escape closes a dialog', async ({
  devices,
}) => {
  const { page } = await devices.open('Alice')
  await page.setViewportSize(PHONE)
  await page.goto('/')
  await page.getByLabel('Space name').fill('Focus flat')
  await page.getByRole('button', { name: 'Create space' }).click()
  await expect(page.getByLabel('Add item')).toBeFocused()
  await expectSaved(page)

  const openers = [
    { opener: page.getByRole('button', { name: 'Share', exact: true }), dialog: 'share-dialog' },
    { opener: page.getByRole('button', { name: 'Remove from this device' }), dialog: 'remove-dialog' },
    { opener: page.getByTestId('profile-button'), dialog: null },
  ]
  for (const { opener, dialog } of openers) {
    await opener.click()
    const shown = dialog ? page.getByTestId(dialog) : page.getByRole('dialog')
    await expect(shown).toBeVisible()
    await page.keyboard.press('Escape')
    await expect(shown).toHaveCount(0)
    await expect(opener).toBeFocused()
    await expectFocusNotOnBody(page)
  }
  // a second space from the home screen, with the keyboard
  await page.getByRole('link', { name: 'Spaces' }).click()
  await page.getByLabel('Space name').fill('Second flat')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('space-name')).toHaveText('Second flat')
  await expect(page.getByLabel('Add item')).toBeFocused()
})
