import {
  addItem,
  cartItem,
  createSpace,
  expect,
  expectSaved,
  screenshot,
  shareLinks,
  test,
} from '../fixtures/test.js'

test('share: live cart and a note written by two devices; a read-only link cannot edit', async ({
  devices,
}, testInfo) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Shared flat')
  const links = await shareLinks(alice.page)
  expect(links.write).toContain('#t=')
  expect(links.read).toContain('#t=')
  expect(links.read).not.toEqual(links.write)

  // a second device joins with the edit link
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expect(bob.page.getByTestId('space-name')).toHaveText('Shared flat')
  await expectSaved(bob.page)
  // the token is not left in the address bar
  expect(bob.page.url()).not.toContain('#t=')

  // items appear live on the other device, both ways
  await addItem(alice.page, 'Milk')
  await expect(cartItem(bob.page, 'Milk')).toBeVisible()
  await addItem(bob.page, 'Apples')
  await expect(cartItem(alice.page, 'Apples')).toBeVisible()
  await bob.page.getByRole('button', { name: 'Increase Milk' }).click()
  await expect(cartItem(alice.page, 'Milk').getByTestId('item-quantity')).toHaveText('2')

  // a note edited by both
  await alice.page.getByRole('button', { name: 'New note' }).click()
  const title = alice.page.getByLabel('Note title')
  await expect(title).toBeFocused()
  await title.fill('Dinner plan')
  await title.press('Enter')
  const aliceBody = alice.page.locator('.cm-content')
  await expect(aliceBody).toBeFocused()
  await alice.page.keyboard.type('Alice: pasta on Friday')
  await expect(bob.page.getByLabel('Note title')).toHaveValue('Dinner plan')
  const bobBody = bob.page.locator('.cm-content')
  await expect(bobBody).toContainText('Alice: pasta on Friday')

  await bobBody.click()
  await bob.page.keyboard.press('Control+End')
  await bob.page.keyboard.press('Enter')
  await bob.page.keyboard.type('Bob: I bring dessert')
  // both texts on both devices, on their own lines (a line may also hold the other's caret and name)
  for (const body of [aliceBody, bobBody]) {
    await expect(body.locator('.cm-line')).toHaveCount(2)
    await expect(body.locator('.cm-line').nth(0)).toContainText('Alice: pasta on Friday')
    await expect(body.locator('.cm-line').nth(1)).toContainText('Bob: I bring dessert')
  }
  // each sees the other's cursor
  await expect(alice.page.locator('.cm-ySelectionCaret')).toHaveCount(1)
  await expectSaved(alice.page)
  await expectSaved(bob.page)
  await screenshot(alice.page.getByTestId('notes'), 'note-two-people.png', (n, o) => testInfo.attach(n, o))

  // a third device with the read-only link sees everything and can change nothing
  const carol = await devices.open('Carol')
  await carol.page.goto(links.read)
  await expect(carol.page.getByTestId('space-name')).toHaveText('Shared flat')
  await expect(carol.page.getByTestId('banner-read-only')).toBeVisible()
  await expect(cartItem(carol.page, 'Milk').getByTestId('item-quantity')).toHaveText('2')
  await expect(cartItem(carol.page, 'Apples')).toBeVisible()
  await expect(carol.page.getByTestId('note-body')).toContainText('Alice: pasta on Friday')
  await expect(carol.page.getByTestId('note-body')).toContainText('Bob: I bring dessert')

  await expect(carol.page.getByLabel('Add item')).toBeDisabled()
  for (const name of ['Increase Milk', 'Decrease Milk', 'More actions for Milk', 'New note']) {
    await expect(carol.page.getByRole('button', { name, exact: true })).toBeDisabled()
  }
  await expect(carol.page.getByRole('checkbox', { name: 'Bought Milk' })).toBeDisabled()
  await expect(carol.page.getByTestId('note-body')).toHaveAttribute('contenteditable', 'false')
  await expect(carol.page.getByLabel('Note title')).toHaveAttribute('readonly', '')

  // changes made elsewhere still reach the read-only device live
  await addItem(alice.page, 'Bread')
  await expect(cartItem(carol.page, 'Bread')).toBeVisible()
  await expectSaved(carol.page)
})
