/**
 * Revocable links (PROTOCOL.md §P5.10; sync-client SYNC-11): Alice resets the share links from the
 * share dialog, with the keyboard. Bob's open tab is told plainly — his socket closed with 4410, his
 * list still on screen — and his old link, opened again, is still refused; Alice's session goes on
 * with the new link, and the new link works on a third device (and on Bob's, once he gets it).
 * Every wait is for a condition on the page.
 */
import type { Page } from '@playwright/test'
import {
  addItem,
  cartItem,
  createSpace,
  expect,
  expectSaved,
  shareLinks,
  syncStatus,
  test,
} from '../fixtures/test.js'

const REVOKED = 'This link was reset. Ask someone in the space for the new link.'

/** What the test build's hooks tell of this tab's connection to the server. */
const connection = (page: Page): Promise<{ connected: boolean; error: string | null } | null> =>
  page.evaluate(() => {
    const hooks = (
      window as unknown as {
        __converge?: {
          session(): { connectionState: { connected: boolean; error: { kind: string } | null } | null } | null
        }
      }
    ).__converge
    const c = hooks?.session()?.connectionState
    return c ? { connected: c.connected, error: c.error?.kind ?? null } : null
  })

test('revoke: Alice resets the share links; Bob’s open tab is told and cut off, his old link stays refused, the new link works', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Shared flat')
  await addItem(alice.page, 'Milk')
  await expectSaved(alice.page)
  const old = await shareLinks(alice.page)

  const bob = await devices.open('Bob')
  const bobSockets: { url: string; closed: boolean }[] = []
  bob.page.on('websocket', (ws) => {
    if (!ws.url().includes('/sync/')) return
    const entry = { url: ws.url(), closed: false }
    bobSockets.push(entry)
    ws.on('close', () => (entry.closed = true))
  })
  await bob.page.goto(old.write)
  await expect(cartItem(bob.page, 'Milk')).toBeVisible()
  await expectSaved(bob.page)
  expect(bobSockets.filter((s) => !s.closed)).toHaveLength(1)

  // Alice: Share → "Reset share links…" → the confirmation explains → confirmed with the keyboard
  const a = alice.page
  await a.getByRole('button', { name: 'Share', exact: true }).click()
  const dialog = a.getByTestId('share-dialog')
  await dialog.getByRole('button', { name: 'Reset share links…' }).click()
  const question = dialog.getByRole('group', { name: /Reset the share links\?/ })
  await expect(question).toContainText(
    'Everyone with the old links loses access until you send them the new ones',
  )
  await expect(dialog.getByRole('button', { name: 'Keep the links' })).toBeFocused()
  await a.keyboard.press('Tab')
  await expect(dialog.getByTestId('reset-links-confirm')).toBeFocused()
  await a.keyboard.press('Enter')
  await expect(dialog.getByTestId('reset-links-note')).toHaveText(/^New links are ready\./)
  await expect(dialog.getByRole('button', { name: 'Reset share links…' })).toBeFocused()
  const fresh = {
    write: await dialog.getByTestId('share-link-read-write').inputValue(),
    read: await dialog.getByTestId('share-link-read-only').inputValue(),
  }
  expect(fresh.write).not.toBe(old.write)
  expect(fresh.read).not.toBe(old.read)
  await dialog.getByRole('button', { name: 'Done' }).click()
  await expect(dialog).toHaveCount(0)

  // Alice's own session went on with the new link
  await expectSaved(a)
  await addItem(a, 'Bread')
  await expectSaved(a)
  expect(await connection(a)).toEqual({ connected: true, error: null })

  // Bob's open tab: told plainly, a calm banner with the way home; his socket is closed for good
  const b = bob.page
  await expect(b.getByTestId('banner-revoked')).toBeVisible()
  await expect(b.getByTestId('banner-revoked')).toHaveAttribute('role', 'note')
  await expect(b.getByTestId('banner-revoked')).toContainText('This link was reset.')
  await expect(syncStatus(b)).toHaveAttribute('data-status', 'revoked')
  await expect(syncStatus(b)).toHaveText(REVOKED)
  await expect.poll(() => bobSockets.every((s) => s.closed)).toBe(true)
  expect(await connection(b)).toEqual({ connected: false, error: 'LinkRevoked' })
  // his copy stays readable; Alice's new item never reached him
  await expect(cartItem(b, 'Milk')).toBeVisible()
  await expect(cartItem(b, 'Bread')).toHaveCount(0)
  await expect(b.getByTestId('banner-sync-error')).toHaveCount(0)

  // his old link, opened again: still refused, still said plainly, the local copy still there
  const before = bobSockets.length
  await b.goto(old.write)
  await expect(b.getByTestId('banner-revoked')).toBeVisible()
  await expect(syncStatus(b)).toHaveAttribute('data-status', 'revoked')
  await expect(cartItem(b, 'Milk')).toBeVisible()
  await expect.poll(() => bobSockets.length).toBeGreaterThan(before)
  await expect.poll(() => bobSockets.every((s) => s.closed)).toBe(true)
  await expect(cartItem(b, 'Bread')).toHaveCount(0)

  // "Go back to your lists" takes him home, where the space is still listed
  await b.getByTestId('banner-revoked').getByRole('link', { name: 'Go back to your lists' }).click()
  await expect(b).toHaveURL(/\/$/)
  await expect(b.getByText('Shared flat')).toBeVisible()

  // the new link works on a third device…
  const carol = await devices.open('Carol')
  await carol.page.goto(fresh.write)
  await expect(carol.page.getByTestId('space-name')).toHaveText('Shared flat')
  await expect(cartItem(carol.page, 'Milk')).toBeVisible()
  await expect(cartItem(carol.page, 'Bread')).toBeVisible()
  await expectSaved(carol.page)
  await expect(carol.page.getByTestId('banner-revoked')).toHaveCount(0)

  // …and on Bob's, once Alice sends it to him
  await b.goto(fresh.write)
  await expect(cartItem(b, 'Bread')).toBeVisible()
  await expectSaved(b)
  await expect(b.getByTestId('banner-revoked')).toHaveCount(0)
  await addItem(b, 'Eggs')
  await expect(cartItem(a, 'Eggs')).toBeVisible()
})
