import { createSpace, expect, expectSaved, shareLinks, test, ENGINES } from '../fixtures/test.js'

for (const engine of ENGINES)
  test(`notes on ${engine}: create, rename, trash on one device while the other edits, restore with the edit kept`, async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    await createSpace(alice.page, 'Notes flat', engine)
    const links = await shareLinks(alice.page)
    const bob = await devices.open('Bob')
    await bob.page.goto(links.write)
    await expectSaved(bob.page)

    await alice.page.getByRole('button', { name: 'New note' }).click()
    await alice.page.getByLabel('Note title').fill('Packing')
    await alice.page.getByLabel('Note title').press('Enter')
    await alice.page.keyboard.type('tent')
    // the editor's accessible name follows the title
    await expect(alice.page.getByLabel('Text of Packing')).toBeVisible()

    const bobBody = bob.page.locator('.cm-content')
    await expect(bobBody).toContainText('tent')

    // Bob, offline, keeps writing in it while Alice trashes it: concurrent edit and delete
    await bob.goOffline()
    await bobBody.click()
    await bob.page.keyboard.press('Control+End')
    await bob.page.keyboard.type(', stove')
    await alice.page.getByRole('button', { name: 'Move Packing to trash' }).click()
    await expect(alice.page.getByTestId('notes-empty')).toBeVisible()
    await bob.goOnline()
    await expectSaved(bob.page)
    await alice.page.getByRole('button', { name: /Trash \(1\)/ }).click()
    await expect(alice.page.getByTestId('trash-item')).toHaveCount(1)
    await alice.page.getByRole('button', { name: 'Restore Packing' }).click()
    await alice.page.getByRole('button', { name: 'Back to notes' }).click()

    // restored with Bob's concurrent edit in it (DEL-2), on both devices
    await alice.page.getByTestId('note-item').first().click()
    await expect(alice.page.locator('.cm-content')).toContainText('tent, stove')
    await expect(bob.page.getByTestId('note-item')).toHaveCount(1)
    await expectSaved(alice.page)
    await expectSaved(bob.page)
  })
