import {
  addItem,
  cartItem,
  createSpace,
  dropServerDownNoise,
  expect,
  expectSaved,
  shareLinks,
  syncStatus,
  test,
  ENGINES,
} from '../fixtures/test.js'
import type { Page } from '@playwright/test'

/** What the test build's `window.__converge.session()` tells about this tab's session. */
const session = (page: Page): Promise<{ status: string; leader: boolean } | null> =>
  page.evaluate(() => {
    const hooks = (
      window as unknown as {
        __converge?: { session(): { status: { kind: string }; isLeader: boolean } | null }
      }
    ).__converge
    const s = hooks?.session()
    return s ? { status: s.status.kind, leader: s.isLeader } : null
  })

for (const engine of ENGINES)
  test(`tabs on ${engine}: three tabs of one device share changes while the server is down, and sync once it is back`, async ({
    devices,
    server,
  }) => {
    const alice = await devices.open('Alice')
    const tab1 = alice.page
    await createSpace(tab1, 'Shared flat', engine)
    const links = await shareLinks(tab1)
    const spaceUrl = tab1.url()

    const tab2 = await alice.context.newPage()
    await tab2.goto(spaceUrl)
    const tab3 = await alice.context.newPage()
    await tab3.goto(spaceUrl)
    const tabs = [tab1, tab2, tab3]
    await expectSaved(tab1)
    for (const tab of tabs) {
      await expect(tab.getByTestId('space-name')).toHaveText('Shared flat')
      await expectSaved(tab)
    }

    const isLeader = async (tab: Page): Promise<boolean> => (await session(tab))?.leader ?? false
    expect(await Promise.all(tabs.map(isLeader))).toEqual([true, false, false])

    const problemsBefore = devices.problems.length
    await server.kill('SIGKILL')
    for (const tab of tabs) await expect(syncStatus(tab)).not.toHaveAttribute('data-status', 'saved')

    // tab 2 adds an item; the others get it over the BroadcastChannel, not the server
    await addItem(tab2, 'Milk')
    for (const tab of tabs) await expect(cartItem(tab, 'Milk')).toBeVisible()

    // all tabs show the leader's status, which counts the change tab 2 stored (the browser is online:
    // it is the server that cannot be reached)
    for (const tab of tabs)
      await expect(syncStatus(tab)).toHaveText("can't reach the server — changes saved here")

    // the leader tab (first opened, holding the Web Lock) goes away
    await tab1.close()
    await expect
      .poll(async () => (await Promise.all([tab2, tab3].map(isLeader))).filter(Boolean).length)
      .toBe(1)

    await server.start()
    for (const tab of [tab2, tab3]) {
      await expect(cartItem(tab, 'Milk')).toBeVisible()
      await expectSaved(tab, { timeout: 30_000 })
    }
    // the browser logs each refused reconnect while the server was down; anything else still counts
    dropServerDownNoise(devices.problems, problemsBefore)

    // the change reached the server: another device sees it
    const bob = await devices.open('Bob')
    await bob.page.goto(links.write)
    await expect(cartItem(bob.page, 'Milk')).toBeVisible()
    await expectSaved(bob.page)
  })
