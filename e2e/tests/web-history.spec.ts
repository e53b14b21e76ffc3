/**
 * WEB-HISTORY-1…4 (server-core HIST-n and merge RESTORE-1…6 in the app): the server keeps versions
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
import { axeViolations } from '../fixtures/a11y.js'

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

test('[WEB-HISTORY-1][WEB-HISTORY-2][WEB-HISTORY-3][WEB-HISTORY-4] yesterday’s list is brought back as a new change: previewed with what it would change, restored for everyone, undone', async ({
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
  const lines = dialog.getByTestId('version-items').getByRole('listitem')
  await expect(lines).toHaveCount(2)
  // what restoring would do, against the list now: Milk comes back, Eggs comes off
  await expect(lines.nth(0)).toContainText('Milk')
  await expect(lines.nth(0).getByTestId('version-mark')).toHaveText('comes back')
  await expect(lines.nth(1)).toHaveText('Bread')
  await expect(dialog.getByTestId('version-off')).toContainText('takes it off: Eggs.')
  await expect(dialog.getByTestId('version-diff-summary')).toHaveText(
    'Restoring this version: 1 line comes back, 1 line comes off the list.',
  )
  // the marks are read as they are seen: no serious axe violation in the preview, light or dark
  for (const colorScheme of ['light', 'dark'] as const) {
    await a.emulateMedia({ colorScheme })
    expect(
      await axeViolations(a, {
        screen: `preview (${colorScheme})`,
        include: '[data-testid="history-dialog"]',
      }),
    ).toEqual([])
  }
  // the marks follow the list while the preview is open: Bob adds Milk ×2 again
  await addItem(b, 'Milk')
  await b.getByRole('button', { name: 'Increase Milk' }).click()
  await expect(lines.nth(0).getByTestId('version-mark')).toHaveText('now ×2')
  await rowAction(b, 'Milk', 'Remove')
  await expect(lines.nth(0).getByTestId('version-mark')).toHaveText('comes back')
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

test.describe('a trip pressed by mistake', () => {
  // no quiet spell ends during the test: the only version is the one the trip itself makes first
  test.use({ serverEnv: { HISTORY_QUIET_MS: '600000' } })

  test('[WEB-HISTORY-3] [HIST-9] "Done shopping" pressed by mistake: the list as it was just before is a version, restored with its ticks', async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await createSpace(a, 'Weekly shop')
    for (const name of ['Milk', 'Bread', 'Eggs']) await addItem(a, name)
    await a.getByRole('checkbox', { name: 'Bought Milk' }).check()
    await a.getByRole('checkbox', { name: 'Bought Bread' }).check()
    await expectSaved(a)
    await a.getByTestId('done-shopping').click()
    await a.getByTestId('finish-trip-confirm').click()
    await expect(a.getByTestId('space-notice')).toContainText('Trip recorded: 2 items')
    await expect.poll(() => cartNames(a)).toEqual(['Eggs'])

    await historyWith(a, 1)
    const dialog = a.getByTestId('history-dialog')
    await expect(dialog.getByTestId('version')).toHaveCount(1)
    await expect(dialog.getByTestId('version')).toContainText('Alice')
    await dialog.getByTestId('version').click()
    await expect(dialog.getByTestId('version-items').getByRole('listitem')).toHaveText([
      /Milk\s*comes back/,
      /Bread\s*comes back/,
      'Eggs',
    ])
    await dialog.getByTestId('restore-version').click()
    // Eggs still to buy, the two bought lines back under it
    await expect.poll(() => cartNames(a)).toEqual(['Eggs', 'Milk', 'Bread'])
    await expect(a.getByRole('checkbox', { name: 'Bought Milk' })).toBeChecked()
    await expect(a.getByRole('checkbox', { name: 'Bought Bread' })).toBeChecked()
    await expect(a.getByRole('checkbox', { name: 'Bought Eggs' })).not.toBeChecked()
    await expectSaved(a)
  })
})
