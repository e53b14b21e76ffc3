import {
  addItem,
  cartItem,
  createSpace,
  expect,
  expectSaved,
  shareLinks,
  syncStatus,
  test,
  controlledByServiceWorker,
} from '../fixtures/test.js'

test('offline: a change made offline survives a reload and reaches the server once online', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const { page } = alice
  await createSpace(page, 'Offline flat')
  await addItem(page, 'Milk')
  await expectSaved(page)
  const links = await shareLinks(page)

  // the service worker must control the page to serve the app shell offline
  await controlledByServiceWorker(page)
  await expectSaved(page)

  await alice.goOffline()
  await expect(syncStatus(page)).toHaveAttribute('data-status', 'offline')
  await expect(syncStatus(page)).toHaveText('offline — no unsynced changes')
  await addItem(page, 'Butter')
  await expect(cartItem(page, 'Butter')).toBeVisible()
  await expect(syncStatus(page)).toHaveText('offline — changes saved on this device')

  // reload without a network: the shell comes from the service worker, the space from IndexedDB
  const response = await page.reload()
  expect(response?.fromServiceWorker()).toBe(true)
  await expect(page.getByTestId('space-name')).toHaveText('Offline flat')
  await expect(cartItem(page, 'Milk')).toBeVisible()
  await expect(cartItem(page, 'Butter')).toBeVisible()
  await expect(syncStatus(page)).toHaveText('offline — changes saved on this device')

  await alice.goOnline()
  await expectSaved(page)

  // another device gets the change from the server
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(cartItem(bob.page, 'Butter')).toBeVisible()
  await expect(cartItem(bob.page, 'Milk')).toBeVisible()
  await expectSaved(bob.page)
})
