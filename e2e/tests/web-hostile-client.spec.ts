/**
 * Scenario 7: a hostile client. While two honest devices edit and sync, raw sockets from Node (the
 * `ws` package) — holding a valid write token for the same space — send malformed frames, an
 * over-size frame and a flood. Each is closed with the code PROTOCOL.md §P5/§P6 documents (after an
 * `error` with the kind, for a socket that said hello); the honest devices never lose their
 * connection, keep syncing, and the stored space is intact after a restart.
 */
import {
  CloseCode,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
} from '@converge/protocol'
import type { Page } from '@playwright/test'
import WebSocket from 'ws'
import { expectConverged, itemsByKey } from '../fixtures/converge.js'
import {
  addItem,
  cartItem,
  createSpace,
  dropServerDownNoise,
  expect,
  expectSaved,
  noteText,
  shareLinks,
  test,
  typeInNote,
} from '../fixtures/test.js'

interface Outcome {
  readonly code: number
  /** The `error` kinds the server sent before closing. */
  readonly kinds: string[]
}

const HELLO = encodeMessage({ type: 'hello', version: PROTOCOL_VERSION })

/** Opens a raw socket, lets `attack` send on it, and resolves with how the server closed it. */
function hostile(url: string, attack: (ws: WebSocket) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const kinds: string[] = []
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`the server did not close the hostile socket (${url.replace(/token=.*/, 'token=…')})`))
    }, 10_000)
    ws.on('open', () => attack(ws))
    ws.on('message', (data: Buffer) => {
      let m: Message
      try {
        m = decodeMessage(new Uint8Array(data))
      } catch {
        return
      }
      if (m.type === 'error') kinds.push(m.kind)
    })
    ws.on('error', () => {}) // the close event carries the outcome
    ws.on('close', (code: number) => {
      clearTimeout(timer)
      resolve({ code, kinds })
    })
  })
}

/** Counts how often the page's session went offline from now on (an honest socket that dropped). */
async function watchDrops(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Session = { status: { kind: string }; subscribe(fn: () => void): void }
    const w = window as unknown as { __converge: { session(): Session }; __drops: number }
    const session = w.__converge.session()
    w.__drops = 0
    session.subscribe(() => {
      if (session.status.kind === 'offline') w.__drops++
    })
  })
}
const drops = (page: Page) => page.evaluate(() => (window as unknown as { __drops: number }).__drops)

test('hostile client: malformed, over-size and flooding sockets are closed with their codes; honest devices keep syncing', async ({
  devices,
  server,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  const spaceId = await createSpace(a, 'Besieged flat')
  const links = await shareLinks(a)
  const writeToken = new URL(links.write).hash.replace(/^#t=/, '')
  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(links.write)
  await expectSaved(b)
  await a.getByRole('button', { name: 'New note' }).click()
  await a.getByLabel('Note title').fill('Siege log')
  await a.getByLabel('Note title').press('Enter')
  await expect(b.getByLabel('Note title')).toHaveValue('Siege log')
  await addItem(b, 'Milk')
  await expect(cartItem(a, 'Milk')).toBeVisible()
  await watchDrops(a)
  await watchDrops(b)

  const wsBase = `${server.url.replace(/^http/, 'ws')}/sync`
  const url = `${wsBase}/${spaceId}?token=${writeToken}`
  const other = (await (await fetch(`${server.url}/api/spaces`, { method: 'POST' })).json()) as {
    writeToken: string
  }
  const send =
    (...frames: (Uint8Array | Buffer)[]) =>
    (ws: WebSocket) => {
      for (const f of frames) ws.send(f)
    }
  const sizeLimit = 1024 * 1024 // MAX_FRAME_BYTES default (apps/server README)

  // the attacks, each on its own socket, all at once, while both devices keep editing
  const attacks: [string, Promise<Outcome>, number, string | null][] = [
    ['text frame', hostile(url, (ws) => ws.send('{"type":"sync"}')), CloseCode.MalformedFrame, null],
    [
      'unknown message type',
      hostile(url, send(HELLO, Uint8Array.of(99))),
      CloseCode.MalformedFrame,
      ErrorKind.MalformedFrame,
    ],
    [
      'truncated varint',
      hostile(url, send(HELLO, Uint8Array.of(0x80))),
      CloseCode.MalformedFrame,
      ErrorKind.MalformedFrame,
    ],
    [
      'trailing bytes',
      hostile(url, send(HELLO, Uint8Array.of(3, 0))),
      CloseCode.MalformedFrame,
      ErrorKind.MalformedFrame,
    ],
    [
      'a server-only message (durable-ack) from a client',
      hostile(url, send(HELLO, encodeMessage({ type: 'durable-ack', stateVector: Uint8Array.of(0) }))),
      CloseCode.MalformedFrame,
      ErrorKind.MalformedFrame,
    ],
    [
      'an update that is not a Yjs update',
      hostile(
        url,
        send(HELLO, encodeMessage({ type: 'sync-update', update: Uint8Array.of(1, 1, 200, 7, 9, 9, 9) })),
      ),
      CloseCode.MalformedFrame,
      ErrorKind.InvalidUpdate,
    ],
    [
      'a frame over the size limit',
      hostile(url, send(HELLO, Buffer.alloc(sizeLimit + 1024, 1))),
      CloseCode.MessageTooBig,
      null,
    ],
    [
      'a flood of 3000 messages',
      // after the server's first message (it is authenticated): before it, 64 queued frames are the limit (4408)
      hostile(url, (ws) =>
        ws.once('message', () =>
          send(HELLO, ...Array.from({ length: 3000 }, () => encodeMessage({ type: 'query-awareness' })))(ws),
        ),
      ),
      CloseCode.RateLimited,
      ErrorKind.RateLimited,
    ],
    ['no token', hostile(`${wsBase}/${spaceId}`, send(HELLO)), CloseCode.Unauthorized, null],
    [
      'a forged token',
      hostile(`${wsBase}/${spaceId}?token=${writeToken.slice(0, -4)}AAAA`, send(HELLO)),
      CloseCode.Unauthorized,
      null,
    ],
    [
      "another space's token",
      hostile(`${wsBase}/${spaceId}?token=${other.writeToken}`, send(HELLO)),
      CloseCode.Forbidden,
      null,
    ],
  ]
  const honest = (async () => {
    for (const name of ['Rice', 'Beans', 'Lentils']) {
      await addItem(a, name)
      await b.getByRole('button', { name: 'Increase Milk', exact: true }).click()
    }
  })()
  await honest
  const outcomes = await Promise.all(attacks.map(([, outcome]) => outcome))
  attacks.forEach(([what, , code, kind], i) => {
    const outcome = outcomes[i]
    expect(outcome?.code, what).toBe(code)
    if (kind) expect(outcome?.kinds, what).toEqual([kind])
  })

  // after the attack: edits still propagate both ways, and neither honest socket ever dropped
  await addItem(a, 'After the attack')
  await expect(cartItem(b, 'After the attack')).toBeVisible()
  await typeInNote(b, 'end', 'still here')
  await expect.poll(() => noteText(a)).toBe('still here')
  await expectSaved(a)
  await expectSaved(b)
  const merged = await expectConverged([alice, bob])
  expect(itemsByKey(merged)).toMatchObject({
    rice: { quantity: 1 },
    beans: { quantity: 1 },
    lentils: { quantity: 1 },
    milk: { quantity: 4 },
    'after the attack': { quantity: 1 },
  })
  expect(await drops(a)).toBe(0)
  expect(await drops(b)).toBe(0)
  expect((await fetch(`${server.url}/healthz`)).ok).toBe(true)

  // the stored space is intact: a fresh device after a restart gets exactly the same state
  const problemsFrom = devices.problems.length
  await server.restart()
  const carol = await devices.open('Carol')
  await carol.page.goto(links.write)
  await expectSaved(carol.page)
  for (const p of [a, b]) await expectSaved(p, { timeout: 30_000 })
  dropServerDownNoise(devices.problems, problemsFrom)
  await expectConverged([alice, bob, carol])
})
