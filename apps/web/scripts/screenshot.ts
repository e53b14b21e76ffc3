// Drives the built app as a user would and takes screenshots (desktop 1280 and phone 390).
// Not the e2e suite: a quick look, with every console error or warning of the pages printed at the end.
//
//   pnpm --filter @converge/web build
//   (cd apps/server && PORT=8787 DATA_DIR=$(mktemp -d) pnpm start) &   # serves apps/web/dist
//   pnpm --filter @converge/web screenshots [outDir]      # BASE=http://localhost:8787
//
// Uses Debian's Chromium (/usr/bin/chromium); never downloads a browser.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type BrowserContext, type Page, chromium } from 'playwright-core'

const BASE = process.env.BASE ?? 'http://localhost:8787'
const OUT = process.argv[2] ?? '/tmp/converge-shots'
mkdirSync(OUT, { recursive: true })

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
})

const problems: string[] = []
const desktop = { viewport: { width: 1280, height: 860 } }
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }

async function page(context: BrowserContext, label: string): Promise<Page> {
  const p = await context.newPage()
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`[${label}] console.${m.type()}: ${m.text()}`)
  })
  p.on('pageerror', (e) => problems.push(`[${label}] pageerror: ${e.message}`))
  return p
}

const shot = async (p: Page, name: string, fullPage = true): Promise<void> => {
  await p.screenshot({ path: join(OUT, `${name}.png`), fullPage })
  console.log('screenshot', name)
}

const status = (p: Page) => p.getByTestId('sync-status')
const waitStatus = (p: Page, text: string) =>
  p.waitForFunction(
    (t) => document.querySelector('[data-testid="sync-status"]')?.textContent?.includes(t),
    text,
    { timeout: 15_000 },
  )

async function firstRun(p: Page, name: string, colour?: string): Promise<void> {
  const dialog = p.getByTestId('profile-dialog')
  await dialog.waitFor()
  await dialog.getByLabel('Your name').fill(name)
  if (colour) await dialog.getByLabel(colour, { exact: true }).check()
  await dialog.getByRole('button', { name: 'Continue' }).click()
  await dialog.waitFor({ state: 'detached' })
}

const items = (p: Page): Promise<(string | undefined)[]> =>
  p.getByTestId('cart-item').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name))

// ---------------------------------------------------------------- device A: desktop
const a = await browser.newContext(desktop)
const pa = await page(a, 'A')
await pa.goto(BASE)
await shot(pa, '01-desktop-first-run')
await firstRun(pa, 'Alice Martin', 'Teal')
await pa.getByTestId('empty-spaces').waitFor()
await shot(pa, '02-desktop-home-empty')

await pa.getByLabel('Space name').fill('Flat 3B')
await pa.getByRole('button', { name: 'Create space' }).click()
await pa.getByTestId('space-screen').waitFor()
await waitStatus(pa, 'all changes saved to the server')
for (const name of ['Milk', 'Bread', 'Eggs', 'Tomatoes', '  milk ']) {
  await pa.getByLabel('Add item').fill(name)
  await pa.getByLabel('Add item').press('Enter')
}
await pa.getByRole('button', { name: 'Increase Bread' }).click()
await pa.getByRole('checkbox', { name: 'Bought Milk' }).check()
await pa.getByRole('button', { name: 'More actions for Eggs' }).click()
await pa.getByRole('menuitem', { name: 'Edit details' }).click()
await pa.getByLabel('Price').fill('2.49')
await pa.getByLabel('Unit').fill('pack')
await pa.getByLabel('Category').fill('Dairy')
await shot(pa, '03-desktop-item-editor')
await pa.getByRole('button', { name: 'Save' }).click()
console.log('cart after adds:', await items(pa))

await pa.getByRole('button', { name: 'New note' }).click()
await pa.getByLabel('Note title').fill('Pancakes')
await pa.getByLabel('Note title').press('Enter')
await pa.keyboard.type('200 g flour\n2 eggs\n300 ml milk')
await waitStatus(pa, 'all changes saved to the server')

// keyboard reorder: Alt+ArrowDown on the focused Milk row
await pa.locator('li[data-name="Milk"]').focus()
await pa.keyboard.press('Alt+ArrowDown')
console.log('after Alt+Down on Milk:', await items(pa))
// drag Tomatoes to the top by its handle
await pa
  .locator('li[data-name="Tomatoes"] [data-testid="drag-handle"]')
  .dragTo(pa.locator('li[data-name="Bread"]'), { targetPosition: { x: 40, y: 4 } })
console.log('after dragging Tomatoes onto the top half of Bread:', await items(pa))
// undo of the cart change (the drag) with Ctrl+Z, focus outside the editor
await pa.locator('li[data-name="Eggs"]').focus()
await pa.keyboard.press('Control+z')
console.log('after Ctrl+Z:', await items(pa))
await shot(pa, '04-desktop-space')

await pa.getByRole('button', { name: 'Share' }).click()
const rw = await pa.getByTestId('share-link-read-write').inputValue()
const ro = await pa.getByTestId('share-link-read-only').inputValue()
await shot(pa, '05-desktop-share', false)
await pa.keyboard.press('Escape')
await pa.getByTestId('share-dialog').waitFor({ state: 'detached' })

// ---------------------------------------------------------------- device B: phone, read-write link
const b = await browser.newContext(phone)
const pb = await page(b, 'B')
await pb.goto(rw)
await firstRun(pb, 'Bob', 'Orange')
await pb.getByTestId('space-screen').waitFor()
console.log('B url after join (no token):', pb.url())
await pb.locator('li[data-name="Milk"]').waitFor()
await pb.getByLabel('Add item').fill('Apples')
await pb.getByLabel('Add item').press('Enter')
await pa.locator('li[data-name="Apples"]').waitFor({ timeout: 10_000 })
console.log('A sees B’s Apples:', await items(pa))
await pb.getByRole('button', { name: 'Increase Milk' }).click()
await pb.getByTestId('note-body').click()
await pb.keyboard.press('Control+End')
await pb.keyboard.type('\nA pinch of salt')
await pa.waitForFunction(() =>
  document.querySelector('[data-testid="note-body"]')?.textContent?.includes('salt'),
)
console.log('A sees B’s note edit')
await waitStatus(pb, 'all changes saved to the server')
await shot(pb, '06-phone-space')
await shot(pa, '07-desktop-with-remote-cursor', false)

// ---------------------------------------------------------------- device C: phone, read-only link
const c = await browser.newContext(phone)
const pc = await page(c, 'C')
await pc.goto(ro)
await firstRun(pc, 'Carol')
await pc.getByTestId('banner-read-only').waitFor()
console.log('C add disabled:', await pc.getByLabel('Add item').isDisabled())
await shot(pc, '08-phone-read-only')

// ---------------------------------------------------------------- offline on A
await a.setOffline(true)
await waitStatus(pa, 'offline')
await pa.getByLabel('Add item').fill('Coffee')
await pa.getByLabel('Add item').press('Enter')
await waitStatus(pa, 'saved on this device')
console.log('A offline status:', await status(pa).textContent())
await shot(pa, '09-desktop-offline', false)
await a.setOffline(false)
await waitStatus(pa, 'all changes saved to the server')
await pb.locator('li[data-name="Coffee"]').waitFor({ timeout: 15_000 })
console.log('B got Coffee after A reconnected')

// ---------------------------------------------------------------- trash on B (phone)
await pb.getByRole('button', { name: 'Move Pancakes to trash' }).click()
await pb.getByRole('button', { name: /^Trash \(1\)$/ }).click()
await shot(pb, '10-phone-trash')
await pb.getByRole('button', { name: 'Restore Pancakes' }).click()
await pb.getByRole('button', { name: 'Back to notes' }).click()

// ---------------------------------------------------------------- offline app shell on a fresh device D
const d = await browser.newContext(phone)
const pd = await page(d, 'D')
await pd.goto(rw)
await firstRun(pd, 'Dana')
await pd.locator('li[data-name="Coffee"]').waitFor()
await pd.waitForFunction(async () => !!(await navigator.serviceWorker.getRegistration())?.active, null, {
  timeout: 15_000,
})
await pd.reload()
await pd.waitForFunction(() => !!navigator.serviceWorker.controller)
await d.setOffline(true)
await pd.goto(BASE)
await pd.getByTestId('space-card').first().waitFor()
await shot(pd, '11-phone-home-offline')
await pd.getByTestId('space-card').first().locator('a').click()
await pd.locator('li[data-name="Coffee"]').waitFor()
console.log('D offline status:', await status(pd).textContent())
// a space created offline
await pd.goto(BASE)
await pd.getByLabel('Space name').fill('Camping trip')
await pd.getByRole('button', { name: 'Create space' }).click()
await pd.getByTestId('banner-unregistered').waitFor()
await pd.getByLabel('Add item').fill('Tent')
await pd.getByLabel('Add item').press('Enter')
await shot(pd, '12-phone-created-offline')
await pd.getByRole('button', { name: 'Remove from this device' }).click()
await shot(pd, '13-phone-remove-dialog', false)
await pd.keyboard.press('Escape')

await pa.goto(BASE)
await pa.getByTestId('space-card').first().waitFor()
await shot(pa, '14-desktop-home')

// removing a space from the home screen: it leaves the list at once, with Undo
const undo = pa.getByTestId('remove-notice').getByRole('button', { name: 'Undo' })
await pa
  .getByRole('button', { name: /^Remove .* from this device$/ })
  .first()
  .click()
await undo.waitFor()
await shot(pa, '15-desktop-home-removed-undo', false)
await undo.click()

// dark mode on the phone
await pb.emulateMedia({ colorScheme: 'dark' })
await shot(pb, '16-phone-space-dark')
await pb.goto(BASE)
await pb.getByTestId('space-card').first().waitFor()
await shot(pb, '17-phone-home-dark')

await browser.close()
console.log(
  problems.length
    ? `\n${problems.length} console problems:\n${problems.join('\n')}`
    : '\nno console problems',
)
