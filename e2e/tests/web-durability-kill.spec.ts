/**
 * sync-client LOCAL-6: typing fast while offline and the browser killed at once — SIGKILL of the
 * Chromium process, no graceful close, no `pagehide` — loses nothing the page had shown as saved on
 * this device, and of what the tab was still writing at most the last keystroke. A persistent
 * profile (user-data directory) is killed and started again on the same directory, still offline.
 * Twice: as fast as Playwright types (hundreds of keys a second — the write queue before LOCAL-1
 * lost about half of the 300 characters here), where a busy machine may still be writing a few dozen
 * keystrokes at the kill, so only "nothing shown as saved is lost" is held; and at 50 keys a second
 * (far past any typist), where at most the last keystroke may be lost.
 */
import { readFileSync, readdirSync } from 'node:fs'
import type { Page } from '@playwright/test'
import { snapshotOf } from '../fixtures/converge.js'
import { createSpace, expect, test, controlledByServiceWorker } from '../fixtures/test.js'

/** 300 characters, as someone types them: words and spaces, no newline. */
const TEXT = 'the quick brown fox jumps over the lazy dog, '.repeat(7).slice(0, 300)

interface Hooks {
  __converge: {
    session(): {
      readonly unsavedLocally: number
      readonly status: { readonly kind: string }
      subscribe(fn: () => void): () => void
    } | null
  }
  /** What the page recorded while it was typed into (installed by `recordStorage`). */
  __storage?: { maxUnsaved: number; latencies: number[] }
}

/** What the page shows now, in one task: the note's text and how many of its changes are unsaved. */
const shown = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as Hooks & { __converge: { snapshot(): { notes: { body: string }[] } } }
    const session = w.__converge.session()
    return {
      body: w.__converge.snapshot().notes[0]?.body ?? '',
      unsaved: session?.unsavedLocally ?? Number.NaN,
      kind: session?.status.kind ?? '',
      storage: w.__storage ?? null,
    }
  })

/**
 * Records, in the page, the most changes ever unsaved at once and how long each change took from
 * being made to its transaction's `complete` (as this page heard it): how far storage trails typing.
 */
const recordStorage = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as Hooks
    const session = w.__converge.session()
    if (!session) throw new Error('no open session')
    const r = (w.__storage = { maxUnsaved: 0, latencies: [] as number[] })
    const issued: number[] = []
    session.subscribe(() => {
      const n = session.unsavedLocally
      const now = performance.now()
      r.maxUnsaved = Math.max(r.maxUnsaved, n)
      while (issued.length < n) issued.push(now)
      while (issued.length > n) r.latencies.push(now - issued.shift()!)
    })
  })

/** The processes of the Chromium running on `userDataDir` (its command lines name it): the browser's first. */
function chromiumOn(userDataDir: string): number[] {
  const found: { pid: number; browser: boolean }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let args: string[]
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
    } catch {
      continue // gone meanwhile
    }
    if (!args.includes(`--user-data-dir=${userDataDir}`)) continue
    found.push({ pid: Number(entry), browser: !args.some((a) => a.startsWith('--type=')) })
  }
  return found.sort((a, b) => Number(b.browser) - Number(a.browser)).map((p) => p.pid)
}

/** Whether a process still runs (a zombie waiting to be reaped does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

const percentile = (values: readonly number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN

for (const { delay, what } of [
  { delay: 0, what: 'as fast as keys can be sent' },
  { delay: 20, what: 'at 50 keys a second' },
] as const)
  test(`a browser killed right after typing offline ${what} keeps every change it showed as saved on this device${delay > 0 ? ', and loses at most the last keystroke' : ''}`, async ({
    devices,
  }) => {
    test.slow() // two browser starts on one profile
    const userDataDir = devices.profileDir()
    const alice = await devices.openPersistent('Alice', userDataDir)
    const page = alice.page
    await createSpace(page, 'Kill flat')
    const spaceUrl = page.url()
    // the app shell must come from the service worker when the browser starts without a network
    await controlledByServiceWorker(page)
    await page.getByRole('button', { name: 'New note' }).click()
    await page.getByLabel('Note title').fill('Typed fast')
    await page.getByLabel('Note title').press('Enter')

    // offline: the network off and the socket closed (the app's 'offline' handler drops it)
    await alice.goOffline()
    await expect.poll(async () => (await shown(page)).kind).toBe('offline')
    await expect.poll(async () => (await shown(page)).unsaved).toBe(0)

    await recordStorage(page)
    await page.getByTestId('note-body').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type(TEXT, { delay })
    const atKill = await shown(page)
    const pids = chromiumOn(userDataDir)
    expect(pids.length, `no process runs with --user-data-dir=${userDataDir}`).toBeGreaterThan(0)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone with the browser process
      }
    }
    await expect.poll(() => pids.filter(running)).toEqual([])

    // what the page showed: the whole text typed, all of it saved on this device but the changes whose
    // transaction it had not heard complete (one per keystroke here)
    expect(atKill.body).toBe(TEXT)
    expect(Number.isInteger(atKill.unsaved), 'the test build exposes session.unsavedLocally').toBe(true)
    const shownSaved = atKill.body.slice(0, atKill.body.length - atKill.unsaved)

    const again = await devices.openPersistent('Alice', userDataDir, { offline: true })
    const p2 = again.page
    const response = await p2.goto(spaceUrl)
    expect(response?.fromServiceWorker()).toBe(true)
    await expect(p2.getByTestId('space-name')).toHaveText('Kill flat')
    await expect.poll(async () => (await snapshotOf(p2)).notes.length).toBe(1)
    const restored = (await snapshotOf(p2)).notes[0]!.body
    const lost = TEXT.length - restored.length
    const latencies = atKill.storage?.latencies ?? []
    test.info().annotations.push({
      type: 'measured',
      description:
        `typed ${TEXT.length} characters; at most ${atKill.storage?.maxUnsaved} unsaved at once; ` +
        `made → complete p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p90 ${percentile(latencies, 0.9).toFixed(1)} ms, ` +
        `max ${percentile(latencies, 1).toFixed(1)} ms; ${atKill.unsaved} unsaved when killed; lost ${lost}`,
    })
    // nothing shown as saved is lost, and nothing else is there: what was kept is a prefix of what was typed
    expect(TEXT.startsWith(restored), 'the restored text is a prefix of what was typed').toBe(true)
    expect(restored.length).toBeGreaterThanOrEqual(shownSaved.length)
    if (delay > 0) expect(lost).toBeLessThanOrEqual(1)
  })
