import { createSpace, expect, expectSaved, test } from '../fixtures/test.js'

test('keyboard: add with Enter, move with Alt+ArrowUp, undo with Ctrl+Z, remove a space from the device', async ({
  devices,
}) => {
  const { page } = await devices.open('Alice')
  await createSpace(page, 'Keyboard flat')
  await createSpace(page, 'Spare flat')

  const names = page.getByTestId('cart-item')
  const input = page.getByLabel('Add item')
  await input.focus()
  for (const name of ['Milk', 'Bread', 'Eggs']) {
    await page.keyboard.type(name)
    await page.keyboard.press('Enter')
    await expect(input).toHaveValue('')
    await expect(input).toBeFocused()
  }
  const order = () => names.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')))
  await expect.poll(order).toEqual(['Milk', 'Bread', 'Eggs'])

  // Alt+ArrowUp on the focused "Eggs" row (rows are focusable)
  const eggs = page.locator('li[data-testid="cart-item"][data-name="Eggs"]')
  await eggs.focus()
  await expect(eggs).toBeFocused()
  await page.keyboard.press('Alt+ArrowUp')
  await expect.poll(order).toEqual(['Milk', 'Eggs', 'Bread'])

  // Ctrl+Z outside the editor and text fields undoes the move
  await page.keyboard.press('Control+z')
  await expect.poll(order).toEqual(['Milk', 'Bread', 'Eggs'])
  await expectSaved(page)

  // home screen: remove "Spare flat" from this device
  await page.goto('/')
  const cards = page.getByTestId('space-card')
  await expect(cards).toHaveCount(2)
  const remove = page.getByRole('button', { name: 'Remove Spare flat from this device' })
  await remove.focus()
  await page.keyboard.press('Enter')
  // all on the server: no question, an Undo instead (WEB-HOME-1)
  await expect(page.getByTestId('remove-dialog')).toHaveCount(0)
  await expect(page.getByTestId('remove-notice')).toContainText('Removed “Spare flat” from this device')
  await expect(cards).toHaveCount(1)
  await expect(cards).toContainText('Keyboard flat')
  await expect(cards).not.toContainText('Spare flat')
})
