/**
 * Scenario 4: the server is SIGKILLed mid-session and restarted. Whatever a device showed as "all
 * changes saved to the server" is on the server after the restart (checked from a fresh device while
 * the devices that made the changes cannot resend them); devices reconnect by themselves; the status
 * line goes saved → offline → offline with a pending change → (syncing) → saved, in that order.
 */
import type { SpaceSnapshot } from '@converge/merge'
import type { Page } from '@playwright/test'
import {
  assertConverged,
  expectConverged,
  itemsByKey,
  snapshotOf,
  withoutOwnMemberRecord,
} from '../fixtures/converge.js'
import {
  SAVED,
  addItem,
  cartItem,
  createSpace,
  dropServerDownNoise,
  expect,
  expectSaved,
  noteText,
  recordStatus,
  shareLinks,
  statusLog,
  syncStatus,
  test,
  typeInNote,
  ENGINES,
} from '../fixtures/test.js'

interface Hooks {
  __converge: { snapshot(): unknown }
}

/**
 * The page's state at a moment it shows "saved": the status line and the snapshot are read in one
 * task, so the snapshot is exactly what the user was told the server has.
 */
async function shownAsSaved(page: Page): Promise<SpaceSnapshot> {
  let state: SpaceSnapshot | null = null
  await expect
    .poll(async () => {
      state = (await page.evaluate(() => {
        const status = document.querySelector('[data-testid="sync-status"]')
        return status?.getAttribute('data-synced') === 'true'
          ? (window as unknown as Hooks).__converge.snapshot()
          : null
      })) as SpaceSnapshot | null
      return state !== null
    })
    .toBe(true)
  return state as unknown as SpaceSnapshot
}

const SAVED_LINE = `saved: ${SAVED}`

for (const engine of ENGINES)
  test(`server SIGKILL on ${engine}: what was shown as saved survives, devices reconnect, the status says so in order`, async ({
    devices,
    server,
  }, testInfo) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    await createSpace(a, 'Crash flat', engine)
    const links = await shareLinks(a)
    const bob = await devices.open('Bob')
    const b = bob.page
    await b.goto(links.write)
    await expectSaved(b)

    // both edit; the kill comes right after both show "saved"
    await addItem(a, 'Milk')
    await addItem(b, 'Eggs')
    await a.getByRole('button', { name: 'New note' }).click()
    await a.getByLabel('Note title').fill('Before the crash')
    await a.getByLabel('Note title').press('Enter')
    await a.keyboard.type('Alice wrote this.')
    await expect.poll(() => noteText(b)).toBe('Alice wrote this.')
    await typeInNote(b, 'end', ' Bob added this.')
    await addItem(a, 'Olive oil')
    await expect(cartItem(b, 'Olive oil')).toBeVisible()
    const savedByAlice = await shownAsSaved(a)
    const savedByBob = await shownAsSaved(b)
    expect(itemsByKey(savedByAlice)['olive oil']?.quantity).toBe(1)
    expect(savedByBob.notes[0]?.body).toBe('Alice wrote this. Bob added this.')

    await recordStatus(a)
    let problemsFrom = devices.problems.length
    await server.kill('SIGKILL')
    // the browsers are online: it is the server that cannot be reached (sync-client SYNC-13)
    await expect(syncStatus(a)).toHaveText("can't reach the server — trying again")
    await expect(syncStatus(b)).toHaveAttribute('data-status', 'unreachable')
    // the devices lose their network too: after the restart only the server's disk can answer
    await alice.goOffline()
    await bob.goOffline()
    await server.start()
    dropServerDownNoise(devices.problems, problemsFrom)

    const carol = await devices.open('Carol')
    const c = carol.page
    await c.goto(links.write)
    await expectSaved(c)
    await expect(cartItem(c, 'Olive oil')).toBeVisible()
    // exactly the state each device had been told was saved, nothing missing
    assertConverged([
      { device: 'Alice (shown as saved before the kill)', snapshot: savedByAlice },
      { device: 'Bob (shown as saved before the kill)', snapshot: savedByBob },
      // (all but the member record Carol wrote herself on opening the space)
      {
        device: 'Carol (fresh device after the restart)',
        snapshot: await withoutOwnMemberRecord(c, await snapshotOf(c)),
      },
    ])

    await alice.goOnline()
    await bob.goOnline()
    await expectSaved(a)
    await expectSaved(b)

    // a second kill with every device online: they reconnect on their own once the server is back
    await recordStatus(c)
    problemsFrom = devices.problems.length
    await server.kill('SIGKILL')
    for (const p of [a, b, c]) await expect(syncStatus(p)).toHaveText("can't reach the server — trying again")
    // Alice keeps working while the server is down
    await addItem(a, 'Bread')
    await expect(syncStatus(a)).toHaveText("can't reach the server — changes saved here")
    await server.start()
    for (const p of [a, b, c]) await expectSaved(p, { timeout: 30_000 })
    dropServerDownNoise(devices.problems, problemsFrom)
    await expect(cartItem(c, 'Bread')).toBeVisible()
    const final = await expectConverged([alice, bob, carol])
    expect(Object.keys(itemsByKey(final)).sort()).toEqual(['bread', 'eggs', 'milk', 'olive oil'])
    expect(final.notes[0]?.body).toBe('Alice wrote this. Bob added this.')

    // Alice's status line over both crashes, in order. "syncing" is left out: it may be too brief to
    // render, and a device also shows it between receiving another's change and the server's ack of it
    const collapse = (log: string[]) =>
      log.filter((e) => e !== 'syncing: syncing…').filter((e, i, all) => i === 0 || all[i - 1] !== e)
    const aliceLog = await statusLog(a)
    expect(collapse(aliceLog)).toEqual([
      SAVED_LINE,
      "unreachable: can't reach the server — trying again", // first kill
      'offline: offline — no unsynced changes', // her network goes too
      SAVED_LINE, // online again after the restart
      "unreachable: can't reach the server — trying again", // second kill
      "unreachable: can't reach the server — changes saved here", // Bread, stored on the device only
      SAVED_LINE, // reconnected by itself, Bread committed
    ])
    const carolLog = await statusLog(c)
    await testInfo.attach('status-lines', {
      body: `Alice:\n${aliceLog.join('\n')}\n\nCarol:\n${carolLog.join('\n')}`,
      contentType: 'text/plain',
    })
    expect(collapse(carolLog)).toEqual([
      SAVED_LINE,
      "unreachable: can't reach the server — trying again",
      SAVED_LINE,
    ])
  })
