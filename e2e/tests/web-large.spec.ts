/**
 * Large updates cross the wire (issue 14; PROTOCOL.md §P7, sync-client LARGE-1…5) against the real
 * server: a paste larger than the 1 MiB frame limit, and an offline backlog of 5 MB, reach a second
 * device; a paste the space cannot store is refused with its numbers while the next edit syncs; and
 * a device that made such a change before it knew the limit says plainly that the space is full.
 */
import type { Page } from '@playwright/test'
import {
  type Devices,
  createSpace,
  expect,
  expectSaved,
  shareLinks,
  syncStatus,
  test,
  typeInNote,
  controlledByServiceWorker,
} from '../fixtures/test.js'

const LINE = 'The quick brown fox jumps over the lazy dog — 0123456789 ÅÄÖ.\n'

/** Pastes `chars` characters of text at the end of the open note, as the clipboard would. */
async function paste(page: Page, chars: number): Promise<void> {
  const body = page.getByTestId('note-body')
  await body.click()
  await page.keyboard.press('Control+End')
  await body.evaluate(
    (el, { chars, line }) => {
      const text = line.repeat(Math.ceil(chars / line.length)).slice(0, chars)
      const data = new DataTransfer()
      data.setData('text/plain', text)
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
    },
    { chars, line: LINE },
  )
}

/** The length of the first note's body in the device's document (the editor shows only what is on screen). */
const bodyLength = (page: Page): Promise<number> =>
  page.evaluate(() => {
    const hooks = (window as unknown as { __converge?: { snapshot(): unknown } }).__converge
    const snapshot = hooks?.snapshot() as { notes?: { body: string }[] } | null | undefined
    return snapshot?.notes?.[0]?.body.length ?? -1
  })

/** Alice creates a space with one note "Big"; Bob opens it from the share link. */
async function twoDevices(devices: Devices) {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Large')
  await alice.page.getByRole('button', { name: 'New note' }).click()
  await alice.page.getByLabel('Note title').fill('Big')
  await alice.page.getByLabel('Note title').press('Enter')
  await alice.page.keyboard.type('start:')
  await expectSaved(alice.page)
  const links = await shareLinks(alice.page)
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expectSaved(bob.page)
  await expect.poll(() => bodyLength(bob.page)).toBe('start:'.length)
  return { alice, bob }
}

test('a 1.2 MB paste into a note reaches the second device, and later edits too', async ({
  devices,
}, info) => {
  const { alice, bob } = await twoDevices(devices)
  const size = 1_200_000
  const started = Date.now()
  await paste(alice.page, size)
  await expect.poll(() => bodyLength(alice.page)).toBe('start:'.length + size)
  await expect.poll(() => bodyLength(bob.page), { timeout: 30_000 }).toBe('start:'.length + size)
  const ms = Date.now() - started
  await expectSaved(alice.page, { timeout: 30_000 })
  await expectSaved(bob.page)
  info.annotations.push({
    type: 'measurement',
    description: `1.2 MB paste reached the second device in ${ms} ms`,
  })
  console.log(`[LARGE] a 1.2 MB paste reached the second device in ${ms} ms`)
  // nothing is stuck: the next keystrokes sync as always
  await typeInNote(alice.page, 'end', ' and more')
  await expect.poll(() => bodyLength(bob.page)).toBe('start:'.length + size + ' and more'.length)
  await expectSaved(alice.page)
  // and after a reload too
  await alice.page.reload()
  await expectSaved(alice.page)
  await expect(alice.page.getByTestId('banner-sync-error')).toHaveCount(0)
})

test('a 5 MB offline backlog syncs to the second device once online', async ({ devices }, info) => {
  const { alice, bob } = await twoDevices(devices)
  await alice.goOffline()
  await expect(syncStatus(alice.page)).toHaveAttribute('data-status', 'offline')
  const size = 5_000_000
  await paste(alice.page, size)
  await expect.poll(() => bodyLength(alice.page)).toBe('start:'.length + size)
  await typeInNote(alice.page, 'end', '!')
  expect(await bodyLength(bob.page)).toBe('start:'.length)
  const started = Date.now()
  await alice.goOnline()
  await expect.poll(() => bodyLength(bob.page), { timeout: 45_000 }).toBe('start:'.length + size + 1)
  const ms = Date.now() - started
  await expectSaved(alice.page, { timeout: 30_000 })
  await expectSaved(bob.page)
  info.annotations.push({
    type: 'measurement',
    description: `5 MB backlog reached the second device in ${ms} ms`,
  })
  console.log(`[LARGE] a 5 MB offline backlog reached the second device ${ms} ms after going online`)
})

test.describe('a space with a small size limit', () => {
  test.use({ serverEnv: { MAX_DOCUMENT_BYTES: String(2 * 1024 * 1024) } })

  test('a paste over the space’s limit is refused with its numbers; the next small edit syncs', async ({
    devices,
  }) => {
    const { alice, bob } = await twoDevices(devices)
    await paste(alice.page, 3 * 1024 * 1024)
    const banner = alice.page.getByTestId('banner-too-large')
    await expect(banner).toBeVisible()
    // the paste is 3 Mi characters, some of them 2 or 3 bytes in UTF-8
    await expect(banner).toContainText(
      /This paste is too large for a shared space: 3\.\d MB of at most 2 MB\./,
    )
    expect(await bodyLength(alice.page)).toBe('start:'.length) // nothing was pasted
    // the next small edit syncs
    await typeInNote(alice.page, 'end', ' small')
    await expect.poll(() => bodyLength(bob.page)).toBe('start: small'.length)
    await expectSaved(alice.page)
    await expectSaved(bob.page)
    // a paste that fits still goes through
    await paste(alice.page, 1024 * 1024)
    await expect
      .poll(() => bodyLength(bob.page), { timeout: 30_000 })
      .toBe('start: small'.length + 1024 * 1024)
    await expectSaved(alice.page, { timeout: 30_000 })
    await alice.page.getByTestId('banner-too-large').getByRole('button', { name: 'Dismiss' }).click()
    await expect(banner).toHaveCount(0)
  })

  test('a change made before the device heard the limit, that the server refuses (4413), says plainly that the space is full', async ({
    devices,
  }) => {
    const { alice, bob } = await twoDevices(devices)
    const page = alice.page
    // the service worker must control the page to serve the app shell offline
    await controlledByServiceWorker(page)
    await expectSaved(page)
    await alice.goOffline()
    // reloaded offline, the page has not heard this server's limit: it counts with the default (64 MB)
    await page.reload()
    await page.getByTestId('note-item').first().click()
    await paste(page, 3 * 1024 * 1024)
    await expect(page.getByTestId('banner-too-large')).toHaveCount(0)
    await expect.poll(() => bodyLength(page)).toBe('start:'.length + 3 * 1024 * 1024)
    await alice.goOnline()
    const full = page.getByTestId('banner-space-full')
    await expect(full).toBeVisible({ timeout: 30_000 })
    await expect(full).toContainText('This space is full.')
    await expect(syncStatus(page)).toHaveAttribute('data-status', 'error')
    await expect(page.getByTestId('banner-sync-error')).toHaveCount(0)
    // what the device holds stays; the other device never got the refused change
    expect(await bodyLength(page)).toBe('start:'.length + 3 * 1024 * 1024)
    expect(await bodyLength(bob.page)).toBe('start:'.length)
    await expectSaved(bob.page)
  })
})
