import { addItem, cartItem, createSpace, expect, expectSaved, shareLinks, test } from '../fixtures/test.js'

test('storage: without IndexedDB a banner says so and the app keeps working in memory and syncing', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  // this device has no IndexedDB (as in some private modes)
  await alice.context.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { get: () => undefined, configurable: true })
  })
  await createSpace(alice.page, 'No storage')
  await expect(alice.page.getByTestId('banner-storage')).toContainText('kept in memory only in this tab')
  await addItem(alice.page, 'Milk')
  await expectSaved(alice.page)
  const links = await shareLinks(alice.page)
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(cartItem(bob.page, 'Milk')).toBeVisible()
})

test('a space created offline is registered with the server under its own id once online', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  await alice.page.goto('/')
  await expect(alice.page.getByLabel('Space name')).toBeVisible()
  await alice.goOffline()
  await alice.page.getByLabel('Space name').fill('Made offline')
  await alice.page.getByRole('button', { name: 'Create space' }).click()
  await expect(alice.page.getByTestId('space-name')).toHaveText('Made offline')
  const id = await alice.page.getByTestId('space-screen').getAttribute('data-space-id')
  await addItem(alice.page, 'Candles')
  await alice.goOnline()
  await expectSaved(alice.page, { timeout: 20_000 })
  const links = await shareLinks(alice.page)
  expect(links.write).toContain(`/s/${id}#t=`)
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(cartItem(bob.page, 'Candles')).toBeVisible()
})
