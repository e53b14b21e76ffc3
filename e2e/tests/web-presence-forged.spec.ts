/**
 * Forged presence (server-core PRESENCE-1…5, sync-client PRES-3). While Alice and Bob have a note
 * open, a raw socket from Node with the space's read token — a link anyone it was shared with holds
 * — publishes awareness it encoded itself: Bob's client id with another name (impersonation), a
 * removal of Bob's id (hiding him), a colour that injects CSS, a malformed cursor. The server drops
 * each of them; the honest pages show neither the forged people nor a change to Bob, their page
 * style is intact, they keep syncing, and no console error or page error happens. The socket's own
 * presence, well formed, is allowed: people see who is looking.
 */
import { PROTOCOL_VERSION, encodeMessage } from '@converge/protocol'
import type { Page } from '@playwright/test'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createSpace, expect, expectSaved, noteText, shareLinks, test, typeInNote } from '../fixtures/test.js'

/** y-protocols' unsigned varint. */
const varUint = (n: number): number[] => {
  const out: number[] = []
  while (n > 0x7f) {
    out.push(0x80 | (n % 128))
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

/** An awareness message as any client could encode it: any client id, any clock, any JSON. */
const awareness = (...entries: { id: number; clock: number; state: unknown }[]): Uint8Array => {
  const bytes = [...varUint(entries.length)]
  for (const { id, clock, state } of entries) {
    const json = new TextEncoder().encode(JSON.stringify(state))
    bytes.push(...varUint(id), ...varUint(clock), ...varUint(json.length), ...json)
  }
  return encodeMessage({ type: 'awareness', update: Uint8Array.from(bytes) })
}

interface Hooks {
  __converge: {
    session(): {
      presence(): { clientId: number; name: string }[]
      space: { encodeStateAsUpdate(): Uint8Array }
    } | null
  }
}

/** The client ids of the people named `name` this page's session shows. */
const idsOf = (page: Page, name: string): Promise<number[]> =>
  page.evaluate(
    (who) =>
      ((window as unknown as Hooks).__converge.session()?.presence() ?? [])
        .filter((p) => p.name === who)
        .map((p) => p.clientId),
    name,
  )

test('forged presence over a read token: impersonation, hiding, CSS in a colour and a broken cursor never reach an honest page', async ({
  devices,
  server,
}) => {
  const alice = await devices.open('Alice', '#4f46e5')
  const a = alice.page
  const spaceId = await createSpace(a, 'Presence under attack')
  const links = await shareLinks(a)
  const readToken = new URL(links.read).hash.replace(/^#t=/, '')
  const bob = await devices.open('Bob', '#0f766e')
  const b = bob.page
  await b.goto(links.write)
  await expectSaved(b)
  await a.getByRole('button', { name: 'New note' }).click()
  await a.getByLabel('Note title').fill('Plans')
  await a.getByLabel('Note title').press('Enter')
  await a.keyboard.type('first line')
  await expect(b.getByLabel('Note title')).toHaveValue('Plans')
  await expect.poll(() => noteText(b)).toBe('first line')
  await typeInNote(b, 'end', '!') // Bob's caret is in the note: Alice sees it, in his colour
  const bobCaret = a.locator('.cm-ySelectionCaret', { hasText: 'Bob' })
  await expect(bobCaret).toHaveCount(1)
  await expect(bobCaret).toHaveCSS('background-color', 'rgb(15, 118, 110)')
  const alicePeople = a.getByTestId('presence-person')
  const bobPeople = b.getByTestId('presence-person')
  await expect(alicePeople).toHaveText([/Alice \(you\)$/, /Bob$/])
  const [bobId] = await idsOf(a, 'Bob')
  expect(bobId).toBeDefined()

  // a well-formed cursor into the note, as y-codemirror.next writes it, from the document the reader gets
  const doc = new Y.Doc()
  Y.applyUpdate(
    doc,
    Uint8Array.from(
      await a.evaluate(() =>
        Array.from((window as unknown as Hooks).__converge.session()!.space.encodeStateAsUpdate()),
      ),
    ),
  )
  const body = [...doc.share.keys()].find((k) => k.startsWith('body:'))
  expect(body).toBeDefined()
  const text = doc.getText(body)
  const at = (i: number): unknown =>
    JSON.parse(JSON.stringify(Y.createRelativePositionFromTypeIndex(text, i)))

  const READER = 0x7e57_0001
  const frames = [
    encodeMessage({ type: 'hello', version: PROTOCOL_VERSION }),
    // impersonation: Bob's id, a later clock, another name
    awareness({ id: bobId!, clock: 1_000_000, state: { user: { name: 'Mallory', color: '#000000' } } }),
    // hiding: Bob's id removed
    awareness({ id: bobId!, clock: 2_000_000, state: null }),
    // CSS through the colour, on an id of its own
    awareness({
      id: READER + 1,
      clock: 1,
      state: { user: { name: 'Eve', color: 'red;} body{display:none' } },
    }),
    awareness({
      id: READER + 2,
      clock: 1,
      state: { user: { name: 'Eve', color: '#fff', colorLight: 'red; position: fixed; inset: 0' } },
    }),
    // a cursor that would throw inside the editor (Yjs on a position naming nothing, or a bad id)
    awareness({
      id: READER + 3,
      clock: 1,
      state: {
        user: { name: 'Zed', color: '#123456' },
        cursor: {
          anchor: { type: null, tname: null, item: null, assoc: 0 },
          head: { item: { client: 'x' } },
        },
      },
    }),
    // and its own presence, well formed: allowed for a reader
    awareness({
      id: READER,
      clock: 1,
      state: { user: { name: 'Reader', color: '#b91c1c' }, cursor: { anchor: at(0), head: at(5) } },
    }),
  ]
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/sync/${spaceId}?token=${readToken}`)
  let closed: number | null = null
  ws.on('close', (code: number) => (closed = code))
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve())
    ws.on('unexpected-response', () => reject(new Error('the read token was refused')))
  })
  for (const f of frames) ws.send(f)

  // the reader's own presence arrives (so everything it sent before was processed), the forged do not
  await expect(alicePeople).toHaveText([/Alice \(you\)$/, /Bob$/, /Reader$/])
  await expect(bobPeople).toHaveText([/Bob \(you\)$/, /Alice$/, /Reader$/])
  for (const page of [a, b]) {
    for (const name of ['Mallory', 'Eve', 'Zed']) expect(await idsOf(page, name), name).toEqual([])
    await expect(page.locator('body')).toBeVisible()
    expect(await page.evaluate(() => getComputedStyle(document.body).display)).not.toBe('none')
  }
  expect(await idsOf(a, 'Bob')).toEqual([bobId])
  // Bob's caret is still his, in his colour; the reader's caret is drawn in its checked colour
  await expect(bobCaret).toHaveCount(1)
  await expect(bobCaret).toHaveCSS('background-color', 'rgb(15, 118, 110)')
  const readerCaret = a.locator('.cm-ySelectionCaret', { hasText: 'Reader' })
  await expect(readerCaret).toHaveCount(1)
  await expect(readerCaret).toHaveCSS('background-color', 'rgb(185, 28, 28)')
  await expect(a.locator('.cm-ySelectionCaret', { hasText: /Mallory|Eve|Zed/ })).toHaveCount(0)
  expect(closed, 'refused, not closed: a few invalid updates cost only strikes').toBeNull()

  // the honest devices keep working
  await typeInNote(a, 'end', ' and more')
  await expect.poll(() => noteText(b)).toBe('first line! and more')
  await expectSaved(a)
  await expectSaved(b)

  // when the reader's socket goes, so does its presence
  ws.close()
  await expect(alicePeople).toHaveText([/Alice \(you\)$/, /Bob$/])
  await expect(bobPeople).toHaveText([/Bob \(you\)$/, /Alice$/])
})
