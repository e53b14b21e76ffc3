/**
 * Renaming a space (issue 15, item 4): "Rename" beside the name, with the keyboard; Enter saves and
 * everyone sees the new name at once, Escape keeps the old one; focus comes back to "Rename". A
 * read-only link offers no Rename.
 */
import { createSpace, expect, expectSaved, shareLinks, test } from '../fixtures/test.js'

test('rename a space with the keyboard: live for everyone, Escape keeps the name, read-only cannot', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Flat shop')
  const links = await shareLinks(a)
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(bob.page.getByTestId('space-name')).toHaveText('Flat shop')

  const rename = a.getByRole('button', { name: 'Rename Flat shop' })
  await rename.focus()
  await a.keyboard.press('Enter')
  const field = a.getByLabel('Name of this space')
  await expect(field).toBeFocused()
  await a.keyboard.type('Weekly shop') // the old name is selected: typing replaces it
  await a.keyboard.press('Enter')
  await expect(a.getByTestId('space-name')).toHaveText('Weekly shop')
  await expect(a.getByRole('button', { name: 'Rename Weekly shop' })).toBeFocused()
  await expect(bob.page.getByTestId('space-name')).toHaveText('Weekly shop')
  await expectSaved(a)

  // Escape: nothing changes
  await a.keyboard.press('Enter')
  await a.keyboard.type('Oops')
  await a.keyboard.press('Escape')
  await expect(a.getByTestId('space-name')).toHaveText('Weekly shop')
  await expect(a.getByRole('button', { name: 'Rename Weekly shop' })).toBeFocused()

  // a read-only link: no Rename
  const carol = await devices.open('Carol')
  await carol.page.goto(links.read)
  await expect(carol.page.getByTestId('space-name')).toHaveText('Weekly shop')
  await expect(carol.page.getByRole('button', { name: /^Rename/ })).toHaveCount(0)
})
