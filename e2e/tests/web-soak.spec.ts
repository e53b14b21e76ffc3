/**
 * Scenario 8: a seeded soak. Three devices make random cart and note edits through the UI, go
 * offline and online at random, and the server is SIGKILLed and restarted once in the middle; then
 * everything goes online and the three must hold the same whole state, with every line once, every
 * visible quantity above 0 and every token typed into a note present exactly once. It runs once on
 * each engine (a Yjs and an Automerge space), both from the same seed.
 *
 * SOAK_SEED=<n> replays a run (the seed is printed and attached to the report; `-g "soak on automerge"`
 * picks one engine's run); SOAK_OPS=<n> sets the number of operations (default 150, about 20 s);
 * SOAK_VERBOSE=1 prints every operation. The seed fixes which device does what to which item; the
 * moment a remote change lands can still vary, and an operation whose row vanished meanwhile is
 * logged as skipped.
 */
import { prng } from '@converge/test-services'
import type { Locator, Page } from '@playwright/test'
import { expectConverged } from '../fixtures/converge.js'
import {
  ENGINES,
  cartNames,
  createSpace,
  dropServerDownNoise,
  expect,
  expectSaved,
  shareLinks,
  test,
  type Device,
  typeInNote,
} from '../fixtures/test.js'

const SEED = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : Math.floor(Math.random() * 2 ** 31)
const OPS = Number(process.env.SOAK_OPS ?? 150)

const POOL = ['Milk', 'Bread', 'Eggs', 'Apples', 'Coffee', 'Rice', 'Tea', 'Cheese']

type Op =
  'add' | 'increase' | 'decrease' | 'remove' | 'bought' | 'move' | 'edit' | 'type' | 'new-note' | 'network'
const WEIGHTS: [Op, number][] = [
  ['add', 4],
  ['increase', 3],
  ['decrease', 2],
  ['remove', 1],
  ['bought', 1],
  ['move', 2],
  ['edit', 1],
  ['type', 3],
  ['new-note', 0.5],
  ['network', 1.5],
]

/** An item's row by its normalised name, whatever spelling it is displayed with. */
const row = (page: Page, key: string): Locator =>
  page.locator(`li[data-testid="cart-item"][data-key="${key}"]`)
const QUICK = { timeout: 2_000 }
/** The engine of the space the page has open (sync-client ENG-1). */
const engineOf = (page: Page) =>
  page.evaluate(
    () =>
      (
        window as unknown as { __converge?: { session(): { space: { engineKind: string } } | null } }
      ).__converge?.session()?.space.engineKind,
  )

test.setTimeout(60_000 + OPS * 1_500)

for (const engine of ENGINES)
  test(`soak on ${engine}: 3 devices, ${OPS} random cart and note operations, offline toggles and a server restart converge`, async ({
    devices,
    server,
  }, testInfo) => {
    const seedLine = `SOAK_SEED=${SEED} SOAK_OPS=${OPS}`
    console.log(
      `[soak] ${engine} ${seedLine}  (rerun: ${seedLine} npx playwright test tests/web-soak.spec.ts -g "soak on ${engine}")`,
    )
    testInfo.annotations.push({ type: 'soak-seed', description: seedLine })
    await testInfo.attach('soak-seed', { body: seedLine, contentType: 'text/plain' })
    const random = prng(SEED)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
    const log: string[] = []

    const alice = await devices.open('Alice')
    await createSpace(alice.page, 'Soak flat', engine)
    await alice.page.getByRole('button', { name: 'New note' }).click()
    await alice.page.getByLabel('Note title').fill('Soak note')
    await alice.page.getByLabel('Note title').press('Enter')
    const links = await shareLinks(alice.page)
    const all: Device[] = [alice, await devices.open('Bob'), await devices.open('Carol')]
    for (const d of all.slice(1)) {
      await d.page.goto(links.write)
      await expect(d.page.getByLabel('Note title')).toHaveValue('Soak note')
    }
    for (const d of all) await expect.poll(() => engineOf(d.page), `${d.name}'s engine`).toBe(engine)
    const offline = new Set<Device>()
    const typed: string[] = []
    const titles = ['Soak note']
    const killAt = Math.floor(OPS / 3)
    const startAt = killAt + 5
    let problemsFrom = -1

    const run = async (i: number, d: Device): Promise<string> => {
      const page = d.page
      const op = ((): Op => {
        let r = random() * WEIGHTS.reduce((s, [, w]) => s + w, 0)
        for (const [o, w] of WEIGHTS) if ((r -= w) < 0) return o
        return 'add'
      })()
      const name = pick(POOL)
      const key = name.toLowerCase()
      const spelling = pick([name, name.toUpperCase(), ` ${name.toLowerCase()} `])
      const visible = (await row(page, key).count()) > 0
      switch (op) {
        case 'network':
          if (offline.has(d)) {
            await d.goOnline()
            offline.delete(d)
            return 'online'
          }
          await d.goOffline()
          offline.add(d)
          return 'offline'
        case 'type': {
          const token = `[${d.name[0]}${i}]`
          const where = pick(['start', 'end'] as const)
          await typeInNote(page, where, where === 'start' ? `${token} ` : ` ${token}`)
          typed.push(token)
          return `type ${token} at the ${where}`
        }
        case 'new-note': {
          const title = `Note ${i}`
          await page.getByRole('button', { name: 'New note' }).click()
          await page.getByLabel('Note title').fill(title)
          await page.getByLabel('Note title').press('Enter')
          titles.push(title)
          return `new note "${title}"`
        }
        default:
          break
      }
      if (op === 'add' || !visible) {
        const input = page.getByLabel('Add item')
        await input.fill(spelling)
        await input.press('Enter')
        await expect(input).toHaveValue('')
        return `add ${JSON.stringify(spelling)}`
      }
      const control = (c: string) => row(page, key).locator(`[data-control="${c}"]`)
      switch (op) {
        case 'increase':
        case 'decrease':
        case 'remove':
        case 'bought':
          await control(op === 'bought' ? 'check' : op).click(QUICK)
          return `${op} ${key}`
        case 'move': {
          const names = await cartNames(page)
          if (names.length < 2) return `move ${key}: nothing to move past`
          const first = names.indexOf((await row(page, key).getAttribute('data-name', QUICK)) ?? '') === 0
          const direction = first ? 'down' : pick(['up', 'down'] as const)
          if (await control(direction).isDisabled(QUICK)) return `move ${key} ${direction}: at the end`
          await control(direction).click(QUICK)
          return `move ${key} ${direction}`
        }
        case 'edit': {
          const field = pick(['Note', 'Unit', 'Price', 'Category'] as const)
          const cents = 100 + Math.floor(random() * 900)
          const value =
            field === 'Price'
              ? `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
              : `${d.name} ${i}`
          await control('edit').click(QUICK)
          const form = row(page, key).locator('form.item-editor')
          await form.getByLabel(field, { exact: true }).fill(value, QUICK)
          await form.getByRole('button', { name: 'Save' }).click(QUICK)
          await expect(form).toHaveCount(0)
          return `edit ${key} ${field}=${JSON.stringify(value)}`
        }
      }
    }

    const started = Date.now()
    try {
      for (let i = 0; i < OPS; i++) {
        if (i === killAt) {
          problemsFrom = devices.problems.length
          await server.kill('SIGKILL')
          log.push(`#${i} server SIGKILL`)
        }
        if (i === startAt) {
          await server.start()
          log.push(`#${i} server started`)
        }
        const d = pick(all)
        try {
          log.push(`#${i} ${d.name}${offline.has(d) ? ' (offline)' : ''}: ${await run(i, d)}`)
        } catch (e) {
          // a remote change removed the row (or closed its editor) between choosing and acting
          if (!(e instanceof Error) || !/Timeout .*exceeded/.test(e.message)) throw e
          log.push(`#${i} ${d.name}: skipped, the row changed under it`)
          await d.page.keyboard.press('Escape')
        }
      }
      log.push(`${OPS} operations in ${Math.round((Date.now() - started) / 1000)} s`)

      for (const d of offline) await d.goOnline()
      for (const d of all) await expectSaved(d.page, { timeout: 30_000 })
      const merged = await expectConverged(all, { timeout: 30_000 })

      // the invariants every replica must hold
      const keys = merged.cart.map((i) => i.key)
      expect(new Set(keys).size, 'every line once').toBe(keys.length)
      for (const item of merged.cart) expect(item.quantity, `quantity of ${item.key}`).toBeGreaterThan(0)
      const bodies = merged.notes.map((n) => n.body).join('\n')
      for (const token of typed) expect(bodies.split(token).length - 1, `typed ${token} once`).toBe(1)
      expect(merged.notes.map((n) => n.title).sort()).toEqual([...titles].sort())
      // on screen, the lines still to buy come first, then the bought ones, each in list order
      const shown = [...merged.cart.filter((i) => !i.checked), ...merged.cart.filter((i) => i.checked)]
      for (const d of all)
        expect(await cartNames(d.page), `${d.name}'s screen`).toEqual(shown.map((i) => i.name))
      log.push(
        `converged: ${merged.cart.length} lines, ${merged.notes.length} notes, ${typed.length} tokens typed`,
      )
    } finally {
      // the browsers log each refused reconnect while the server was down; anything else still counts
      if (problemsFrom >= 0) dropServerDownNoise(devices.problems, problemsFrom)
      const body = `${engine} ${seedLine}\n${log.join('\n')}`
      await testInfo.attach('soak-log', { body, contentType: 'text/plain' })
      const skipped = log.filter((l) => l.includes('skipped')).length
      console.log(`[soak] ${engine} ${seedLine}: ${log.at(-1)}; ${skipped} skipped`)
      if (process.env.SOAK_VERBOSE) console.log(body)
    }
  })
