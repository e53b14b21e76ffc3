/**
 * WEB-TRIP-1…3 (apps/server TRIPS-1…7 in the app): "Done shopping" records the trip once — also when
 * two phones press it together — and the bought lines leave every list once; a list that changed
 * while the dialog was open is shown again before anything is recorded; the trips list shows each
 * trip and each month with its total.
 */
import type { Page } from '@playwright/test'
import {
  addItem,
  cartNames,
  createSpace,
  editItem,
  expect,
  expectSaved,
  shareLinks,
  takeExpectedStatuses,
  test,
} from '../fixtures/test.js'

const tick = (page: Page, name: string) => page.getByRole('checkbox', { name: `Bought ${name}` }).check()

async function openDone(page: Page): Promise<void> {
  await page.getByTestId('done-shopping').click()
  await expect(page.getByTestId('finish-trip-confirm')).toBeEnabled()
}

test('[WEB-TRIP-1][WEB-TRIP-3] two phones press "Done shopping" together: one trip is recorded, the list is cleared once, and the trips list shows its total', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Weekly shop')
  await addItem(a, 'Milk')
  await editItem(a, 'Milk', { Price: '1.29' })
  await a.getByRole('button', { name: 'Increase Milk' }).click()
  await addItem(a, 'Bread')
  await addItem(a, 'Eggs')
  const links = await shareLinks(a)
  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(links.write)
  await expect.poll(() => cartNames(b)).toEqual(['Milk', 'Bread', 'Eggs'])
  await tick(b, 'Milk')
  await tick(a, 'Bread')
  await expectSaved(a)
  await expectSaved(b)
  await expect(a.getByRole('checkbox', { name: 'Bought Milk' })).toBeChecked()

  await openDone(a)
  await openDone(b)
  const dialog = a.getByTestId('finish-trip-dialog')
  await expect(dialog.getByTestId('finish-trip-lines').getByRole('listitem')).toHaveCount(2)
  await expect(dialog.getByTestId('finish-trip-total')).toContainText('2.58')
  // both at once
  await Promise.all([
    a.getByTestId('finish-trip-confirm').click(),
    b.getByTestId('finish-trip-confirm').click(),
  ])
  // one of them records the trip; the other is told who did
  const done = async (p: Page) =>
    ((await p.getByTestId('space-notice').textContent()) ?? '').includes('Trip recorded')
  await expect.poll(async () => (await done(a)) !== (await done(b)), { timeout: 15_000 }).toBe(true)
  const loser = (await done(a)) ? b : a
  await expect(loser.getByTestId('finish-trip-problem')).toContainText('finished this trip already')
  await loser.getByRole('button', { name: 'Close' }).click()
  // the loser's answer was the one refusal: 409 (the other's trip pending) or 412 (already complete)
  expect(takeExpectedStatuses(devices.problems, 0, [409, 412])).toBe(1)

  for (const p of [a, b]) await expect.poll(() => cartNames(p)).toEqual(['Eggs'])
  await expectSaved(a)

  await b.getByTestId('open-trips').click()
  const trips = b.getByTestId('trips-dialog')
  await expect(trips.getByTestId('trip')).toHaveCount(1)
  await expect(trips.getByTestId('trip-summary')).toHaveText(/2 items · .*2\.58/)
  await expect(trips.getByTestId('trip-month-total')).toHaveText(/1 trip · .*2\.58/)
  await trips.getByTestId('trip').locator('summary').click()
  await expect(trips.getByTestId('trip').getByRole('listitem')).toHaveCount(2)
  await expect(trips.getByTestId('trip')).toContainText('Milk')
  await expect(trips.getByTestId('trip')).toContainText('×2')
})

test('[WEB-TRIP-2] a list that changes while "Done shopping" is open is shown again before anything is recorded', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Corner shop')
  await addItem(a, 'Milk')
  await addItem(a, 'Bread')
  const links = await shareLinks(a)
  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(links.write)
  await expect.poll(() => cartNames(b)).toEqual(['Milk', 'Bread'])
  await tick(a, 'Milk')
  await expectSaved(a)

  await openDone(a)
  await expect(a.getByTestId('finish-trip-lines').getByRole('listitem')).toHaveCount(1)
  // Bob ticks Bread off while Alice looks at the summary
  await tick(b, 'Bread')
  await expectSaved(b)
  await a.getByTestId('finish-trip-confirm').click()
  await expect(a.getByTestId('finish-trip-problem')).toContainText('The list changed')
  await expect(a.getByTestId('finish-trip-lines').getByRole('listitem')).toHaveCount(2)
  expect(takeExpectedStatuses(devices.problems, 0, [412])).toBe(1)
  await a.getByTestId('finish-trip-confirm').click()
  await expect(a.getByTestId('space-notice')).toContainText('Trip recorded: 2 items')
  for (const p of [a, b]) await expect.poll(() => cartNames(p)).toEqual([])
  await expect(a.getByTestId('cart-empty')).toBeVisible()

  // an empty trips list explains itself on a new space
  await createSpace(a, 'Another list')
  await a.getByTestId('open-trips').click()
  await expect(a.getByTestId('trips-empty')).toContainText('No trips yet')
})
