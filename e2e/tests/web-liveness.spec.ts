/**
 * Liveness and a calm, true status line (sync-client SYNC-12…16; PROTOCOL.md §P5.11–13), against
 * the real server process: typing does not make the status flicker; a frozen server (SIGSTOP) is
 * noticed and said plainly, others' presence cleared, and once it goes on (SIGCONT) the device is
 * saved at once with nothing lost; a restarted server has its devices back within about a second of
 * being ready; no console line ever holds the access token. Every wait is for a condition.
 */
import type { Page } from '@playwright/test'
import {
  addItem,
  cartItem,
  createSpace,
  dropServerDownNoise,
  expect,
  expectSaved,
  recordStatus,
  shareLinks,
  statusLog,
  syncStatus,
  test,
} from '../fixtures/test.js'

const people = (page: Page) => page.getByTestId('presence-person')

test('liveness: typing is calm; a frozen server is noticed and said, a thawed one saves at once; a restart is back within seconds; no token in the console', async ({
  devices,
  server,
}, testInfo) => {
  const timings: string[] = []
  const consoleLines: string[] = []
  const alice = await devices.open('Alice')
  const a = alice.page
  a.on('console', (m) => consoleLines.push(m.text()))
  await createSpace(a, 'Freezer')
  const links = await shareLinks(a)
  const token = decodeURIComponent(new URL(links.write).hash.replace(/^#t=/, ''))
  expect(token.length).toBeGreaterThan(20)
  const bob = await devices.open('Bob')
  const b = bob.page
  b.on('console', (m) => consoleLines.push(m.text()))
  await b.goto(links.write)
  await expectSaved(b)
  await expect(people(a)).toHaveCount(2)

  // typing 40 characters at 10 a second, online: the status line does not flicker (SYNC-12)
  await a.getByRole('button', { name: 'New note' }).click()
  await a.getByLabel('Note title').fill('List for the weekend')
  await a.getByLabel('Note title').press('Enter')
  await expectSaved(a)
  await recordStatus(a)
  await a.keyboard.type('forty characters typed at ten a second.', { delay: 100 })
  await expectSaved(a)
  const typingLog = await statusLog(a)
  expect(typingLog.length, typingLog.join('\n')).toBeLessThanOrEqual(3) // saved, at most syncing and back

  // the server process freezes: within 10 s both devices say the server can't be reached (SYNC-14)
  await addItem(a, 'Milk')
  await expectSaved(a)
  let problemsFrom = devices.problems.length
  const frozenAt = Date.now()
  server.signal('SIGSTOP')
  await addItem(a, 'Frozen peas')
  await expect(syncStatus(a)).toHaveAttribute('data-status', 'unreachable', { timeout: 20_000 })
  const noticed = Date.now() - frozenAt
  timings.push(`SIGSTOP → "can't reach the server": ${noticed} ms`)
  await expect(syncStatus(a)).toHaveText("can't reach the server — changes saved here")
  await expect(syncStatus(b)).toHaveAttribute('data-status', 'unreachable', { timeout: 20_000 })
  expect(noticed).toBeLessThan(12_000) // 8 s at most to notice, 1 s before the line says so, and slack
  await expect(people(a)).toHaveCount(1) // Bob's presence is not shown as if he were still there
  // it goes on: saved within 2 s, the change made meanwhile on the server and on Bob's device
  server.signal('SIGCONT')
  const thawedAt = Date.now()
  await expectSaved(a, { timeout: 10_000 })
  const resumed = Date.now() - thawedAt
  timings.push(`SIGCONT → saved: ${resumed} ms`)
  expect(resumed).toBeLessThan(3_000)
  await expect(cartItem(b, 'Frozen peas')).toBeVisible()
  await expectSaved(b, { timeout: 10_000 })
  await expect(people(a)).toHaveCount(2)
  dropServerDownNoise(devices.problems, problemsFrom)

  // a restart (SIGTERM, then start): the devices are back within about a second of it being ready (SYNC-15)
  problemsFrom = devices.problems.length
  await server.kill('SIGTERM')
  await expect(syncStatus(a)).toHaveAttribute('data-status', 'unreachable', { timeout: 10_000 })
  await addItem(b, 'Bread') // made while the server is down: kept on Bob's device
  await server.start()
  const readyAt = Date.now()
  await expectSaved(a, { timeout: 10_000 })
  await expectSaved(b, { timeout: 10_000 })
  const back = Date.now() - readyAt
  timings.push(`restart ready → both saved: ${back} ms`)
  expect(back).toBeLessThan(3_000)
  await expect(cartItem(a, 'Bread')).toBeVisible()
  dropServerDownNoise(devices.problems, problemsFrom)

  // no console line, of any kind, holds the access token (SYNC-16: it is never in a socket URL)
  expect(consoleLines.filter((l) => l.includes(token))).toEqual([])
  await testInfo.attach('timings', { body: timings.join('\n'), contentType: 'text/plain' })
  console.log(timings.join('\n'))
})
