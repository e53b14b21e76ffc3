/**
 * WEB-HISTORY-1…3 (server-core HIST-n and merge RESTORE-1…6 in the app): the server keeps versions
 * of a space; "History" lists them by when and who, previews one read-only, and restores it as a new
 * change — synced to the other device, one Undo away — never a rewind.
 */
import type { Page } from '@playwright/test'
import {
  addItem,
  cartNames,
  createSpace,
  expect,
  expectSaved,
  rowAction,
  shareLinks,
  test,
} from '../fixtures/test.js'

// a version once a space has been quiet for half a second (the default is a minute)
test.use({ serverEnv: { HISTORY_QUIET_MS: '500' } })

/** Opens History until it lists `n` versions (the server saves one after each quiet spell). */
async function historyWith(page: Page, n: number): Promise<void> {
  await expect
    .poll(
      async () => {
        await page.getByTestId('open-history').click()
        const dialog = page.getByTestId('history-dialog')
        await expect(dialog.getByTestId('version-list').or(dialog.getByTestId('history-empty'))).toBeVisible()
        const count = await dialog.getByTestId('version').count()
        if (count < n) await dialog.getByRole('button', { name: 'Close' }).click()
        return count
      },
      { timeout: 20_000, intervals: [500] },
    )
    .toBeGreaterThanOrEqual(n)
}

test('[WEB-HISTORY-1][WEB-HISTORY-2][WEB-HISTORY-3] yesterday’s list is brought back as a new change: previewed, restored for everyone, undone', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Weekly shop')
  await a.getByTestId('open-history').click()
  await expect(a.getByTestId('history-empty')).toContainText('No versions yet')
  await a.getByRole('button', { name: 'Close' }).click()

  await addItem(a, 'Milk')
  await addItem(a, 'Bread')
  await expectSaved(a)
  await historyWith(a, 1)
  await a.getByRole('button', { name: 'Close' }).click()

  const links = await shareLinks(a)
  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(links.write)
  await expect.poll(() => cartNames(b)).toEqual(['Milk', 'Bread'])

  // the list changes: Milk goes, Eggs come
  await rowAction(a, 'Milk', 'Remove')
  await addItem(a, 'Eggs')
  await expectSaved(a)
  await expect.poll(() => cartNames(b)).toEqual(['Bread', 'Eggs'])
  await historyWith(a, 2)

  // the older version, named by when, who and how much, previewed read-only
  const dialog = a.getByTestId('history-dialog')
  const older = dialog.getByTestId('version').last()
  await expect(older).toContainText('Alice')
  await expect(older).toContainText(/\d+ changes?/)
  await older.click()
  await expect(dialog.getByTestId('version-items').getByRole('listitem')).toHaveText(['Milk', 'Bread'])
  expect(await cartNames(a)).toEqual(['Bread', 'Eggs']) // nothing changed yet

  await dialog.getByTestId('restore-version').click()
  await expect(a.getByTestId('space-notice')).toContainText('1 line back, 1 removed')
  await expect.poll(() => cartNames(a)).toEqual(['Milk', 'Bread'])
  // for everyone, as any edit
  await expect.poll(() => cartNames(b)).toEqual(['Milk', 'Bread'])
  await expectSaved(a)

  // Undo takes the restore back, for everyone
  await a.getByTestId('space-notice').getByRole('button', { name: 'Undo' }).click()
  await expect.poll(() => cartNames(a)).toEqual(['Bread', 'Eggs'])
  await expect.poll(() => cartNames(b)).toEqual(['Bread', 'Eggs'])
})
