/**
 * Sharing that survives copy and paste (issue 15): the address bar, once a share link is opened, no
 * longer holds the space's key (so it stays out of history). Whoever is sent that copied address is
 * told plainly what it is and can paste the share link right there, with the keyboard.
 */
import { addItem, cartItem, createSpace, expect, expectSaved, shareLinks, test } from '../fixtures/test.js'

test('a copied address bar explains itself and takes the share link; the share link opens the space', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Flat shop')
  await addItem(alice.page, 'Milk')
  await expectSaved(alice.page)
  const links = await shareLinks(alice.page)

  // Bob opens the link: the address bar keeps the space, not its key
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(cartItem(bob.page, 'Milk')).toBeVisible()
  const copied = bob.page.url()
  expect(copied).not.toContain('#t=')
  expect(copied).toMatch(/\/s\/[A-Za-z0-9_-]+$/)

  // Bob pastes that address to Carol: she is told what it is, and what to ask for
  const carol = await devices.open('Carol')
  const c = carol.page
  await c.goto(copied)
  const card = c.getByTestId('not-on-device')
  await expect(card.getByRole('heading', { name: 'This space is not on this device' })).toBeVisible()
  await expect(card).toContainText('copied from the address bar')
  // the copied address again: refused with what is missing
  const field = card.getByLabel('Share link')
  await field.fill(copied)
  await field.press('Enter')
  await expect(card.getByRole('alert')).toContainText('without its key')
  // the real share link, typed in and sent with Enter: the space opens
  await field.fill(links.write)
  await field.press('Enter')
  await expect(c.getByTestId('space-name')).toHaveText('Flat shop')
  await expect(cartItem(c, 'Milk')).toBeVisible()
  await expectSaved(c)
})

test('the share dialog draws a QR code of each link for a phone to scan, on demand', async ({ devices }) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Flat shop')
  await a.getByRole('button', { name: 'Share', exact: true }).click()
  const dialog = a.getByTestId('share-dialog')
  const toggle = dialog.getByRole('button', { name: 'QR code of the read-write link' })
  await expect(toggle).toHaveAttribute('aria-expanded', 'false')
  await toggle.focus()
  await a.keyboard.press('Enter')
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
  const code = dialog.getByRole('img', { name: /QR code of the read-write link/ })
  await expect(code).toBeVisible()
  // a real code: at least version 1's 21 × 21 modules, drawn as one path
  const size = await code.evaluate((svg) => Number(svg.getAttribute('viewBox')?.split(' ')[2]))
  expect(size - 8).toBeGreaterThanOrEqual(21)
  expect((await code.locator('path').getAttribute('d'))?.length ?? 0).toBeGreaterThan(100)
  await a.keyboard.press('Enter')
  await expect(code).toHaveCount(0)
})
