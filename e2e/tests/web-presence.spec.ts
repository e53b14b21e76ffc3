import { createSpace, expect, shareLinks, test } from '../fixtures/test.js'

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
