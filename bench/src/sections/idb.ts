/**
 * 4. Client storage in Chromium (Playwright): the automerge-paper trace persisted keystroke by keystroke
 * with Converge's IdbStore and with y-indexeddb — keystroke → durable commit, IndexedDB readwrite
 * transactions and bytes written per keystroke; cold open (a fresh page rebuilds the document) after
 * 5k, 50k and 260k edits; stored bytes before and after 10 reopens with no edit.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { build } from 'esbuild'
import type { Config } from '../config.js'
import { BENCH_DIR, PEERS_DIR } from '../lib/paths.js'
import { launchChromium } from '../lib/browser.js'
import type { Results } from '../lib/results.js'
import { median, percentile, sortNumbers } from '../lib/stats.js'
import { loadTrace } from '../lib/trace.js'

const S = '4 client storage'
type Kind = 'IdbStore' | 'y-indexeddb'
const KINDS: readonly Kind[] = ['IdbStore', 'y-indexeddb']

interface PageApi {
  setPatches(ps: [number, number, string][]): void
  start(kind: Kind, db: string): Promise<void>
  typeMeasured(n: number): Promise<{ latencies: number[]; transactions: number; bytes: number }>
  typeBulk(until: number, grouped?: boolean): Promise<{ transactions: number; bytes: number }>
  stop(): Promise<void>
  coldOpen(kind: Kind, db: string): Promise<{ ms: number; length: number }>
  storedBytes(db: string): Promise<number>
}
declare const bench: PageApi

async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [join(BENCH_DIR, 'src/browser/idb-page.ts')],
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'browser',
    target: 'chrome120',
    nodePaths: [join(PEERS_DIR, 'node_modules')],
    // one yjs for the page: the workspace's (y-indexeddb would otherwise bring the peers' copy)
    alias: { yjs: join(BENCH_DIR, 'node_modules/yjs'), lib0: join(BENCH_DIR, 'node_modules/lib0') },
    logLevel: 'error',
  })
  return out.outputFiles[0]!.text
}

export async function runIdb(cfg: Config, results: Results): Promise<void> {
  const trace = loadTrace()
  const total = trace.patches.length
  const checkpoints = cfg.quick ? [5000] : [5000, 50_000, total]
  const measured = cfg.quick ? 200 : 2000
  const reps = cfg.quick ? 2 : 5
  results.note(
    `client storage: keystroke → durable over the first ${measured} keystrokes, each typed after the previous one is durable; then bursts of 100 keystrokes per task (one update each up to 50k edits, one update per burst beyond) to ${checkpoints.map((c) => c.toLocaleString('en')).join(' / ')} edits; cold open = median of ${reps} fresh pages${cfg.quick ? ' (--quick: no 50k/260k checkpoints)' : ''}. IdbStore compacts every 200 writes, as SpaceSession does; y-indexeddb trims at 500`,
  )
  const js = await bundle()
  const http = createServer((req, res) => {
    if (req.url === '/bench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      res.end(js)
    } else {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="/bench.js"></script>',
      )
    }
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`
  const browser = await launchChromium()
  try {
    const context = await browser.newContext()
    const fresh = async (): Promise<Page> => {
      const p = await context.newPage()
      await p.goto(url)
      await p.waitForFunction(() => 'bench' in globalThis)
      return p
    }
    for (const kind of KINDS) {
      console.log(`\n== client storage: ${kind}`)
      const db = `bench-${kind}`
      const page = await fresh()
      for (let i = 0; i < total; i += 50_000) {
        const chunk = trace.patches.slice(i, i + 50_000)
        await page.evaluate((ps) => bench.setPatches(ps), chunk)
      }
      await page.evaluate(({ kind, db }) => bench.start(kind, db), { kind, db })
      const m = await page.evaluate((n) => bench.typeMeasured(n), measured)
      const lat = sortNumbers(m.latencies)
      results.set(S, 'keystroke → durable p50', 'ms', true, kind, percentile(lat, 50))
      results.set(S, 'keystroke → durable p99', 'ms', true, kind, percentile(lat, 99))
      results.set(
        S,
        'readwrite transactions per keystroke (typed one by one)',
        'tx',
        true,
        kind,
        m.transactions / measured,
      )
      results.set(
        S,
        'bytes written per keystroke (typed one by one)',
        'bytes',
        true,
        kind,
        m.bytes / measured,
      )
      let tx = m.transactions
      let bytes = m.bytes
      for (const cp of checkpoints) {
        // past 50k edits, one update per 100 keystrokes: y-indexeddb's one transaction per update and
        // its trim every 500 make the last 210k single-keystroke updates take longer than the whole budget
        const b = await page.evaluate(({ n, grouped }) => bench.typeBulk(n, grouped), {
          n: cp,
          grouped: cp > 50_000,
        })
        tx += b.transactions
        bytes += b.bytes
        await page.evaluate(() => bench.stop())
        const label = cp >= 1000 ? `${Math.round(cp / 1000)}k` : String(cp)
        results.set(S, `IndexedDB transactions, ${label} edits`, 'tx', true, kind, tx)
        results.set(S, `bytes written, ${label} edits`, 'MB', true, kind, bytes / 1e6)
        const opens: number[] = []
        for (let r = 0; r < reps + 1; r++) {
          const p = await fresh()
          const o = await p.evaluate(({ kind, db }) => bench.coldOpen(kind, db), { kind, db })
          await p.close()
          if (r > 0) opens.push(o.ms)
        }
        results.set(S, `cold open after ${label} edits`, 'ms', true, kind, median(opens))
        if (cp !== checkpoints[checkpoints.length - 1])
          await page.evaluate(({ kind, db }) => bench.start(kind, db), { kind, db })
      }
      await page.close()
      const probe = await fresh()
      const before = await probe.evaluate((db) => bench.storedBytes(db), db)
      for (let r = 0; r < 10; r++) {
        const p = await fresh()
        await p.evaluate(({ kind, db }) => bench.coldOpen(kind, db), { kind, db })
        await p.close()
      }
      const after = await probe.evaluate((db) => bench.storedBytes(db), db)
      await probe.close()
      results.set(S, 'stored bytes before 10 reopens', 'KB', true, kind, before / 1000)
      results.set(S, 'storage growth after 10 reopens, no edit', 'KB', true, kind, (after - before) / 1000)
    }
  } finally {
    await browser.close()
    await new Promise((r) => http.close(r))
  }
}
