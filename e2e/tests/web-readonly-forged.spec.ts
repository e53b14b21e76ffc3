/**
 * Scenario 6: a read-only link cannot write, even by going around the UI. From the page of a
 * read-only device, a raw WebSocket to the sync URL with the read token sends a valid Yjs update
 * (a y-websocket sync-update adding an item). The server refuses it as PROTOCOL.md §P5.4 says
 * (auth permission-denied "read-only", then an error of kind ReadOnly; the socket stays open); no
 * device ever sees the forged item, and the stored space does not contain it.
 */
import { openSpace } from '@converge/merge'
import { type Message, PROTOCOL_VERSION, decodeMessage, encodeMessage } from '@converge/protocol'
import { expectConverged, itemsByKey, snapshotOf } from '../fixtures/converge.js'
import {
  addItem,
  cartItem,
  createSpace,
  dropServerDownNoise,
  expect,
  expectSaved,
  shareLinks,
  test,
} from '../fixtures/test.js'

interface Hooks {
  __converge: { session(): { space: { encodeStateAsUpdate(): Uint8Array } } }
}

test('read-only link: a forged write over a raw socket with the read token is refused and never stored', async ({
  devices,
  server,
}) => {
  const alice = await devices.open('Alice')
  const spaceId = await createSpace(alice.page, 'Guarded flat')
  await addItem(alice.page, 'Milk')
  await expectSaved(alice.page)
  const links = await shareLinks(alice.page)
  const readToken = new URL(links.read).hash.replace(/^#t=/, '')
  expect(readToken).not.toBe('')

  const carol = await devices.open('Carol')
  const c = carol.page
  await c.goto(links.read)
  await expect(c.getByTestId('banner-read-only')).toBeVisible()
  await expect(cartItem(c, 'Milk')).toBeVisible()
  await expect(c.getByLabel('Add item')).toBeDisabled()

  // a valid update against the state the read-only device holds: "Forged caviar" ×99
  const state = await c.evaluate(() =>
    Array.from((window as unknown as Hooks).__converge.session().space.encodeStateAsUpdate()),
  )
  const forger = openSpace({ engine: 'yjs', spaceId, state: Uint8Array.from(state) })
  const before = forger.stateVector()
  forger.addItem('Forged caviar', { quantity: 99 })
  const forged = forger.encodeStateAsUpdate(before)
  expect(forged.length).toBeGreaterThan(0)
  const frames = [
    encodeMessage({ type: 'hello', version: PROTOCOL_VERSION }),
    encodeMessage({ type: 'sync-step1', stateVector: new Uint8Array([0]) }), // "send me everything"
    encodeMessage({ type: 'sync-update', update: forged }),
  ].map((f) => Array.from(f))
  const queryAwareness = Array.from(encodeMessage({ type: 'query-awareness' }))

  // from the read-only device's page: the raw socket, the forged frame, then a check it is still open
  const result = await c.evaluate(
    ({ url, frames, queryAwareness }) =>
      new Promise<{ received: number[][]; closeCode: number | null; openAfterRefusal: boolean }>(
        (resolve) => {
          const received: number[][] = []
          let refused = false
          let closeCode: number | null = null
          const ws = new WebSocket(url)
          ws.binaryType = 'arraybuffer'
          const done = (openAfterRefusal: boolean) => {
            ws.onclose = null
            ws.close(1000)
            resolve({ received, closeCode, openAfterRefusal })
          }
          const timer = setTimeout(() => done(false), 8000)
          ws.onopen = () => {
            for (const f of frames) ws.send(new Uint8Array(f))
          }
          ws.onmessage = (e: MessageEvent<ArrayBuffer>) => {
            const bytes = Array.from(new Uint8Array(e.data))
            received.push(bytes)
            const sawAuth = received.some((m) => m[0] === 2)
            const sawError = received.some((m) => m[0] === 12)
            if (!refused && sawAuth && sawError) {
              refused = true
              ws.send(new Uint8Array(queryAwareness)) // answered with everyone's presence if still open
              return
            }
            if (refused && bytes[0] === 1) {
              clearTimeout(timer)
              done(true)
            }
          }
          ws.onclose = (e) => {
            closeCode = e.code
            clearTimeout(timer)
            resolve({ received, closeCode, openAfterRefusal: false })
          }
        },
      ),
    {
      url: `${server.url.replace(/^http/, 'ws')}/sync/${spaceId}?token=${readToken}`,
      frames,
      queryAwareness,
    },
  )
  const messages: Message[] = result.received.map((m) => decodeMessage(Uint8Array.from(m)))
  expect(result.closeCode).toBeNull()
  expect(messages).toContainEqual({ type: 'auth-denied', reason: 'read-only' })
  expect(messages).toContainEqual(expect.objectContaining({ type: 'error', kind: 'ReadOnly' }))
  expect(result.openAfterRefusal).toBe(true)
  // the read token still reads: the server's full state came back, and it has no caviar in it
  const step2 = messages.find((m) => m.type === 'sync-step2')
  expect(step2).toBeDefined()
  const copy = openSpace({ engine: 'yjs', spaceId })
  if (step2?.type === 'sync-step2') copy.applyUpdate(step2.update)
  expect(copy.items().map((i) => i.key)).toEqual(['milk'])

  // a later honest change reaches the read-only device; the forged one reached no one
  await addItem(alice.page, 'Bread')
  await expect(cartItem(c, 'Bread')).toBeVisible()
  await expectSaved(alice.page)
  for (const page of [alice.page, c]) {
    await expect(cartItem(page, 'Forged caviar')).toHaveCount(0)
    expect(Object.keys(itemsByKey(await snapshotOf(page))).sort()).toEqual(['bread', 'milk'])
  }

  // nor is it stored: after a restart a fresh device gets the space from the server's storage
  const problemsFrom = devices.problems.length
  await server.restart()
  const bob = await devices.open('Bob')
  await bob.page.goto(links.write)
  await expectSaved(bob.page)
  await expect(cartItem(bob.page, 'Bread')).toBeVisible()
  await expectSaved(alice.page, { timeout: 30_000 })
  dropServerDownNoise(devices.problems, problemsFrom)
  const merged = await expectConverged([alice, bob, carol])
  expect(Object.keys(itemsByKey(merged)).sort()).toEqual(['bread', 'milk'])
})
