/**
 * Scenario 3: edits made offline survive quitting the whole browser. A persistent Chromium profile
 * (user-data directory) is edited offline, the browser is closed, started again on the same
 * directory still offline: everything is there. Once online the pending changes reach the server,
 * checked from another device.
 */
import { assertConverged, expectConverged, itemsByKey, snapshotOf } from '../fixtures/converge.js'
import {
  addItem,
  cartItem,
  createSpace,
  editItem,
  expect,
  expectSaved,
  noteText,
  shareLinks,
  syncStatus,
  test,
  typeInNote,
  ENGINES,
  controlledByServiceWorker,
} from '../fixtures/test.js'

for (const engine of ENGINES)
  test(`browser restart while offline on ${engine}: offline edits are all there after a restart and reach the server once online`, async ({
    devices,
  }) => {
    const userDataDir = devices.profileDir()
    const alice = await devices.openPersistent('Alice', userDataDir)
    const page = alice.page
    await createSpace(page, 'Restart flat', engine)
    await addItem(page, 'Milk')
    await expectSaved(page)
    const links = await shareLinks(page)
    const spaceUrl = page.url()
    // the app shell must come from the service worker when the browser starts without a network
    await controlledByServiceWorker(page)

    await alice.goOffline()
    await expect(syncStatus(page)).toHaveText('offline — no unsynced changes')
    await addItem(page, 'Butter')
    await page.getByRole('button', { name: 'Increase Milk', exact: true }).click()
    await editItem(page, 'Milk', { Note: 'oat' })
    await page.getByRole('button', { name: 'New note' }).click()
    await page.getByLabel('Note title').fill('Written offline')
    await page.getByLabel('Note title').press('Enter')
    await typeInNote(page, 'end', 'typed with no network, before a browser restart')
    // IndexedDB trails fast typing by a few writes: quit once every change is stored (the test
    // build's flush), when the status counts them all as saved on this device
    const stored = await page.evaluate(async () => {
      type Session = { flush(): Promise<void>; status: { kind: string; pending?: number } }
      const session = (window as unknown as { __converge: { session(): Session } }).__converge.session()
      await session.flush()
      return session.status
    })
    expect(stored.kind).toBe('offline')
    expect(stored.pending).toBeGreaterThan(1)
    const pendingText = 'offline — changes saved on this device'
    await expect(syncStatus(page)).toHaveText(pendingText)
    const before = await snapshotOf(page)
    expect(itemsByKey(before)['milk']).toMatchObject({ quantity: 2, note: 'oat' })

    // quit the browser; start it again on the same profile, still without a network
    await alice.context.close()
    const again = await devices.openPersistent('Alice', userDataDir, { offline: true })
    const p2 = again.page
    const response = await p2.goto(spaceUrl)
    expect(response?.fromServiceWorker()).toBe(true)
    await expect(p2.getByTestId('space-name')).toHaveText('Restart flat')
    await expect(cartItem(p2, 'Butter')).toBeVisible()
    await expect(cartItem(p2, 'Milk').getByTestId('item-quantity')).toHaveText('2')
    await expect.poll(() => noteText(p2)).toBe('typed with no network, before a browser restart')
    // the same changes still waiting for the server, and the whole state as it was before the restart
    await expect(syncStatus(p2)).toHaveText(pendingText)
    assertConverged([
      { device: 'Alice before the restart', snapshot: before },
      { device: 'Alice after the restart', snapshot: await snapshotOf(p2) },
    ])

    await again.goOnline()
    await expectSaved(p2)

    // the pending changes are on the server: a device that never saw them gets them from it
    const bob = await devices.open('Bob')
    await bob.page.goto(links.write)
    await expectSaved(bob.page)
    const merged = await expectConverged([again, bob])
    expect(itemsByKey(merged)['milk']).toMatchObject({ quantity: 2, note: 'oat' })
    expect(itemsByKey(merged)['butter']?.quantity).toBe(1)
    expect(merged.notes.map((n) => [n.title, n.body])).toEqual([
      ['Written offline', 'typed with no network, before a browser restart'],
    ])
    await expect(cartItem(bob.page, 'Butter')).toBeVisible()
  })
