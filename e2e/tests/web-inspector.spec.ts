/**
 * The sync inspector (apps/web WEB-INSPECT-1…5, sync-client DIAG-1…4): opened from the status line's
 * popover and with Alt+Shift+I, it shows true values — what the server confirmed, what waits, the
 * round trip, the two version vectors, the messages, the tabs — and copies them as JSON with no token
 * and nothing of the space. Every wait is for a condition.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Locator, Page } from '@playwright/test'
import {
  PHONE,
  SAVED,
  addItem,
  createSpace,
  expect,
  expectSaved,
  shareLinks,
  syncStatus,
  test,
} from '../fixtures/test.js'

const inspector = (page: Page): Locator => page.getByTestId('sync-inspector')
const fact = (page: Page, name: string): Locator => inspector(page).getByTestId(`inspector-${name}`)
const messages = (page: Page, dir: 'in' | 'out', type: string): Locator =>
  inspector(page).locator(`[data-testid="inspector-message"][data-dir="${dir}"][data-type="${type}"]`)
/** A number, as the inspector's `data-value` carries one. */
const NUMBER = /^\d+(\.\d+)?$/

/** The token of a share link (`…#t=<token>`). */
const tokenOf = (link: string): string => {
  const m = /#t=([^&]+)/.exec(new URL(link).hash)
  if (!m?.[1]) throw new Error(`no token in ${link}`)
  return decodeURIComponent(m[1])
}

test('[WEB-INSPECT-1][WEB-INSPECT-2] the inspector shows true values: saved — open, a round trip, nothing pending, the device’s vector the server’s; offline with an edit — one change pending, with its age', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const { page } = alice
  await createSpace(page, 'Inspected flat')
  await addItem(page, 'Milk')
  await expectSaved(page)

  // the status line opens a popover: the status in words, and "Sync details"
  await syncStatus(page).click()
  await expect(syncStatus(page)).toHaveAttribute('aria-expanded', 'true')
  const popover = page.getByTestId('status-popover')
  await expect(popover).toContainText(SAVED)
  await popover.getByRole('button', { name: 'Sync details' }).click()
  await expect(popover).toHaveCount(0)
  await expect(inspector(page)).toBeVisible()
  await expect(inspector(page)).toBeFocused()
  await expect(page.getByRole('dialog', { name: 'Sync details' })).toBeVisible()

  await expect(fact(page, 'connection')).toHaveAttribute('data-value', 'open')
  await expect(fact(page, 'status')).toHaveAttribute('data-value', 'saved')
  await expect(fact(page, 'server-version')).toHaveAttribute('data-value', NUMBER)
  await expect(fact(page, 'pending')).toHaveAttribute('data-value', '0')
  await expect(fact(page, 'last-ack')).toHaveAttribute('data-value', NUMBER)
  await expect(inspector(page).getByTestId('inspector-vectors-equal')).toHaveAttribute('data-value', 'true')
  const rows = inspector(page).getByTestId('inspector-vectors').locator('tbody tr[data-writer]')
  await expect(rows).not.toHaveCount(0)
  for (const row of await rows.all()) {
    await expect(row).toHaveAttribute('data-same', 'true')
    expect(await row.getByTestId('inspector-vector-device').textContent()).toBe(
      await row.getByTestId('inspector-vector-server').textContent(),
    )
  }
  await expect(messages(page, 'out', 'sync-update').first()).toBeVisible()
  await expect(messages(page, 'in', 'durable-ack').first()).toBeVisible()
  // a quiet socket sends a heartbeat within a few seconds: its answer is the round trip
  await expect(fact(page, 'rtt')).toHaveAttribute('data-value', NUMBER, { timeout: 15_000 })
  await expect(fact(page, 'rtt-smoothed')).toHaveAttribute('data-value', NUMBER)
  await expect(fact(page, 'rtt')).toHaveText(/^\d+ ms$/)
  // the device sent a digest once saved (PROBE-3)
  await expect(messages(page, 'out', 'digest').first()).toBeVisible()

  // Escape closes it; the focus is back on the status line
  await page.keyboard.press('Escape')
  await expect(inspector(page)).toHaveCount(0)
  await expect(syncStatus(page)).toBeFocused()

  // Alt+Shift+I opens it from anywhere in the space — the add box too — and closes it again
  await page.getByLabel('Add item').focus()
  await page.keyboard.press('Alt+Shift+I')
  await expect(inspector(page)).toBeVisible()
  await page.keyboard.press('Alt+Shift+I')
  await expect(inspector(page)).toHaveCount(0)
  await expect(page.getByLabel('Add item')).toBeFocused()
  await page.keyboard.press('Alt+Shift+I')
  await expect(inspector(page)).toBeVisible()

  // offline (the browser says so, and the app closes its socket), one edit: pending, with an age
  await alice.goOffline()
  await expect(fact(page, 'connection')).toHaveAttribute('data-value', 'offline')
  await addItem(page, 'Eggs')
  await expect(fact(page, 'pending')).toHaveAttribute('data-value', '1')
  await expect(fact(page, 'pending')).toHaveText('1 change')
  await expect(fact(page, 'pending-age')).toHaveAttribute('data-value', NUMBER)
  await expect(fact(page, 'pending-age')).toHaveText(/ago$/) // it grows, live
  await expect(fact(page, 'status')).toHaveAttribute('data-value', 'offline')
  await expect(inspector(page).getByTestId('inspector-vectors-equal')).toHaveAttribute('data-value', 'false')
  await expect(inspector(page).locator('tbody tr[data-same="false"]')).toHaveCount(1)

  // back online: confirmed, in step again
  await alice.goOnline()
  await expect(fact(page, 'connection')).toHaveAttribute('data-value', 'open')
  await expect(fact(page, 'pending')).toHaveAttribute('data-value', '0')
  await expect(inspector(page).getByTestId('inspector-vectors-equal')).toHaveAttribute('data-value', 'true')
  await expectSaved(page)
})

test('[WEB-INSPECT-2] two tabs of one browser: the inspector lists both, and which one leads; the follower shows the leader’s connection', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const tab1 = alice.page
  await createSpace(tab1, 'Two tabs')
  const tab2 = await alice.context.newPage()
  await tab2.goto(tab1.url())
  await expectSaved(tab2)
  await addItem(tab2, 'Bread') // made in the follower, sent by the leader
  await expectSaved(tab1)
  await expectSaved(tab2)

  for (const [tab, leads] of [
    [tab1, true],
    [tab2, false],
  ] as const) {
    await tab.bringToFront()
    await tab.keyboard.press('Alt+Shift+I')
    await expect(inspector(tab)).toBeVisible()
    const tabs = inspector(tab).getByTestId('inspector-tab')
    await expect(tabs).toHaveCount(2)
    await expect(tabs.and(tab.locator('[data-self="true"]'))).toHaveAttribute('data-leader', String(leads))
    await expect(tabs.and(tab.locator('[data-self="false"]'))).toHaveAttribute('data-leader', String(!leads))
    await expect(fact(tab, 'source')).toHaveAttribute('data-value', leads ? 'this tab' : 'leader tab')
    await expect(fact(tab, 'connection')).toHaveAttribute('data-value', 'open')
    await expect(fact(tab, 'pending')).toHaveAttribute('data-value', '0')
    await expect(messages(tab, 'out', 'sync-update').first()).toBeVisible()
    await expect(inspector(tab).getByTestId('inspector-vectors-equal')).toHaveAttribute('data-value', 'true')
  }
  // the same two tabs, seen from both
  const ids = async (tab: Page): Promise<string[]> =>
    (
      await inspector(tab)
        .getByTestId('inspector-tab')
        .evaluateAll((li) => li.map((l) => l.dataset.id ?? ''))
    ).sort()
  expect(await ids(tab1)).toEqual(await ids(tab2))

  // the follower closes: the leader lists itself alone
  await tab2.close()
  await expect(inspector(tab1).getByTestId('inspector-tab')).toHaveCount(1)
})

test('[WEB-INSPECT-3] "Copy diagnostics" copies JSON with no token and nothing of the space; refused, the text is offered to copy by hand', async ({
  devices,
  server,
}) => {
  const alice = await devices.open('Alice')
  await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
  const { page } = alice
  await createSpace(page, 'Secret garden')
  await addItem(page, 'Saffron threads')
  await expectSaved(page)
  const token = tokenOf((await shareLinks(page)).write)
  expect(token.length).toBeGreaterThan(20)

  await page.keyboard.press('Alt+Shift+I')
  await inspector(page).getByRole('button', { name: 'Copy diagnostics' }).click()
  await expect(inspector(page).getByTestId('inspector-copied')).toHaveText('Copied')
  const text = await page.evaluate(() => navigator.clipboard.readText())
  const copied = JSON.parse(text) as Record<string, unknown>
  expect(copied).toMatchObject({
    kind: 'converge-sync-diagnostics',
    engine: 'yjs',
    status: 'saved',
    connection: { state: 'open' },
    pending: { count: 0 },
    vectors: { equal: true },
  })
  expect(copied.appVersion).toMatch(/^\d+\.\d+\.\d+/)
  expect(copied.userAgent).toContain('Chrome')
  for (const secret of [token, 'Saffron', 'Secret garden', 'Alice']) expect(text).not.toContain(secret)

  // a browser that refuses the clipboard: the diagnostics in a field, selected, to copy by hand
  await page.evaluate(() => {
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: () => Promise.reject(new DOMException('refused', 'NotAllowedError')) },
    })
  })
  await inspector(page).getByRole('button', { name: 'Copy diagnostics' }).click()
  const fallback = inspector(page).getByRole('textbox', { name: 'Diagnostics to copy' })
  await expect(fallback).toBeVisible()
  await expect(fallback).toBeFocused()
  await expect(inspector(page).getByTestId('inspector-copied')).toHaveText('')
  const byHand = await fallback.inputValue()
  expect(JSON.parse(byHand)).toMatchObject({ kind: 'converge-sync-diagnostics', engine: 'yjs' })
  for (const secret of [token, 'Saffron', 'Secret garden']) expect(byHand).not.toContain(secret)
})

test('[WEB-INSPECT-5] at phone width the inspector is a sheet that fits, the page beside it still works, and it passes an axe audit', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const { page } = alice
  await page.setViewportSize(PHONE)
  await createSpace(page, 'Phone flat')
  await addItem(page, 'Tea')
  await expectSaved(page)
  await syncStatus(page).click()
  await page.getByRole('button', { name: 'Sync details' }).click()
  await expect(inspector(page)).toBeVisible()
  await expect(messages(page, 'in', 'durable-ack').first()).toBeAttached()
  const box = await inspector(page).boundingBox()
  expect(box).not.toBeNull()
  expect(box!.x).toBeGreaterThanOrEqual(0)
  expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width)
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
  // keyboard: Tab goes through its controls; the log scrolls by itself
  await expect(inspector(page).getByRole('region', { name: 'Message log' })).toHaveAttribute('tabindex', '0')
  const { violations } = await new AxeBuilder({ page })
    .include('[data-testid="sync-inspector"]')
    .withTags(['wcag2a', 'wcag2aa', 'wcag21aa'])
    .analyze()
  expect(
    violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help}`),
  ).toEqual([])
  // non-modal: the space still takes an edit while it is open
  await addItem(page, 'Honey')
  await expect(fact(page, 'pending')).toHaveAttribute('data-value', /^[01]$/)
  await inspector(page).getByRole('button', { name: 'Close sync details' }).click()
  await expect(inspector(page)).toHaveCount(0)
  await expect(syncStatus(page)).toBeFocused()
  await expectSaved(page)
})
