/**
 * 6. First visit: the production web app (`vite build`, precompressed) served by the real server
 * (`apps/server/dist/main.mjs`), loaded in Chromium with the page's network throttled through CDP
 * (`Network.emulateNetworkConditions`: 10 Mbps down, 5 Mbps up, 40 ms round trip). Time to interactive
 * = navigation start → the home screen's "Create space" button is there and enabled. Bytes: what
 * the page received (CDP encodedDataLength: compressed bodies and headers), and everything that
 * crossed the socket to the server (a counting TCP proxy in front of it), the service worker's
 * precache included. First visit: a fresh browser context (no HTTP cache, no service worker);
 * repeat visit: a new page in that context once its service worker is active.
 */
import { type AddressInfo, type Socket, connect, createServer } from 'node:net'
import type { BrowserContext, Page } from '@playwright/test'
import type { Config } from '../config.js'
import { launchChromium, webBuild } from '../lib/browser.js'
import type { Results } from '../lib/results.js'
import { startServer } from '../lib/servers.js'
import { median } from '../lib/stats.js'

const S = '6 first visit'
export const FIRST_VISIT = S
const SUBJECT = 'Converge web app'

/** 10 Mbps / 40 ms, in CDP's units (bytes per second, ms). */
const NETWORK = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 5e6 / 8 }

/** A TCP proxy in front of the server that counts the bytes it carries back to the browser. */
async function countingProxy(
  port: number,
): Promise<{ url: string; bytes(): number; close(): Promise<void> }> {
  let received = 0
  const sockets = new Set<Socket>()
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    sockets.add(client).add(upstream)
    upstream.on('data', (d: Buffer) => (received += d.length))
    client.pipe(upstream)
    upstream.pipe(client)
    const end = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  return {
    // loopback: a secure context, so the service worker registers
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`,
    bytes: () => received,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((r) => proxy.close(r))
    },
  }
}

/** Opens the app in a throttled page; the time to interactive (ms since navigation start) and the page's bytes. */
async function visit(
  context: BrowserContext,
  url: string,
): Promise<{ page: Page; ms: number; bytes: number }> {
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', NETWORK)
  let bytes = 0
  cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => (bytes += e.encodedDataLength))
  await page.goto(url, { waitUntil: 'commit' })
  const ms = await page
    .waitForFunction(
      () => {
        const button = [...document.querySelectorAll('button')].find(
          (b) => b.textContent?.trim() === 'Create space' && !b.disabled,
        )
        return button ? performance.now() : false
      },
      undefined,
      { polling: 'raf', timeout: 60_000 },
    )
    .then((h) => h.jsonValue() as Promise<number>)
  await page.waitForLoadState('load')
  return { page, ms, bytes }
}

export async function runFirstVisit(cfg: Config, results: Results): Promise<void> {
  const reps = cfg.quick ? 1 : 5
  results.note(
    `first visit: the production build (precompressed .br/.gz) from the real server on 127.0.0.1, Chromium with CDP network emulation (10 Mbps down, 5 Mbps up, 40 ms latency) on the page; interactive = the home screen's "Create space" button enabled, from navigation start; wire bytes = everything the server sent (a counting proxy), service worker precache included; median of ${reps} fresh browser contexts${cfg.quick ? ' (--quick: one)' : ''}`,
  )
  const webDist = webBuild(cfg, results, 'first visit')
  const server = await startServer('converge', cfg.runDir, { webDist })
  const proxy = await countingProxy(server.port)
  const browser = await launchChromium()
  const first: number[] = []
  const firstPage: number[] = []
  const firstWire: number[] = []
  const repeat: number[] = []
  const repeatWire: number[] = []
  try {
    for (let r = 0; r < reps; r++) {
      const context = await browser.newContext()
      const before = proxy.bytes()
      const one = await visit(context, proxy.url)
      // the service worker active: it has precached the app shell
      await one.page.evaluate(async () => {
        await navigator.serviceWorker.ready
      })
      first.push(one.ms)
      firstPage.push(one.bytes)
      firstWire.push(proxy.bytes() - before)
      await one.page.close()
      const mid = proxy.bytes()
      const two = await visit(context, proxy.url)
      repeat.push(two.ms)
      repeatWire.push(proxy.bytes() - mid)
      await two.page.close()
      await context.close()
    }
  } finally {
    await browser.close()
    await proxy.close()
    await server.dispose()
  }
  results.set(S, 'first visit: time to interactive', 'ms', true, SUBJECT, median(first))
  results.set(S, 'first visit: bytes the page received', 'KB', true, SUBJECT, median(firstPage) / 1000)
  results.set(
    S,
    'first visit: bytes sent by the server (incl. precache)',
    'KB',
    true,
    SUBJECT,
    median(firstWire) / 1000,
  )
  results.set(S, 'repeat visit: time to interactive', 'ms', true, SUBJECT, median(repeat))
  results.set(S, 'repeat visit: bytes sent by the server', 'KB', true, SUBJECT, median(repeatWire) / 1000)
}
