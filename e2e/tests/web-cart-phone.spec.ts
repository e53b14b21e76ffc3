import type { Locator, Page } from '@playwright/test'
import { axeViolations } from '../fixtures/a11y.js'
import {
  addItem,
  cartItem,
  cartNames,
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

/**
 * The cart on a phone and on a desktop: one line per item with its secondary actions in a ⋯ menu,
 * drag to reorder by touch (pointer events), the sticky add box, category headings, suggestions
 * while typing, renaming in place, an editor that outlives a remote removal, and where the focus goes.
 */
/** The category headings of the list to buy, top to bottom, with their lines. */
const groupsOf = (page: Page): Promise<string[]> =>
  page.getByTestId('cart-group').evaluateAll((groups) =>
    groups.map(
      (g) =>
        `${g.querySelector('h3')?.textContent ?? ''}: ${Array.from(
          g.querySelectorAll('[data-testid="cart-item"]'),
        )
          .map((r) => r.getAttribute('data-name'))
          .join(' ')}`,
    ),
  )

const focusedName = (page: Page): Promise<string | null> =>
  page.evaluate(() => {
    const el = document.activeElement
    if (!el || el === document.body) return null
    return (
      el.closest('li[data-testid="cart-item"]')?.getAttribute('data-name') ?? el.getAttribute('aria-label')
    )
  })

/** The serious and critical axe violations in the cart now. */
const audit = (page: Page): Promise<string[]> => axeViolations(page, { include: '[data-testid="cart"]' })

/** Drags a row by its handle with the pointer (down, moves, up) to the top edge of another row. */
async function dragOnto(
  page: Page,
  handle: Locator,
  target: Locator,
  where: 'above' | 'below',
): Promise<void> {
  await target.scrollIntoViewIfNeeded()
  await handle.scrollIntoViewIfNeeded()
  const from = await handle.boundingBox()
  const to = await target.boundingBox()
  if (!from || !to) throw new Error('rows not on screen')
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
  await page.mouse.down()
  const y = where === 'above' ? to.y + 4 : to.y + to.height - 4
  await page.mouse.move(from.x + from.width / 2, (from.y + y) / 2, { steps: 4 })
  await page.mouse.move(from.x + from.width / 2, y, { steps: 4 })
  await page.mouse.up()
}

for (const { name: label, viewport } of SIZES) {
  test.describe(`cart rows (${label})`, () => {
    test(`${label}: [WEB-CART-1] one line per item; the other actions are in a ⋯ menu button`, async ({
      devices,
    }, testInfo) => {
      const { page } = await devices.open('Alice')
      await page.setViewportSize(viewport)
      await createSpace(page, 'Flat 3B')
      await addItem(page, 'Milk')
      await addItem(page, 'Extra mature farmhouse cheddar cheese from the market stall')
      await addItem(page, 'Eggs')
      await editItem(page, 'Milk', {
        Note: 'oat, the barista one, not the light one',
        Unit: 'l',
        Price: '1.29',
      })
      await page.getByRole('checkbox', { name: 'Bought Eggs' }).check()
      await expect.poll(() => namesIn(page, 'cart-bought')).toEqual(['Eggs'])

      // every row is one line, and nothing is wider than the window
      const heights = await page
        .getByTestId('cart-item')
        .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height))
      expect(heights).toHaveLength(3)
      for (const h of heights) expect(h).toBeLessThan(60)
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      )
      // a row shows its check box, name, −, quantity, + and ⋯: nothing else
      const milk = cartItem(page, 'Milk')
      await expect(milk.getByRole('button')).toHaveCount(4)
      await expect(milk.getByRole('button', { name: 'Remove Milk' })).toHaveCount(0)
      await expect(milk).toContainText(/1[.,]29 each/)

      // the menu button: ARIA menu, arrows, Escape back to the button
      const more = page.getByRole('button', { name: 'More actions for Milk' })
      await expect(more).toHaveAttribute('aria-haspopup', 'menu')
      await expect(more).toHaveAttribute('aria-expanded', 'false')
      await more.focus()
      await page.keyboard.press('Enter')
      const menu = page.getByRole('menu', { name: 'Actions for Milk' })
      await expect(menu).toBeVisible()
      await expect(more).toHaveAttribute('aria-expanded', 'true')
      await expect(menu.getByRole('menuitem')).toHaveText([
        /^Rename/,
        'Edit details',
        /^Move up/,
        /^Move down/,
        'Remove',
      ])
      await expect(menu.getByRole('menuitem', { name: 'Rename' })).toBeFocused()
      await page.keyboard.press('ArrowDown')
      await expect(menu.getByRole('menuitem', { name: 'Edit details' })).toBeFocused()
      // Move up is not possible for the first line: skipped
      await page.keyboard.press('ArrowDown')
      await expect(menu.getByRole('menuitem', { name: 'Move down' })).toBeFocused()
      await expect(menu.getByRole('menuitem', { name: 'Move up' })).toHaveAttribute('aria-disabled', 'true')
      await page.keyboard.press('ArrowUp')
      await page.keyboard.press('ArrowUp')
      await page.keyboard.press('ArrowUp')
      await expect(menu.getByRole('menuitem', { name: 'Remove' })).toBeFocused()
      await page.keyboard.press('Escape')
      await expect(menu).toHaveCount(0)
      await expect(more).toBeFocused()
      await expect(more).toHaveAttribute('aria-expanded', 'false')

      // ↑ on the button opens it on the last entry; a click outside closes it
      await page.keyboard.press('ArrowUp')
      await expect(menu.getByRole('menuitem', { name: 'Remove' })).toBeFocused()
      await page.getByRole('heading', { name: 'Cart', exact: true }).click()
      await expect(menu).toHaveCount(0)

      // the menu's moves work, and a picked move keeps the focus on the row's ⋯
      await more.click()
      await menu.getByRole('menuitem', { name: 'Move down' }).click()
      await expect
        .poll(() => namesIn(page, 'cart-to-buy'))
        .toEqual(['Extra mature farmhouse cheddar cheese from the market stall', 'Milk'])
      await expect(more).toBeFocused()

      await page.getByRole('button', { name: 'More actions for Eggs' }).click()
      await expect(page.getByRole('menu', { name: 'Actions for Eggs' })).toBeVisible()
      expect(await audit(page)).toEqual([])
      await page.mouse.move(0, 0)
      await screenshot(page.getByTestId('cart'), `cart-rows-${label}.png`, (n, o) => testInfo.attach(n, o))
      await page.emulateMedia({ colorScheme: 'dark' })
      expect(await audit(page)).toEqual([])
      await screenshot(page.getByTestId('cart'), `cart-rows-${label}-dark.png`, (n, o) =>
        testInfo.attach(n, o),
      )
      await page.keyboard.press('Escape')
      await expect(page.getByRole('button', { name: 'More actions for Eggs' })).toBeFocused()
      await expectSaved(page)
    })

    test(`${label}: [WEB-CART-2] a row is dragged by its handle with the pointer; the order syncs`, async ({
      devices,
    }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      await createSpace(alice.page, 'Flat 3B')
      for (const name of ['Milk', 'Bread', 'Eggs', 'Tea']) await addItem(alice.page, name)
      const { write } = await shareLinks(alice.page)
      const bob = await devices.open('Bob')
      await bob.page.setViewportSize(viewport)
      await bob.page.goto(write)
      await expect.poll(() => cartNames(bob.page)).toEqual(['Milk', 'Bread', 'Eggs', 'Tea'])

      const handle = (name: string) => cartItem(alice.page, name).getByTestId('drag-handle')
      await expect(handle('Eggs')).toHaveCSS('touch-action', 'none')
      await dragOnto(alice.page, handle('Eggs'), cartItem(alice.page, 'Milk'), 'above')
      await expect.poll(() => cartNames(alice.page)).toEqual(['Eggs', 'Milk', 'Bread', 'Tea'])
      await dragOnto(alice.page, handle('Milk'), cartItem(alice.page, 'Tea'), 'below')
      await expect.poll(() => cartNames(alice.page)).toEqual(['Eggs', 'Bread', 'Tea', 'Milk'])
      await expect.poll(() => cartNames(bob.page)).toEqual(['Eggs', 'Bread', 'Tea', 'Milk'])
      // a drag that ends where it began changes nothing
      await dragOnto(alice.page, handle('Bread'), cartItem(alice.page, 'Bread'), 'below')
      await expect.poll(() => cartNames(alice.page)).toEqual(['Eggs', 'Bread', 'Tea', 'Milk'])

      // the keyboard still moves: Alt+↑ on a focused row
      await cartItem(alice.page, 'Milk').focus()
      await alice.page.keyboard.press('Alt+ArrowUp')
      await expect.poll(() => cartNames(bob.page)).toEqual(['Eggs', 'Bread', 'Milk', 'Tea'])
      await expect(cartItem(alice.page, 'Milk')).toBeFocused()
      await expectSaved(alice.page)
      await expectSaved(bob.page)
    })

    test(`${label}: [WEB-CART-3] the add box stays in reach at the bottom of a long list`, async ({
      devices,
    }) => {
      const { page } = await devices.open('Alice')
      await page.setViewportSize(viewport)
      await createSpace(page, 'Big shop')
      for (let i = 1; i <= 60; i++) await addItem(page, `Item ${i}`)
      await expect(page.getByTestId('cart-item')).toHaveCount(60)
      // the end of the list at the bottom of the window
      await cartItem(page, 'Item 60').evaluate((row) => row.scrollIntoView({ block: 'end' }))
      await expect(cartItem(page, 'Item 60')).toBeInViewport()
      await expect(cartItem(page, 'Item 1')).not.toBeInViewport()
      const input = page.getByLabel('Add item')
      await expect(input).toBeInViewport()
      // on top of the rows, not under the app's header: what is at its middle is the field itself
      const box = await input.boundingBox()
      if (!box) throw new Error('no add box')
      const hit = await page.evaluate(
        ([x, y]) => document.elementFromPoint(x!, y!)?.getAttribute('aria-label') ?? null,
        [box.x + box.width / 2, box.y + box.height / 2],
      )
      expect(hit).toBe('Add item')
      await input.fill('Item 61')
      await input.press('Enter')
      await expect(cartItem(page, 'Item 61')).toHaveCount(1)
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      )
      await expectSaved(page)
    })

    test(`${label}: [WEB-CART-4] lines are grouped by category; a name added again brings its fields back`, async ({
      devices,
    }) => {
      const { page } = await devices.open('Alice')
      await page.setViewportSize(viewport)
      await createSpace(page, 'Flat 3B')
      for (const name of ['Soap', 'Milk', 'Apples', 'Cheese', 'Pears']) await addItem(page, name)
      // no category yet: one plain list, no headings
      await expect(page.getByTestId('cart-group')).toHaveCount(0)
      await editItem(page, 'Milk', { Category: 'Dairy', Unit: 'l', Price: '1.10' })
      await editItem(page, 'Apples', { Category: 'Produce' })
      // the Category field offers the space's categories
      await rowAction(page, 'Cheese', 'Edit details')
      const editor = page.getByRole('form', { name: 'Details of Cheese' })
      const options = await editor
        .getByLabel('Category', { exact: true })
        .evaluate((input: HTMLInputElement) => Array.from(input.list?.options ?? []).map((o) => o.value))
      expect(options).toEqual(['Dairy', 'Produce'])
      await editor.getByLabel('Category', { exact: true }).fill('Dairy')
      await editor.getByRole('button', { name: 'Save' }).click()
      await editItem(page, 'Pears', { Category: 'produce' })

      // groups in the order of their first line, "Other" last, the list's order within
      await expect
        .poll(() => groupsOf(page))
        .toEqual(['Dairy: Milk Cheese', 'Produce: Apples Pears', 'Other: Soap'])
      await expect(page.getByRole('heading', { name: 'Dairy', level: 3 })).toBeVisible()

      // Alt+↓ moves within the group, and the groups keep their order
      await cartItem(page, 'Milk').focus()
      await page.keyboard.press('Alt+ArrowDown')
      await expect
        .poll(() => groupsOf(page))
        .toEqual(['Dairy: Cheese Milk', 'Produce: Apples Pears', 'Other: Soap'])
      await expect(cartItem(page, 'Milk')).toBeFocused()
      // the group's last line cannot go further down
      await page.getByRole('button', { name: 'More actions for Milk' }).click()
      await expect(page.getByRole('menuitem', { name: 'Move down' })).toHaveAttribute('aria-disabled', 'true')
      await expect(page.getByRole('menuitem', { name: 'Move up' })).not.toHaveAttribute(
        'aria-disabled',
        'true',
      )
      await page.keyboard.press('Escape')

      // the bought section is not grouped
      await page.getByRole('checkbox', { name: 'Bought Apples' }).check()
      await expect.poll(() => namesIn(page, 'cart-bought')).toEqual(['Apples'])
      await expect(page.getByTestId('cart-bought').getByRole('heading')).toHaveCount(0)

      // removed and added again: unit, price and category come back
      await rowAction(page, 'Milk', 'Remove')
      await expect(cartItem(page, 'Milk')).toHaveCount(0)
      await addItem(page, 'milk')
      await expect(cartItem(page, 'Milk').getByTestId('item-quantity')).toHaveText('1 l')
      await expect(cartItem(page, 'Milk')).toContainText(/1[.,]10 each/)
      await expect.poll(() => groupsOf(page)).toEqual(['Dairy: Cheese Milk', 'Produce: Pears', 'Other: Soap'])
      await expectSaved(page)
    })

    test(`${label}: [WEB-CART-5] typing suggests items the space had, with what they bring`, async ({
      devices,
    }) => {
      const { page } = await devices.open('Alice')
      await page.setViewportSize(viewport)
      await createSpace(page, 'Flat 3B')
      for (const name of ['Crème fraîche', 'Milk', 'Oat milk', 'Mints']) await addItem(page, name)
      await editItem(page, 'Milk', { Unit: 'l', Price: '1.10', Category: 'Dairy' })
      await rowAction(page, 'Milk', 'Remove')
      await rowAction(page, 'Crème fraîche', 'Remove')
      await page.getByRole('checkbox', { name: 'Bought Oat milk' }).check()

      const input = page.getByRole('combobox', { name: 'Add item' })
      const listbox = page.getByRole('listbox', { name: 'Suggestions' })
      await input.fill('MI')
      await expect(input).toHaveAttribute('aria-expanded', 'true')
      // removed and bought ones, newest first; Mints is on the list to buy: not suggested
      await expect(listbox.getByRole('option')).toHaveText([/^Oat milk/, /^Milk\s+l · 1[.,]10 · Dairy$/])
      await page.keyboard.press('ArrowDown')
      await page.keyboard.press('ArrowDown')
      const milk = listbox.getByRole('option', { name: /^Milk/ })
      await expect(milk).toHaveAttribute('aria-selected', 'true')
      await expect(input).toHaveAttribute('aria-activedescendant', (await milk.getAttribute('id')) ?? '')
      expect(await audit(page)).toEqual([])
      await page.keyboard.press('Enter')
      await expect(input).toHaveValue('')
      await expect(cartItem(page, 'Milk').getByTestId('item-quantity')).toHaveText('1 l')
      await expect(input).toBeFocused()

      // accents and case do not matter; Escape closes; Enter with none active adds what was typed
      await input.fill('creme')
      await expect(listbox.getByRole('option')).toHaveText(['Crème fraîche'])
      await page.keyboard.press('Escape')
      await expect(input).toHaveAttribute('aria-expanded', 'false')
      await expect(listbox).toBeHidden()
      await page.keyboard.press('Enter')
      await expect(cartItem(page, 'creme')).toHaveCount(1)

      // a click picks one
      await input.fill('fra')
      await listbox.getByRole('option', { name: /Crème fraîche/ }).click()
      await expect(cartItem(page, 'Crème fraîche')).toHaveCount(1)
      // Tab leaves and closes the list
      await input.fill('oat')
      await expect(listbox).toBeVisible()
      await page.keyboard.press('Tab')
      await expect(listbox).toBeHidden()
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      )
      await expectSaved(page)
    })

    test(`${label}: [WEB-CART-6] a name is edited in place: F2, a double click or Rename`, async ({
      devices,
    }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      const { page } = alice
      await createSpace(page, 'Flat 3B')
      for (const name of ['Bread', 'Mlik', 'Eggs']) await addItem(page, name)
      await editItem(page, 'Mlik', { Note: 'oat' })
      const { write } = await shareLinks(page)
      const bob = await devices.open('Bob')
      await bob.page.setViewportSize(viewport)
      await bob.page.goto(write)
      await expect(cartItem(bob.page, 'Mlik')).toBeVisible()

      // F2 on the focused row; Enter saves; the focus comes back to the row
      await cartItem(page, 'Mlik').focus()
      await page.keyboard.press('F2')
      const field = page.getByRole('textbox', { name: 'Name of Mlik' })
      await expect(field).toBeFocused()
      await field.fill('Milk')
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('cart-notice')).toHaveText(/Renamed Mlik to Milk\./)
      await expect(cartItem(page, 'Milk')).toBeFocused()
      await expect(cartItem(bob.page, 'Milk')).toContainText('oat')
      await expect.poll(() => cartNames(bob.page)).toEqual(['Bread', 'Milk', 'Eggs'])

      // a double click; Escape goes back without a change
      await cartItem(page, 'Eggs').locator('.item-name').dblclick()
      await page.getByRole('textbox', { name: 'Name of Eggs' }).fill('Spam')
      await page.keyboard.press('Escape')
      await expect(cartItem(page, 'Eggs')).toBeFocused()
      await expect(cartItem(page, 'Spam')).toHaveCount(0)

      // "Rename" in the menu; another item's name merges into it
      await rowAction(page, 'Eggs', 'Rename')
      await page.getByRole('textbox', { name: 'Name of Eggs' }).fill('bread')
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('cart-notice')).toHaveText(/Eggs merged into Bread\./)
      await expect(cartItem(bob.page, 'Bread').getByTestId('item-quantity')).toHaveText('2')
      await expect(cartItem(bob.page, 'Eggs')).toHaveCount(0)
      await expect(cartItem(page, 'Bread')).toBeFocused()
      await expectSaved(page)
      await expectSaved(bob.page)
    })

    test(`${label}: [WEB-CART-7] an editor stays open when someone else removes its line: keep it or discard`, async ({
      devices,
    }) => {
      const alice = await devices.open('Alice')
      await alice.page.setViewportSize(viewport)
      const { page } = alice
      await createSpace(page, 'Flat 3B')
      for (const name of ['Milk', 'Bread']) await addItem(page, name)
      await page.getByRole('button', { name: 'Increase Milk' }).click()
      const { write } = await shareLinks(page)
      const bob = await devices.open('Bob')
      await bob.page.setViewportSize(viewport)
      await bob.page.goto(write)
      await expect(cartItem(bob.page, 'Milk')).toBeVisible()

      await rowAction(page, 'Milk', 'Edit details')
      const editor = page.getByRole('form', { name: 'Details of Milk' })
      await editor.getByLabel('Note', { exact: true }).fill('the oat one')
      await editor.getByLabel('Price', { exact: true }).fill('1.40')
      await rowAction(bob.page, 'Milk', 'Remove')
      await expect(cartItem(page, 'Milk')).toHaveCount(0)
      const orphan = page.getByTestId('cart-orphan')
      await expect(orphan).toContainText('Someone removed Milk.')
      // what was typed is still there
      await expect(editor.getByLabel('Note', { exact: true })).toHaveValue('the oat one')
      await orphan.getByRole('button', { name: 'Keep it' }).click()
      await expect(orphan).toHaveCount(0)
      for (const p of [page, bob.page]) {
        await expect(cartItem(p, 'Milk')).toContainText('the oat one')
        await expect(cartItem(p, 'Milk')).toContainText(/1[.,]40 each/)
        await expect(cartItem(p, 'Milk').getByTestId('item-quantity')).toHaveText('2')
      }

      // the inline name too; Discard closes and the line stays removed
      await cartItem(page, 'Bread').focus()
      await page.keyboard.press('F2')
      await page.getByRole('textbox', { name: 'Name of Bread' }).fill('Brown bread')
      await rowAction(bob.page, 'Bread', 'Remove')
      await expect(orphan).toContainText('Someone removed Bread.')
      await expect(orphan.getByLabel('Name', { exact: true })).toHaveValue('Brown bread')
      await orphan.getByRole('button', { name: 'Discard' }).click()
      await expect(orphan).toHaveCount(0)
      await expect(cartItem(page, 'Bread')).toHaveCount(0)
      await expect(cartItem(page, 'Brown bread')).toHaveCount(0)
      await expectSaved(page)
      await expectSaved(bob.page)
    })

    test(`${label}: [WEB-CART-8] after a remove the focus goes to the next row, the one before, or the add box`, async ({
      devices,
    }) => {
      const { page } = await devices.open('Alice')
      await page.setViewportSize(viewport)
      await createSpace(page, 'Flat 3B')
      for (const name of ['Milk', 'Bread', 'Eggs']) await addItem(page, name)

      // keyboard only: ⋯, then Remove from the menu
      const removeByKeyboard = async (name: string): Promise<void> => {
        await page.getByRole('button', { name: `More actions for ${name}` }).focus()
        await page.keyboard.press('ArrowUp') // opens on the last entry, Remove
        await expect(page.getByRole('menuitem', { name: 'Remove' })).toBeFocused()
        await page.keyboard.press('Enter')
        await expect(cartItem(page, name)).toHaveCount(0)
      }
      await removeByKeyboard('Milk')
      await expect.poll(() => focusedName(page)).toBe('Bread')
      await removeByKeyboard('Eggs')
      await expect.poll(() => focusedName(page)).toBe('Bread')
      await removeByKeyboard('Bread')
      await expect(page.getByLabel('Add item')).toBeFocused()
      await expect(page.getByTestId('cart-empty')).toBeVisible()
      await expectSaved(page)
    })
  })
}
