/**
 * Accessibility (issue 15, item 9): an axe-core audit of every screen — home, a space (cart and
 * notes), the share dialog, the trash, a space not on this device — at desktop and phone size, with
 * no serious or critical violation.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { addItem, createSpace, expect, expectSaved, test } from '../fixtures/test.js'

/** The serious and critical violations on the page now, as readable lines. */
async function audit(page: Page, screen: string): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze()
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${screen}: ${v.id} (${v.impact}) — ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    )
}

for (const size of [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const)
  test(`a11y (${size.name}): no serious or critical axe violation on any screen`, async ({ devices }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await a.setViewportSize({ width: size.width, height: size.height })
    const problems: string[] = []
    await a.goto('/')
    await expect(a.getByLabel('Space name')).toBeVisible()
    problems.push(...(await audit(a, 'home (empty)')))
    await createSpace(a, 'Audit flat')
    await addItem(a, 'Milk')
    await addItem(a, 'Eggs')
    await a.getByRole('checkbox', { name: 'Bought Eggs' }).check()
    await a.getByRole('button', { name: 'New note' }).click()
    await a.getByLabel('Note title').fill('Plan')
    await a.getByLabel('Note title').press('Enter')
    await a.keyboard.type('weekend')
    await expectSaved(a)
    problems.push(...(await audit(a, 'space')))
    await a.getByRole('button', { name: 'Share', exact: true }).click()
    await expect(a.getByTestId('share-dialog')).toBeVisible()
    problems.push(...(await audit(a, 'share dialog')))
    await a.getByTestId('share-dialog').getByRole('button', { name: 'Done' }).click()
    await a.getByRole('button', { name: 'Move Plan to trash' }).click()
    await a.getByRole('button', { name: /Trash \(1\)/ }).click()
    await expect(a.getByTestId('trash-item')).toHaveCount(1)
    problems.push(...(await audit(a, 'trash')))
    await a.goto('/')
    await expect(a.getByTestId('space-card')).toHaveCount(1)
    problems.push(...(await audit(a, 'home (a space)')))
    await a.goto('/s/NotHereAtAll')
    await expect(a.getByTestId('not-on-device')).toBeVisible()
    problems.push(...(await audit(a, 'not on this device')))
    expect(problems).toEqual([])
  })
