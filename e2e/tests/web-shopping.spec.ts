import type { Page } from '@playwright/test'
import {
  addItem,
  cartItem,
  createSpace,
  editItem,
  expect,
  expectSaved,
  namesIn,
  rowAction,
  screenshot,
  shareLinks,
  SIZES,
  test,
} from '../fixtures/test.js'

/** The shopping-list behaviour of the cart (issue 15, item 1), at desktop and at phone width. */
/** Nothing is wider than the window (a phone scrolls only down). */
async function expectNoSideways(page: Page): Promise<void> {
  const width = page.viewportSize()?.width ?? 0
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width)
}

for (const { name: label, viewport } of SIZES) {
  test.describe(`shopping list (${label})`, () => {
    test(`${label}: bought items move to a collapsible Bought section, live on another device`, async ({
      devices,
    }, testInfo) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      await createSpace(alice.page, 'Flat 3B')
      await expect(alice.page.getByTestId('cart-empty')).toContainText('Add what you need above')
      await expectNoSideways(alice.page)
      for (const name of ['Milk', 'Bread', 'Eggs']) await addItem(alice.page, name)
      const { write } = await shareLinks(alice.page)

      const bob = await devices.open('Bob')
      await bob.page.setViewportSize(viewport)
      await bob.page.goto(write)
      await expect(cartItem(bob.page, 'Eggs')).toBeVisible()

      // Bob checks Bread off: it moves to "Bought (1)" at the bottom, on his screen and on Alice's
      await bob.page.getByRole('checkbox', { name: 'Bought Bread' }).check()
      for (const page of [bob.page, alice.page]) {
        await expect.poll(() => namesIn(page, 'cart-to-buy')).toEqual(['Milk', 'Eggs'])
        await expect.poll(() => namesIn(page, 'cart-bought')).toEqual(['Bread'])
        await expect(page.getByRole('button', { name: 'Bought (1)' })).toHaveAttribute(
          'aria-expanded',
          'true',
        )
      }
      await expect(cartItem(alice.page, 'Bread').getByTestId('bought-by')).toHaveText(/bought by Bob/)
      await alice.page.mouse.move(0, 0)
      await screenshot(alice.page.getByTestId('cart'), `cart-bought-${label}.png`, (n, o) =>
        testInfo.attach(n, o),
      )

      // the section folds with the keyboard, a real button with aria-expanded
      const toggle = alice.page.getByRole('button', { name: 'Bought (1)' })
      await toggle.focus()
      await alice.page.keyboard.press('Enter')
      await expect(toggle).toHaveAttribute('aria-expanded', 'false')
      await expect(cartItem(alice.page, 'Bread')).toHaveCount(0)
      // checked off by keyboard into the folded section, focus stays at the section's button
      await alice.page.getByRole('checkbox', { name: 'Bought Eggs' }).focus()
      await alice.page.keyboard.press('Space')
      const folded = alice.page.getByRole('button', { name: 'Bought (2)' })
      await expect(folded).toBeFocused()
      await expect(folded).toHaveAttribute('aria-expanded', 'false')
      await alice.page.keyboard.press('Space')
      await expect(folded).toHaveAttribute('aria-expanded', 'true')
      await expect(cartItem(alice.page, 'Bread')).toBeVisible()
      await alice.page.getByRole('checkbox', { name: 'Bought Eggs' }).uncheck()
      await expect(alice.page.getByRole('button', { name: 'Bought (1)' })).toBeVisible()

      // unchecking puts it back in its place in the list, for both
      await alice.page.getByRole('checkbox', { name: 'Bought Bread' }).uncheck()
      for (const page of [alice.page, bob.page]) {
        await expect.poll(() => namesIn(page, 'cart-to-buy')).toEqual(['Milk', 'Bread', 'Eggs'])
        await expect(page.getByTestId('cart-bought')).toHaveCount(0)
      }
      await expectNoSideways(alice.page)
      await expectSaved(alice.page)
      await expectSaved(bob.page)
    })

    test(`${label}: "Clear bought" removes every bought item as one step, with Undo`, async ({ devices }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      const { page } = alice
      await createSpace(page, 'Flat 3B')
      for (const name of ['Milk', 'Bread', 'Eggs']) await addItem(page, name)
      await page.getByRole('checkbox', { name: 'Bought Milk' }).check()
      await page.getByRole('checkbox', { name: 'Bought Eggs' }).check()
      await expect(page.getByRole('button', { name: 'Bought (2)' })).toBeVisible()
      await expect(page.getByTestId('cart-to-buy').getByTestId('cart-item')).toHaveCount(1)

      await page.getByRole('button', { name: 'Clear bought' }).click()
      const notice = page.getByRole('status').filter({ hasText: 'Cleared 2 bought items.' })
      await expect(notice).toBeVisible()
      await expect(page.getByTestId('cart-item')).toHaveCount(1)
      await expect(page.getByTestId('cart-bought')).toHaveCount(0)
      await expect(page.getByTestId('total-items')).toHaveText('1')

      // one Undo brings both back, still bought
      await notice.getByRole('button', { name: 'Undo' }).click()
      await expect(page.getByTestId('cart-notice')).toHaveText(/Put back/)
      await expect.poll(() => namesIn(page, 'cart-bought')).toEqual(['Milk', 'Eggs'])
      await expect(page.getByRole('checkbox', { name: 'Bought Milk' })).toBeChecked()

      // clearing again and then doing something else: the Undo is gone rather than undoing that
      await page.getByRole('button', { name: 'Clear bought' }).click()
      await expect(page.getByTestId('cart-notice').getByRole('button', { name: 'Undo' })).toBeVisible()
      await page.getByRole('button', { name: 'Increase Bread' }).click()
      await expect(page.getByTestId('cart-notice').getByRole('button', { name: 'Undo' })).toHaveCount(0)

      // everything bought and cleared: a calm empty list
      await page.getByRole('checkbox', { name: 'Bought Bread' }).check()
      await expect(page.getByTestId('cart-all-bought')).toHaveText('Everything is bought.')
      await page.getByRole('button', { name: 'Clear bought' }).click()
      await expect(page.getByTestId('cart-empty')).toBeVisible()
      await expectNoSideways(page)
      await expectSaved(page)
    })

    test(`${label}: adding a bought item puts it back on the list, and says so`, async ({ devices }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      const { page } = alice
      await createSpace(page, 'Flat 3B')
      await addItem(page, 'Milk')
      await addItem(page, 'Bread')
      await page.getByRole('checkbox', { name: 'Bought Milk' }).check()
      await expect.poll(() => namesIn(page, 'cart-bought')).toEqual(['Milk'])

      await addItem(page, 'milk')
      await expect(page.getByTestId('cart-notice')).toHaveText(/Milk is back on the list\./)
      await expect.poll(() => namesIn(page, 'cart-to-buy')).toEqual(['Milk', 'Bread'])
      await expect(page.getByRole('checkbox', { name: 'Bought Milk' })).not.toBeChecked()
      await expect(cartItem(page, 'Milk').getByTestId('item-quantity')).toHaveText('1')

      // an item still to buy, in another spelling, merges into its line
      await addItem(page, ' BREAD ')
      await expect(page.getByTestId('cart-notice')).toHaveText(/“BREAD” merged into Bread \(now 2\)\./)
      await expect(cartItem(page, 'Bread').getByTestId('item-quantity')).toHaveText('2')
      await expectSaved(page)
    })

    test(`${label}: a quantity can be typed; Enter or leaving the field sets it, Escape goes back`, async ({
      devices,
    }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      const { page } = alice
      await createSpace(page, 'Flat 3B')
      await addItem(page, 'Eggs')
      const quantity = cartItem(page, 'Eggs').getByTestId('item-quantity')

      // keyboard: Tab to it, Enter opens the field, type, Enter sets it and focus comes back
      await quantity.focus()
      await page.keyboard.press('Enter')
      const field = page.getByRole('spinbutton', { name: 'Quantity of Eggs' })
      await expect(field).toBeFocused()
      await page.keyboard.type('12')
      await page.keyboard.press('Enter')
      await expect(quantity).toHaveText('12')
      await expect(quantity).toBeFocused()
      await expect(page.getByTestId('total-quantity')).toHaveText('12')

      // leaving the field sets it too
      await quantity.click()
      await field.fill('6')
      await page.getByLabel('Add item').click()
      await expect(quantity).toHaveText('6')

      // Escape and values that are not a quantity change nothing
      await quantity.click()
      await field.fill('40')
      await field.press('Escape')
      await expect(quantity).toHaveText('6')
      await quantity.click()
      await field.fill('0')
      await field.press('Enter')
      await expect(quantity).toHaveText('6')

      // −/+ still work, and the typed quantity is one undo step
      await page.getByRole('button', { name: 'Increase Eggs' }).click()
      await expect(quantity).toHaveText('7')
      const undo = page.getByRole('toolbar', { name: 'Space actions' }).getByRole('button', { name: 'Undo' })
      await undo.click()
      await expect(quantity).toHaveText('6')
      await undo.click()
      await expect(quantity).toHaveText('12')
      await expectNoSideways(page)
      await expectSaved(page)
    })

    test(`${label}: an item's name can be corrected, keeping its note and price, live for everyone`, async ({
      devices,
    }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      await createSpace(alice.page, 'Flat 3B')
      await addItem(alice.page, 'Bread')
      await addItem(alice.page, 'Mlik')
      await editItem(alice.page, 'Mlik', { Note: 'oat', Price: '1.29' })
      const { write } = await shareLinks(alice.page)
      const bob = await devices.open('Bob')
      await bob.page.setViewportSize(viewport)
      await bob.page.goto(write)
      await expect(cartItem(bob.page, 'Mlik')).toBeVisible()

      await editItem(alice.page, 'Mlik', { Name: 'Milk' })
      await expect(alice.page.getByTestId('cart-notice')).toHaveText(/Renamed Mlik to Milk\./)
      for (const page of [alice.page, bob.page]) {
        await expect(cartItem(page, 'Mlik')).toHaveCount(0)
        await expect(cartItem(page, 'Milk')).toContainText('oat')
        await expect(cartItem(page, 'Milk')).toContainText(/1[.,]29 each/)
        await expect.poll(() => namesIn(page, 'cart-to-buy')).toEqual(['Bread', 'Milk'])
      }

      // a name that is another item on the list merges into it
      await addItem(alice.page, 'Bred')
      await editItem(alice.page, 'Bred', { Name: 'bread' })
      await expect(alice.page.getByTestId('cart-notice')).toHaveText(/Bred merged into Bread\./)
      await expect(cartItem(bob.page, 'Bread').getByTestId('item-quantity')).toHaveText('2')
      await expect(cartItem(bob.page, 'Bred')).toHaveCount(0)

      // an empty name is not taken
      await rowAction(alice.page, 'Milk', 'Edit details')
      const editor = alice.page.getByRole('form', { name: 'Details of Milk' })
      await editor.getByLabel('Name', { exact: true }).fill('  ')
      await editor.getByRole('button', { name: 'Save' }).click()
      await expect(editor.getByText('An item needs a name')).toBeVisible()
      await editor.getByRole('button', { name: 'Cancel' }).click()
      await expect(cartItem(alice.page, 'Milk')).toBeVisible()
      await expectNoSideways(alice.page)
      await expectSaved(alice.page)
      await expectSaved(bob.page)
    })

    test(`${label}: prices are shown in the space's currency, the same for everyone, and it can be undone`, async ({
      devices,
    }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      const { page } = alice
      await createSpace(page, 'Flat 3B')
      await addItem(page, 'Cheese')
      await editItem(page, 'Cheese', { Price: '4.5' })
      await expect(cartItem(page, 'Cheese')).toContainText(/4[.,]50 each/)
      await expect(page.getByTestId('total-price')).toHaveText(/^4[.,]50$/)
      const links = await shareLinks(page)
      const bob = await devices.open('Bob')
      await bob.page.setViewportSize(viewport)
      await bob.page.goto(links.write)
      await expect(bob.page.getByTestId('total-price')).toHaveText(/^4[.,]50$/)

      await page.getByLabel('Currency').selectOption('EUR')
      await expect(cartItem(page, 'Cheese')).toContainText(/€\s?4[.,]50 each|4[.,]50\s?€ each/)
      await expect(page.getByTestId('total-price')).toHaveText(/€/)
      // live for everyone in the space (merge SPACE-1)
      await expect(bob.page.getByLabel('Currency')).toHaveValue('EUR')
      await expect(bob.page.getByTestId('total-price')).toHaveText(/€/)

      // kept in the space
      await page.reload()
      await expect(page.getByLabel('Currency')).toHaveValue('EUR')
      await expect(page.getByTestId('total-price')).toHaveText(/€/)
      await bob.page.getByLabel('Currency').selectOption('GBP')
      await expect(page.getByTestId('total-price')).toHaveText(/£/)
      // and undoable like any change: Bob's undo gives back the euro
      await bob.page
        .getByRole('toolbar', { name: 'Space actions' })
        .getByRole('button', { name: 'Undo', exact: true })
        .click()
      await expect(bob.page.getByLabel('Currency')).toHaveValue('EUR')
      await expect(page.getByTestId('total-price')).toHaveText(/€/)
      await expectNoSideways(page)
      await expectSaved(page)
      await expectSaved(bob.page)
    })
  })
}
