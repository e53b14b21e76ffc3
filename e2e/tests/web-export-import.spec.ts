/**
 * WEB-EXPORT-1…3 (merge EXPORT-1…4 in the app): "Download a copy" saves the space as a readable file;
 * "Import a space" opens it on another device as a new space with the same list and notes, merges it
 * into the same space on a device that has it, and says plainly why a bad file imports nothing.
 */
import { readFile, writeFile } from 'node:fs/promises'
import type { Page } from '@playwright/test'
import {
  ENGINES,
  addItem,
  cartItem,
  cartNames,
  createSpace,
  expect,
  expectSaved,
  rowAction,
  test,
} from '../fixtures/test.js'

/** Downloads the open space; returns the file's path and parsed JSON. */
async function download(
  page: Page,
): Promise<{ path: string; json: { cart: { name: string }[]; engine: string } }> {
  const waiting = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Download a copy' }).click()
  const d = await waiting
  const path = await d.path()
  expect(d.suggestedFilename()).toMatch(/\.converge\.json$/)
  return {
    path,
    json: JSON.parse(await readFile(path, 'utf8')) as { cart: { name: string }[]; engine: string },
  }
}

async function importFile(page: Page, path: string): Promise<void> {
  await page.goto('/')
  await page.getByTestId('import-file').setInputFiles(path)
}

for (const engine of ENGINES)
  test(`[WEB-EXPORT-1][WEB-EXPORT-2] on ${engine}: a downloaded copy opens on another device as a new space with the same list and notes`, async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await createSpace(a, 'Holiday cottage', engine)
    await addItem(a, 'Milk')
    await a.getByRole('button', { name: 'Increase Milk' }).click()
    await addItem(a, 'Bread')
    await a.getByRole('button', { name: 'New note' }).click()
    await a.getByLabel('Note title').fill('Packing')
    await a.getByLabel('Note title').press('Enter')
    await a.keyboard.type('towels, boots')
    await expectSaved(a)
    const { path, json } = await download(a)
    expect(json.engine).toBe(engine)
    expect(json.cart.map((l) => l.name)).toEqual(['Milk', 'Bread'])

    const bob = await devices.open('Bob')
    const b = bob.page
    await importFile(b, path)
    await expect(b.getByRole('heading', { name: 'Holiday cottage' })).toBeVisible()
    await expect.poll(() => cartNames(b)).toEqual(['Milk', 'Bread'])
    await expect(cartItem(b, 'Milk').getByTestId('item-quantity')).toHaveText('2')
    await b.getByTestId('note-item').filter({ hasText: 'Packing' }).click()
    await expect(b.getByTestId('note-body')).toContainText('towels, boots')
    // a space of its own: saved to the server, and not Alice's
    await expectSaved(b)
    expect(new URL(b.url()).pathname).not.toBe(new URL(a.url()).pathname)
  })

test('[WEB-EXPORT-3] importing a copy of a space the device has merges it: what changed since is kept, nothing is lost', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Weekly shop')
  await addItem(a, 'Milk')
  await addItem(a, 'Bread')
  await expectSaved(a)
  const { path } = await download(a)
  // after the copy: one more Milk, Bread removed, Eggs added
  await a.getByRole('button', { name: 'Increase Milk' }).click()
  await rowAction(a, 'Bread', 'Remove')
  await addItem(a, 'Eggs')
  await expectSaved(a)
  const here = a.url()
  await importFile(a, path)
  await expect.poll(() => a.url()).toBe(here) // the same space, not a new one
  await expect.poll(() => cartNames(a)).toEqual(['Milk', 'Eggs'])
  await expect(cartItem(a, 'Milk').getByTestId('item-quantity')).toHaveText('2')
  await expect(a.getByTestId('banner-import-error')).toHaveCount(0)
})

test('[WEB-EXPORT-3] a file that is not a space imports nothing and says why', async ({
  devices,
}, testInfo) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await a.goto('/')
  const bad = testInfo.outputPath('not-a-space.json')
  await writeFile(
    bad,
    JSON.stringify({ format: 'converge-space', formatVersion: 1, engine: 'yjs', cart: 'milk' }),
  )
  await a.getByTestId('import-file').setInputFiles(bad)
  await expect(a.getByTestId('banner-import')).toContainText('Nothing was imported')
  await expect(a.getByTestId('banner-import')).toContainText('cart is not a list')
  await expect(a.getByTestId('space-card')).toHaveCount(0)
  await expect(a.getByTestId('empty-spaces')).toBeVisible()
})
