import type { Page } from '@playwright/test'
import { createSpace, expect, expectSaved, shareLinks, syncStatus, test } from '../fixtures/test.js'

test('presence: two devices see each other, and a closed page drops out of the list', async ({ devices }) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Presence flat')
  const links = await shareLinks(alice.page)

  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(bob.page.getByTestId('space-name')).toHaveText('Presence flat')

  const alicePeople = alice.page.getByTestId('presence-person')
  const bobPeople = bob.page.getByTestId('presence-person')
  await expect(alicePeople).toHaveText([/Alice \(you\)$/, /Bob$/])
  await expect(bobPeople).toHaveText([/Bob \(you\)$/, /Alice$/])
  await expect(alice.page.getByRole('list', { name: 'Here now: 2 people' })).toBeVisible()
  await expect(alice.page.getByTestId('presence')).toContainText('You and 1 other')

  await bob.page.close()
  // the server removes Bob's awareness when his socket closes: well within the default timeout
  await expect(alicePeople).toHaveText([/Alice \(you\)$/])
  await expect(alice.page.getByRole('list', { name: 'Here now: 1 person' })).toBeVisible()
  await expect(alice.page.getByTestId('presence')).toContainText('Only you')
})

/** The client ids of the people named `name` that this page's session shows (test build hooks). */
const presenceOf = (page: Page, name: string): Promise<number[]> =>
  page.evaluate((who) => {
    const hooks = (
      window as unknown as {
        __converge?: { session(): { presence(): { clientId: number; name: string }[] } | null }
      }
    ).__converge
    return (hooks?.session()?.presence() ?? []).filter((p) => p.name === who).map((p) => p.clientId)
  }, name)

test('presence: after a device goes offline and back, the others see every one of its tabs again at once', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Presence after reconnect')
  const links = await shareLinks(alice.page)
  const tab2 = await alice.context.newPage()
  await tab2.goto(alice.page.url())
  await expectSaved(tab2)

  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expectSaved(bob.page)
  await expect.poll(() => presenceOf(bob.page, 'Alice').then((ids) => ids.length)).toBe(2)

  await alice.goOffline()
  for (const page of [alice.page, tab2])
    await expect(syncStatus(page)).toHaveAttribute('data-status', 'offline')
  await alice.goOnline()
  for (const page of [alice.page, tab2]) await expectSaved(page)
  // both of Alice's tabs, the follower too, long before y-protocols' 15-second renewal would bring it back
  await expect.poll(() => presenceOf(bob.page, 'Alice').then((ids) => ids.length), { timeout: 5_000 }).toBe(2)
})
