/**
 * 7. List render: how fast the web app answers a tap on a long list. The production web app (`vite build`,
 * the same build as section 6 when both run) served by the real server, in Chromium through Playwright
 * at phone size. A space with 150 items (added through the "Add item" field, as a person would); then,
 * in the page, `performance.now()` before a click dispatched on "Increase Item 120" (the + button, found
 * by its aria-label only) and after the frame that shows the new quantity: a MutationObserver sees the
 * row change, a requestAnimationFrame callback is the frame that paints it, and a message posted from
 * that callback runs once that frame's rendering is done. Also adding one item to the 150-item list
 * (the form submitted in the page → its row painted). An absolute target: no peer runs this.
 */
import os from 'node:os'
import type { Page } from '@playwright/test'
import type { Config } from '../config.js'
import { launchChromium, webBuild } from '../lib/browser.js'
import type { Results } from '../lib/results.js'
import { startServer } from '../lib/servers.js'
import { percentile, sortNumbers } from '../lib/stats.js'

const S = '7 list render'
export const LIST_RENDER = S
export const LIST_SUBJECT = 'Converge web app'
export const PLUS_P95 = '+1 on item 120 of 150: click → painted, p95'
export const PLUS_DOM = '+1: click → row changed in the DOM (script), median'
/** The work of one +1 — script, then style and layout forced at once — which has to fit in a frame. */
export const PLUS_WORK_P95 = '+1: click → DOM changed and laid out (the work of the frame), p95'
const ITEMS = 150
const TARGET_ITEM = 120
const name = (i: number): string => `Item ${String(i).padStart(3, '0')}`

/**
 * In the page: runs `act` (a click or a submit), then resolves with the milliseconds from just before it
 * to the end of the frame that painted what `changed` looks for.
 */
async function timeToPaint(
  page: Page,
  kind: 'increase' | 'add',
  arg: string,
): Promise<{ dom: number; work: number; paint: number }> {
  return page.evaluate(
    async ({ kind, arg }) => {
      const afterFrame = (): Promise<number> =>
        new Promise((resolve) =>
          requestAnimationFrame(() => {
            // runs after this frame's style, layout and paint: the change is on screen
            const ch = new MessageChannel()
            ch.port1.onmessage = () => resolve(performance.now())
            ch.port2.postMessage(null)
          }),
        )
      let act: () => void
      let changed: () => boolean
      if (kind === 'increase') {
        const button = document.querySelector<HTMLButtonElement>(`button[aria-label="Increase ${arg}"]`)
        const row = button?.closest('li')
        if (!button || !row) throw new Error(`no "Increase ${arg}" button in a row`)
        const look = (): string =>
          `${row.getAttribute('aria-label') ?? ''}|${row.textContent ?? ''}|${[...row.querySelectorAll('input')].map((i) => i.value).join(',')}`
        const before = look()
        act = () => button.click()
        changed = () => look() !== before
      } else {
        const input = document.querySelector<HTMLInputElement>('input[aria-label="Add item"]')
        if (!input?.form) throw new Error('no "Add item" field')
        // React tracks the value through the prototype's setter: set it as typing would
        Reflect.set(HTMLInputElement.prototype, 'value', arg, input)
        input.dispatchEvent(new Event('input', { bubbles: true }))
        await new Promise((r) => requestAnimationFrame(r))
        const form = input.form
        act = () => form.requestSubmit()
        changed = () =>
          [...document.querySelectorAll('li')].some((li) => li.getAttribute('data-name') === arg)
      }
      // let the page settle: two frames with nothing of ours pending
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
      return new Promise<{ dom: number; work: number; paint: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no change after 10 s (${kind} ${arg})`)), 10_000)
        let done = false
        const finish = (): void => {
          if (done || !changed()) return
          done = true
          observer.disconnect()
          clearTimeout(timer)
          const dom = performance.now() - t0
          // style and layout now, synchronously: what the next frame would do before painting
          void document.body.offsetHeight
          const work = performance.now() - t0
          void afterFrame().then((t1) => resolve({ dom, work, paint: t1 - t0 }))
        }
        const observer = new MutationObserver(finish)
        observer.observe(document.body, {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        })
        const t0 = performance.now()
        act()
        finish() // a change made synchronously inside the click
      })
    },
    { kind, arg },
  )
}

export async function runListRender(cfg: Config, results: Results): Promise<void> {
  const reps = 30
  const addReps = cfg.quick ? 10 : 20
  const cpus = os.cpus()
  results.note(
    `list render: the production build served by the real server on 127.0.0.1, Chromium (headless, --disable-gpu) at 390×844 on ${cpus.length} cores (${cpus[0]?.model ?? '?'}); a space with ${ITEMS} items; "+1": a click dispatched in the page on "Increase ${name(TARGET_ITEM)}" → the row changed (MutationObserver: the script), → laid out (style and layout forced at once: the work that must fit in a frame), → the end of the frame that paints it (requestAnimationFrame and a posted message: adds the wait for the frame), ${reps} repetitions; "add one item": the add form submitted in the page → its row painted, ${addReps} repetitions (the list grows from ${ITEMS} to ${ITEMS + addReps}); an absolute target — no peer runs this`,
  )
  const webDist = webBuild(cfg, results, 'list render')
  const server = await startServer('converge', cfg.runDir, { webDist })
  const browser = await launchChromium()
  const plus: number[] = []
  const plusDom: number[] = []
  const plusWork: number[] = []
  const add: number[] = []
  try {
    const context = await browser.newContext({
      baseURL: `http://127.0.0.1:${server.port}`,
      viewport: { width: 390, height: 844 },
    })
    // tsx (esbuild keepNames) wraps the named functions of timeToPaint's page code in __name()
    await context.addInitScript({ content: 'globalThis.__name = (f) => f' })
    await context.addInitScript(() => {
      if (location.protocol === 'http:')
        localStorage.setItem('converge.profile', JSON.stringify({ name: 'Bench', color: '#4f46e5' }))
    })
    const page = await context.newPage()
    page.on('pageerror', (e) => console.error(`  list render page error: ${e.message}`))
    await page.goto('/')
    await page.getByLabel('Space name').fill('Bench list')
    await page.getByRole('button', { name: 'Create space' }).click()
    const field = page.getByLabel('Add item')
    await field.waitFor()
    for (let i = 1; i <= ITEMS; i++) {
      await field.fill(name(i))
      await field.press('Enter')
    }
    await page.locator(`li[data-name="${name(ITEMS)}"]`).waitFor()
    const rows = await page.locator('li[data-key]').count()
    if (rows !== ITEMS) throw new Error(`expected ${ITEMS} rows, found ${rows}`)
    // warm-up, unmeasured
    for (let i = 0; i < 3; i++) await timeToPaint(page, 'increase', name(TARGET_ITEM))
    for (let i = 0; i < reps; i++) {
      const t = await timeToPaint(page, 'increase', name(TARGET_ITEM))
      plus.push(t.paint)
      plusDom.push(t.dom)
      plusWork.push(t.work)
    }
    await timeToPaint(page, 'add', 'Warm-up extra')
    for (let i = 0; i < addReps; i++) add.push((await timeToPaint(page, 'add', `Extra ${i + 1}`)).paint)
    await context.close()
  } finally {
    await browser.close()
    await server.dispose()
  }
  const p = sortNumbers(plus)
  const a = sortNumbers(add)
  results.set(
    S,
    '+1 on item 120 of 150: click → painted, median',
    'ms',
    true,
    LIST_SUBJECT,
    percentile(p, 50),
  )
  results.set(S, PLUS_P95, 'ms', true, LIST_SUBJECT, percentile(p, 95))
  // of which the script: the click → the row's DOM changed (the command, React's render and commit)
  results.set(S, PLUS_DOM, 'ms', true, LIST_SUBJECT, percentile(sortNumbers(plusDom), 50))
  results.set(S, PLUS_WORK_P95, 'ms', true, LIST_SUBJECT, percentile(sortNumbers(plusWork), 95))
  results.set(S, 'add one item to 150: submit → painted, median', 'ms', true, LIST_SUBJECT, percentile(a, 50))
  results.set(S, 'add one item to 150: submit → painted, p95', 'ms', true, LIST_SUBJECT, percentile(a, 95))
}
