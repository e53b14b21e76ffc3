import {
  addItem,
  cartItem,
  createSpace,
  expect,
  expectSaved,
  rowAction,
  screenshot,
  syncStatus,
  test,
} from '../fixtures/test.js'

test('cart: add, merge duplicates, +/−, check off, edit, remove, totals, saved', async ({
  devices,
}, testInfo) => {
  const { page } = await devices.open('Alice')
  await createSpace(page, 'Flat 3B')
  await expect(page.getByTestId('cart-empty')).toBeVisible()

  await addItem(page, 'Milk')
  const milk = cartItem(page, 'Milk')
  await expect(milk.getByTestId('item-quantity')).toHaveText('1')

  // the same name (other case, spaces around it) adds to the existing row
  await addItem(page, ' milk ')
  await expect(page.getByTestId('cart-item')).toHaveCount(1)
  await expect(milk.getByTestId('item-quantity')).toHaveText('2')

  await addItem(page, 'Bread')
  await addItem(page, 'Eggs')
  await expect(page.getByTestId('cart-item')).toHaveCount(3)
  // nothing has a price yet: no "0.00" total
  await expect(page.getByTestId('total-price')).toHaveText('no prices yet')

  await page.getByRole('button', { name: 'Increase Milk' }).click()
  await expect(milk.getByTestId('item-quantity')).toHaveText('3')
  await page.getByRole('button', { name: 'Decrease Milk' }).click()
  await expect(milk.getByTestId('item-quantity')).toHaveText('2')

  await page.getByRole('checkbox', { name: 'Bought Milk' }).check()
  await expect(page.getByRole('checkbox', { name: 'Bought Milk' })).toBeChecked()
  await expect(milk.getByTestId('bought-by')).toHaveText(/bought by Alice/)

  await rowAction(page, 'Milk', 'Edit details')
  const editor = page.getByRole('form', { name: 'Details of Milk' })
  await editor.getByLabel('Price').fill('1.25')
  await editor.getByLabel('Unit').fill('l')
  await editor.getByRole('button', { name: 'Save' }).click()
  await expect(editor).toHaveCount(0)
  await expect(milk).toContainText(/1[.,]25 each/)
  await expect(milk.getByTestId('item-quantity')).toHaveText('2 l')

  await rowAction(page, 'Bread', 'Remove')
  await expect(cartItem(page, 'Bread')).toHaveCount(0)

  await expect(page.getByTestId('total-items')).toHaveText('2')
  await expect(page.getByTestId('total-quantity')).toHaveText('3')
  await expect(page.getByTestId('total-bought')).toHaveText('1 of 2')
  await expect(page.getByTestId('total-price')).toHaveText(/^2[.,]50 \+ 1 without price$/)

  await expectSaved(page)
  await expect(syncStatus(page)).toHaveAttribute('data-status', 'saved')

  await page.mouse.move(0, 0) // no hover highlight in the picture
  await screenshot(page.getByTestId('cart'), 'cart.png', (n, o) => testInfo.attach(n, o))
})
