import type { Page } from '@playwright/test'
import {
  addItem,
  createSpace,
  expect,
  expectSaved,
  PHONE,
  shareLinks,
  SIZES,
  test,
} from '../fixtures/test.js'

/** The avatar colours presence shows on a page, in order (you first). */
const avatarColors = (page: Page): Promise<string[]> =>
  page
    .getByTestId('presence-person')
    .locator('.avatar')
    .evaluateAll((els) => els.map((el) => getComputedStyle(el).backgroundColor))

for (const { name: label, viewport } of SIZES) {
  test(`[WEB-PEOPLE-1] people (${label}): two people called Alice in one colour show as two, in two colours; one person's tabs count once`, async ({
    devices,
  }) => {
    // two different people who both chose "Alice" and the same colour on their own devices
    const first = await devices.open('Alice', '#4f46e5')
    await first.page.setViewportSize(viewport)
    await createSpace(first.page, 'Two Alices')
    const links = await shareLinks(first.page)
    const second = await devices.open('Alice', '#4f46e5')
    await second.page.setViewportSize(viewport)
    await second.page.goto(links.write)
    await expectSaved(second.page)
    // and the first Alice has the space open in a second tab as well
    const tab2 = await first.context.newPage()
    await tab2.goto(first.page.url())
    await expectSaved(tab2)

    for (const page of [first.page, second.page, tab2]) {
      await expect(page.getByTestId('presence-person')).toHaveText([/Alice \(you\)$/, /Alice$/])
      await expect(page.getByRole('list', { name: 'Here now: 2 people' })).toBeVisible()
    }
    // a colour is never one already taken: the one who came second moved to another
    await expect.poll(async () => new Set(await avatarColors(second.page)).size).toBe(2)
    await expect.poll(async () => new Set(await avatarColors(first.page)).size).toBe(2)
    const [mine, theirs] = await avatarColors(first.page)
    expect(await avatarColors(second.page)).toEqual([theirs, mine])

    // the share dialog lists the people of the space, recorded in it
    await second.page.getByRole('button', { name: 'Share', exact: true }).click()
    const members = second.page.getByTestId('member')
    await expect(members).toHaveText([/Alice\s*you$/, /Alice\s*here now$/])
    await second.page.keyboard.press('Escape')
    await expect(second.page.getByTestId('share-dialog')).toHaveCount(0)

    // they stay members when they leave: "seen …", not "here now"
    await second.page.close()
    await expect(first.page.getByTestId('presence-person')).toHaveText([/Alice \(you\)$/])
    await first.page.getByRole('button', { name: 'Share', exact: true }).click()
    await expect(first.page.getByTestId('member')).toHaveText([
      /Alice\s*you$/,
      /Alice\s*seen (just now|.*ago)$/,
    ])
  })
}

test('[WEB-PEOPLE-2] people: "People" lists who is in the space and what they did lately, from the space itself', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  await createSpace(alice.page, 'Activity flat')
  const links = await shareLinks(alice.page)
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expectSaved(bob.page)
  await addItem(bob.page, 'Jam')
  await expectSaved(bob.page)

  await alice.page.getByRole('button', { name: 'People', exact: true }).click()
  const dialog = alice.page.getByTestId('people-dialog')
  await expect(dialog.getByTestId('member')).toHaveText([/Alice\s*you$/, /Bob\s*here now$/])
  await expect(dialog.getByTestId('activity-entry').first()).toHaveText(/^Bob added Jam · just now$/)
  // live: Bob adds more while the dialog is open
  await addItem(bob.page, 'Bread')
  await expect(dialog.getByTestId('activity-entry').first()).toHaveText(/^Bob added Bread · just now$/)
  await alice.page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  // focus goes back to the button that opened it
  await expect(alice.page.getByRole('button', { name: 'People', exact: true })).toBeFocused()
})

test('[WEB-PEOPLE-3] people: a profile link makes a phone the same person as the laptop — one avatar, one member', async ({
  devices,
}) => {
  const laptop = await devices.open('Alice', '#4f46e5')
  await createSpace(laptop.page, 'One Alice')
  const links = await shareLinks(laptop.page)
  await laptop.page.getByTestId('profile-button').click()
  const profileLink = await laptop.page.getByTestId('profile-link').inputValue()
  expect(profileLink).toMatch(/\/#me=[A-Za-z0-9_-]+$/)
  await laptop.page.getByRole('button', { name: 'Cancel' }).click()

  const phone = await devices.open('Alice', '#b91c1c')
  await phone.page.setViewportSize(PHONE)
  await phone.page.goto(profileLink)
  // the fragment leaves the address bar, and the phone is that person now
  await expect.poll(() => phone.page.evaluate(() => location.hash)).toBe('')
  await expect(phone.page.getByTestId('profile-dialog')).toHaveCount(0)
  const personId = (page: typeof phone.page) =>
    page.evaluate(() => (JSON.parse(localStorage.getItem('converge.profile') ?? '{}') as { id?: string }).id)
  expect(await personId(phone.page)).toBe(await personId(laptop.page))

  await phone.page.goto(links.write)
  await expectSaved(phone.page)
  for (const page of [laptop.page, phone.page]) {
    await expect(page.getByRole('list', { name: 'Here now: 1 person' })).toBeVisible()
    await expect(page.getByTestId('presence')).toContainText('Only you')
  }
  await phone.page.getByRole('button', { name: 'Share', exact: true }).click()
  await expect(phone.page.getByTestId('member')).toHaveText([/Alice\s*you$/])
  await phone.page.keyboard.press('Escape')
  await expectSaved(phone.page)
  await expectSaved(laptop.page)
})
