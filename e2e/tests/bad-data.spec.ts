/**
 * The app survives bad data (BAD-4 in the UI). The server refuses nonsense values over the socket
 * (BAD-7), but a space stored on this device before a rule existed is read back checked for its
 * structure only: so the nonsense is written where the app restores from, a record in its IndexedDB
 * log, exactly as an old version of the app would have stored a peer's update. Then, with error
 * boundaries in place, a part that throws while rendering shows a calm message in its own place
 * while the rest of the app keeps working.
 */
import type { Page } from '@playwright/test'
import * as Y from 'yjs'
import { addItem, cartItem, createSpace, expect, test } from '../fixtures/test.js'

interface Hooks {
  __converge: {
    session(): { space: { encodeStateAsUpdate(): Uint8Array } } | null
    breakRender(name: string, on?: boolean): void
  }
}

/** The separator of the document's flat keys (packages/merge SPEC.md, "Document layout"). */
const SEP = '\u001f'

/**
 * An update on top of `state` that writes what a space may not hold (BAD-7 refuses each of these
 * from a peer): times past Date's range, NaN, a number for a title, an object for a name, a price
 * past Number.MAX_SAFE_INTEGER, a 10,000-character "checked by", control characters in a note.
 */
function nonsenseUpdate(state: Uint8Array): Uint8Array {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  const before = Y.encodeStateVector(doc)
  doc.transact(() => {
    const notes = doc.getMap('notes')
    // no body: the list shows its date instead of a first line, and `new Date(1e300)` has none
    notes.set(`legacy${SEP}createdAt`, 1e300)
    notes.set(`legacy${SEP}updatedAt`, Number.NaN)
    notes.set(`legacy${SEP}title`, 42)
    notes.set(`legacy${SEP}createdBy`, { not: 'a name' })
    notes.set(`nan${SEP}createdAt`, Number.NaN)
    notes.set(`nan${SEP}title`, 'Not a number')
    notes.set(`gone${SEP}createdAt`, 1_700_000_000_000)
    notes.set(`gone${SEP}title`, 'Trashed long ago')
    notes.set(`gone${SEP}trashedAt`, 1e300)
    const items = doc.getMap('items')
    items.set(`milk${SEP}priceCents`, 1e308)
    items.set(`milk${SEP}checkedBy`, 'x'.repeat(10_000))
    items.set(`milk${SEP}note`, 'semi\u0000skimmed\u0007\u202e')
    doc.getMap('meta').set('name', { not: 'a name' })
  })
  return Y.encodeStateAsUpdate(doc, before)
}

/** Appends `update` to the space's log in the app's own IndexedDB (sync-client's IdbStore layout). */
async function storeOnDevice(page: Page, spaceId: string, update: Uint8Array): Promise<void> {
  await page.evaluate(
    async ({ spaceId, bytes }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open('converge')
        r.onsuccess = () => ok(r.result)
        r.onerror = () => fail(r.error ?? new Error('indexedDB.open failed'))
      })
      await new Promise<void>((ok, fail) => {
        const tx = db.transaction('updates', 'readwrite')
        // clientId -1: an update that came from elsewhere (records.ts, UpdateRecord)
        tx.objectStore('updates').put({ spaceId, update: Uint8Array.from(bytes), clientId: -1, clock: 0 })
        tx.oncomplete = () => ok()
        tx.onerror = () => fail(tx.error ?? new Error('the write failed'))
        tx.onabort = () => fail(tx.error ?? new Error('the write was aborted'))
      })
      db.close()
    },
    { spaceId, bytes: Array.from(update) },
  )
}

/** The whole state of the open space (test build only). */
const stateOf = async (page: Page): Promise<Uint8Array> =>
  Uint8Array.from(
    await page.evaluate(() =>
      Array.from((window as unknown as Hooks).__converge.session()?.space.encodeStateAsUpdate() ?? []),
    ),
  )

const breakRender = (page: Page, name: string, on = true): Promise<void> =>
  page.evaluate(([n, o]) => (window as unknown as Hooks).__converge.breakRender(n, o), [name, on] as const)

/** The message a boundary shows in place of its part. */
const renderError = (page: Page, boundary: string) =>
  page.locator(`[data-testid="render-error"][data-boundary="${boundary}"]`)

test('[BAD-4] nonsense stored on this device: the space opens, the nonsense shows as defaults, the cart works', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const page = alice.page
  const id = await createSpace(page, 'Bad data')
  await addItem(page, 'Milk')
  await expect(cartItem(page, 'Milk')).toBeVisible()

  await storeOnDevice(page, id, nonsenseUpdate(await stateOf(page)))
  await page.reload()

  // the space screen renders, nothing is replaced by an error message
  await expect(page.getByTestId('space-name')).toHaveText('Bad data') // the catalog's name: the document's is an object
  await expect(cartItem(page, 'Milk')).toBeVisible()
  await expect(page.getByTestId('note-item')).toHaveCount(2)
  await expect(page.getByTestId('render-error')).toHaveCount(0)

  // the notes with nonsense times show a fallback date; a number for a title reads as no title
  const legacy = page.getByTestId('note-item').filter({ hasText: 'Untitled note' })
  await expect(legacy).toContainText('date unknown')
  await expect(page.getByTestId('note-item').filter({ hasText: 'Not a number' })).toContainText(
    'date unknown',
  )

  // the line: no price (1e308 reads as none), the note without control characters, "bought by" cut short
  const milk = cartItem(page, 'Milk')
  await expect(milk.locator('.item-meta')).toContainText('semi skimmed')
  await expect(milk.locator('.item-meta')).not.toContainText('each')
  const boughtBy = (await milk.getByTestId('bought-by').textContent()) ?? ''
  expect(boughtBy).toMatch(/^ · bought by x+…$/)
  expect(boughtBy.length).toBeLessThan(220)
  await expect(page.getByTestId('total-price')).toHaveText('no prices yet') // the one line's price is none

  // the trash: a nonsense "trashed at" shows a fallback date too
  await page.getByRole('button', { name: /Trash \(1\)/ }).click()
  await expect(page.getByTestId('trash-item')).toContainText('Trashed long ago')
  await expect(page.getByTestId('trash-item')).toContainText('trashed date unknown')
  await page.getByRole('button', { name: 'Back to notes' }).click()

  // the rest works: an add, an increment, a new note
  await addItem(page, 'Bread')
  await expect(cartItem(page, 'Bread')).toBeVisible()
  await page.getByRole('button', { name: 'Increase Milk', exact: true }).click()
  await expect(cartItem(page, 'Milk').getByTestId('item-quantity')).toHaveText('2')
  await page.getByRole('button', { name: 'New note' }).click()
  await page.getByLabel('Note title').fill('Fresh')
  await page.getByLabel('Note title').press('Enter')
  await expect(page.getByTestId('note-item')).toHaveCount(3)
  await expect(page.getByTestId('render-error')).toHaveCount(0)
  // and no console errors or warnings: the devices fixture checks it after the test
})

test('a part that throws while rendering shows a calm message in its place; the rest keeps working', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const page = alice.page
  await createSpace(page, 'Boundaries')
  await addItem(page, 'Milk')
  await page.getByRole('button', { name: 'New note' }).click()
  await page.getByLabel('Note title').fill('Plan')
  await page.getByLabel('Note title').press('Enter')
  await expect(page.getByLabel('Text of Plan')).toBeVisible()
  const from = devices.problems.length

  // the notes panel throws: its message in its place, the cart goes on working
  await breakRender(page, 'notes')
  const notesError = renderError(page, 'notes')
  await expect(notesError).toHaveAttribute('role', 'alert')
  await expect(notesError).toContainText('The notes couldn’t be shown. Your data is safe on this device.')
  await expect(notesError).not.toContainText('test:') // the error's message and stack stay in the log
  await expect(page.getByTestId('notes')).toHaveCount(0)
  await addItem(page, 'Bread')
  await expect(cartItem(page, 'Bread')).toBeVisible()
  await page.getByRole('button', { name: 'Increase Milk', exact: true }).click()
  await expect(cartItem(page, 'Milk').getByTestId('item-quantity')).toHaveText('2')

  // "Try again" from the keyboard: still broken → the message again; fixed → the notes are back
  const tryAgain = notesError.getByRole('button', { name: 'Try again' })
  await tryAgain.focus()
  await page.keyboard.press('Enter')
  await expect(notesError).toBeVisible()
  await breakRender(page, 'notes', false)
  await notesError.getByRole('button', { name: 'Try again' }).focus()
  await page.keyboard.press('Enter')
  await expect(notesError).toHaveCount(0)
  await expect(page.getByLabel('Text of Plan')).toBeVisible()

  // the note editor alone: the list of notes and the cart stay
  await breakRender(page, 'note-editor')
  await expect(renderError(page, 'note-editor')).toContainText('This note couldn’t be shown.')
  await expect(page.getByTestId('note-item')).toHaveText(/Plan/)
  await addItem(page, 'Eggs')
  await expect(cartItem(page, 'Eggs')).toBeVisible()
  await breakRender(page, 'note-editor', false)
  await renderError(page, 'note-editor').getByRole('button', { name: 'Try again' }).click()
  await expect(page.getByLabel('Text of Plan')).toBeVisible()

  // the cart alone: the notes stay
  await breakRender(page, 'cart')
  await expect(renderError(page, 'cart')).toContainText('This list couldn’t be shown.')
  await expect(page.getByLabel('Add item')).toHaveCount(0)
  await page.getByTestId('note-body').click()
  await page.keyboard.type('buy bread')
  await expect(page.getByTestId('note-body')).toContainText('buy bread')
  await breakRender(page, 'cart', false)
  await renderError(page, 'cart').getByRole('button', { name: 'Try again' }).click()
  await expect(cartItem(page, 'Eggs')).toBeVisible()

  // the whole space screen: a way back to the list of spaces, and the app goes on
  await breakRender(page, 'space')
  const spaceError = renderError(page, 'space')
  await expect(spaceError).toContainText('This space couldn’t be shown. Your data is safe on this device.')
  await breakRender(page, 'space', false)
  await spaceError.getByRole('link', { name: 'Back to your lists' }).click()
  await expect(page.getByTestId('space-card')).toHaveCount(1)
  await page.getByTestId('space-card').getByRole('link').click()
  await expect(cartItem(page, 'Eggs')).toBeVisible()
  await expect(page.getByTestId('render-error')).toHaveCount(0)

  // each failure was logged once, as a warning (never as an error); nothing else was
  const logged = devices.problems.splice(from)
  expect(
    logged.map(
      (p) =>
        /^\[Alice\] console\.warning: Converge: the ([a-z-]+) part could not be shown\./.exec(p)?.[1] ?? p,
    ),
  ).toEqual(['notes', 'notes', 'note-editor', 'cart', 'space'])
})
