/**
 * Safe editing of notes (issue 15, item 3): Tab goes from a note's title to its body, never to
 * "Trash"; moving a note to the trash says so with an Undo that has the focus, so one keystroke more
 * puts it back — nothing is thrown away by one keystroke. At desktop and phone size.
 */
import { createSpace, expect, expectSaved, SIZES, test } from '../fixtures/test.js'

for (const size of SIZES)
  test(`notes (${size.name}): Tab goes title → body; trashing a note says so and Undo puts it back`, async ({
    devices,
  }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await a.setViewportSize(size.viewport)
    await createSpace(a, 'Notes flat')
    await a.getByRole('button', { name: 'New note' }).click()
    const title = a.getByLabel('Note title')
    await expect(title).toBeFocused()
    await title.fill('Packing')
    // Tab from the title lands in the body, and typing goes there
    await a.keyboard.press('Tab')
    await expect(a.getByRole('textbox', { name: 'Text of Packing' })).toBeFocused()
    await a.keyboard.type('tent')
    await expect(a.locator('.cm-content')).toHaveText('tent')
    await expectSaved(a)

    // trash: not silent — a notice with Undo, focused; Enter puts the note back, text and all
    await a.getByRole('button', { name: 'Move Packing to trash' }).click()
    const notice = a.getByTestId('notes-notice')
    await expect(notice).toContainText('Moved “Packing” to the trash.')
    await expect(notice.getByRole('button', { name: 'Undo' })).toBeFocused()
    await expect(a.getByTestId('notes-empty')).toBeVisible()
    await a.keyboard.press('Enter')
    await expect(a.getByTestId('note-item')).toHaveCount(1)
    await expect(a.locator('.cm-content')).toHaveText('tent')
    await expect(notice).toHaveText('')
    await expectSaved(a)
  })
