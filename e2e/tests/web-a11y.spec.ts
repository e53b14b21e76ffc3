/**
 * Accessibility (issue 15, item 9): an axe-core audit of every screen — home, a space (cart and
 * notes), the share dialog, "Done shopping", the trips, the history, the trash, a space not on this device — at desktop and phone size, in the
 * light and the dark colour scheme, with no serious or critical violation (colour contrast included).
 * On the way it takes the README's screenshots (docs/screenshots).
 */
import type { Page } from '@playwright/test'
import { axeViolations } from '../fixtures/a11y.js'
import { addItem, createSpace, expect, expectSaved, screenshot, SIZES, test } from '../fixtures/test.js'

/** The serious and critical violations on the page now, as readable lines. */
const audit = (page: Page, screen: string): Promise<string[]> => axeViolations(page, { screen })

for (const scheme of ['light', 'dark'] as const)
  for (const size of SIZES)
    test(`a11y (${size.name}, ${scheme}): no serious or critical axe violation on any screen`, async ({
      devices,
    }, testInfo) => {
      const alice = await devices.open('Alice')
      const a = alice.page
      await a.setViewportSize(size.viewport)
      await a.emulateMedia({ colorScheme: scheme })
      const shot = async (target: Parameters<typeof screenshot>[0], file: string): Promise<void> =>
        screenshot(target, file, (n, o) => testInfo.attach(n, o))
      const phone = size.name === 'phone'
      const light = scheme === 'light'
      const problems: string[] = []
      await a.goto('/')
      await expect(a.getByLabel('Space name')).toBeVisible()
      problems.push(...(await audit(a, 'home (empty)')))
      await createSpace(a, 'Weekend trip')
      await createSpace(a, 'Audit flat')
      await addItem(a, 'Milk')
      await addItem(a, 'Eggs')
      await addItem(a, 'Bread')
      await a.getByRole('checkbox', { name: 'Bought Eggs' }).check()
      await a.getByRole('button', { name: 'New note' }).click()
      await a.getByLabel('Note title').fill('Plan')
      await a.getByLabel('Note title').press('Enter')
      await a.keyboard.type('Saturday: market at 9, then the bakery.')
      await expectSaved(a)
      problems.push(...(await audit(a, 'space')))
      if (phone && light) await shot(a, 'space-phone.png')
      if (phone && !light) await shot(a, 'space-phone-dark.png')
      if (!phone && light) await shot(a.getByTestId('notes'), 'notes-desktop.png')
      await a.getByRole('button', { name: 'Share', exact: true }).click()
      await expect(a.getByTestId('share-dialog')).toBeVisible()
      problems.push(...(await audit(a, 'share dialog')))
      if (!phone && light) await shot(a.getByTestId('share-dialog'), 'share-dialog.png')
      await a.getByTestId('share-dialog').getByRole('button', { name: 'Done' }).click()
      // "Done shopping" (Eggs is ticked), the trips it records, the history
      await a.getByTestId('done-shopping').click()
      await expect(a.getByTestId('finish-trip-confirm')).toBeEnabled()
      problems.push(...(await audit(a, 'done shopping')))
      if (phone && light) await shot(a.getByTestId('finish-trip-dialog'), 'done-shopping-phone.png')
      await a.getByTestId('finish-trip-confirm').click()
      await expect(a.getByTestId('space-notice')).toContainText('Trip recorded')
      problems.push(...(await audit(a, 'space (trip recorded)')))
      await a.getByTestId('open-trips').click()
      await expect(a.getByTestId('trip')).toHaveCount(1)
      problems.push(...(await audit(a, 'trips')))
      if (phone && light) await shot(a.getByTestId('trips-dialog'), 'trips-phone.png')
      await a.getByTestId('trips-dialog').getByRole('button', { name: 'Close' }).click()
      await a.getByTestId('open-history').click()
      await expect(a.getByTestId('history-dialog')).toBeVisible()
      problems.push(...(await audit(a, 'history')))
      await a.getByTestId('history-dialog').getByRole('button', { name: 'Close' }).click()
      await a.getByRole('button', { name: 'Move Plan to trash' }).click()
      await a.getByRole('button', { name: /Trash \(1\)/ }).click()
      await expect(a.getByTestId('trash-item')).toHaveCount(1)
      problems.push(...(await audit(a, 'trash')))
      await a.goto('/')
      await expect(a.getByTestId('space-card')).toHaveCount(2)
      problems.push(...(await audit(a, 'home (spaces)')))
      if (phone) await shot(a, light ? 'home-phone.png' : 'home-phone-dark.png')
      // the undo notice of a removal
      await a.getByRole('button', { name: 'Remove Weekend trip from this device' }).click()
      await expect(a.getByTestId('remove-notice')).toContainText('Removed')
      problems.push(...(await audit(a, 'home (removal notice)')))
      await a.getByTestId('remove-notice').getByRole('button', { name: 'Undo' }).click()
      await expect(a.getByTestId('space-card')).toHaveCount(2)
      await a.goto('/s/NotHereAtAll')
      await expect(a.getByTestId('not-on-device')).toBeVisible()
      problems.push(...(await audit(a, 'not on this device')))
      // offline (to the end): a space created here, with its banner and the offline status line
      await a.goto('/')
      await expect(a.getByTestId('space-card')).toHaveCount(2)
      await alice.goOffline()
      await a.getByLabel('Space name').fill('Offline flat')
      await a.getByRole('button', { name: 'Create space' }).click()
      await expect(a.getByTestId('banner-unregistered')).toBeVisible()
      await addItem(a, 'Candles')
      problems.push(...(await audit(a, 'space (created offline)')))
      expect(problems).toEqual([])
    })
