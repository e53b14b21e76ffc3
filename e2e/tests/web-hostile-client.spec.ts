/**
 * Scenario 7: a hostile client. While two honest devices edit and sync, raw sockets from Node (the
 * `ws` package) — holding a valid write token for the same space — send malformed frames, an
 * over-size frame and a flood. Each is closed with the code PROTOCOL.md §P5/§P6 documents (after an
 * `error` with the kind, for a socket that said hello); the honest devices never lose their
 * connection, keep syncing, and the stored space is intact after a restart. On both engines: on an
 * Automerge space a hostile socket says hello naming `automerge` (§P8.1), so its frames reach the
 * Automerge path — and one whose hello names no engine (a Yjs client) is closed with 4415.
 */
import {
  CloseCode,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
} from '@converge/protocol'
import { type EngineKind, createSpace as createLocal, loadEngine, openSpace } from '@converge/merge'
import type { Page } from '@playwright/test'
import WebSocket from 'ws'
import { expectConverged, itemsByKey } from '../fixtures/converge.js'
import {
  ENGINES,
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
  /** Every message the server sent, by type. */
  readonly types: string[]
}

/** The hello of a client that opened the space with `engine` (§P8.1: a Yjs client's names none). */
const helloOf = (engine: EngineKind): Uint8Array =>
  encodeMessage({ type: 'hello', version: PROTOCOL_VERSION, ...(engine === 'yjs' ? {} : { engine }) })

/**
 * An update of `engine` that decodes and builds only on what every replica of the space holds, but
 * writes what a space may not hold (a negative price: merge BAD-7).
 */
async function domainBreaking(engine: EngineKind, spaceId: string): Promise<Uint8Array> {
  await loadEngine(engine)
  const forged = openSpace({ engine, spaceId })
  const known = forged.stateVector()
  forged.engine.transact('hostile', (w) => w.set('items', 'milk\u001fpriceCents', -5))
  return forged.encodeStateAsUpdate(known)
}

/** Opens a raw socket, lets `attack` send on it, and resolves with how the server closed it. */
function hostile(url: string, attack: (ws: WebSocket) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const kinds: string[] = []
    const types: string[] = []
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
      types.push(m.type)
      if (m.type === 'error') kinds.push(m.kind)
    })
    ws.on('error', () => {}) // the close event carries the outcome
    ws.on('close', (code: number) => {
      clearTimeout(timer)
      resolve({ code, kinds, types })
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

for (const engine of ENGINES)
  test(`hostile client on ${engine}: malformed, over-size and flooding sockets are closed with their codes; honest devices keep syncing`, async ({
    devices,
    server,
  }) => {
    const alice = await devices.open('Alice')
    const a = alice.page
    const spaceId = await createSpace(a, 'Besieged flat', engine)
    const links = await shareLinks(a)
    // the fragment is `t=<token>`, and on an Automerge space `&e=automerge` after it
    const writeToken = new URLSearchParams(new URL(links.write).hash.slice(1)).get('t') ?? ''
    expect(writeToken).not.toBe('')
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
    // on an Automerge space only a hello naming automerge is joined (§P8.1): the frames after it reach
    // the Automerge path
    const HELLO = helloOf(engine)
    const otherEngine: EngineKind = engine === 'yjs' ? 'automerge' : 'yjs'
    await loadEngine(otherEngine)
    // a whole space of the other engine, created under this space's id
    const otherEngineUpdate = createLocal({
      engine: otherEngine,
      spaceId,
      name: 'Forged',
    }).encodeStateAsUpdate()
    const forged = await domainBreaking(engine, spaceId)

    // the attacks, each on its own socket, all at once, while both devices keep editing
    // what, how it ends, the close code, the one error kind sent before it (null: not checked), and
    // whether the server must have sent nothing at all
    const attacks: [string, Promise<Outcome>, number, string | null, boolean?][] = [
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
        `an update that does not decode as ${engine}`,
        hostile(
          url,
          send(HELLO, encodeMessage({ type: 'sync-update', update: Uint8Array.of(1, 1, 200, 7, 9, 9, 9) })),
        ),
        CloseCode.MalformedFrame,
        ErrorKind.InvalidUpdate,
      ],
      [
        `an update of the other engine (${otherEngine})`,
        hostile(url, send(HELLO, encodeMessage({ type: 'sync-update', update: otherEngineUpdate }))),
        CloseCode.MalformedFrame,
        ErrorKind.InvalidUpdate,
      ],
      [
        `a well-formed ${engine} update writing what a space may not hold (a negative price)`,
        hostile(url, send(HELLO, encodeMessage({ type: 'sync-update', update: forged }))),
        CloseCode.MalformedFrame,
        ErrorKind.InvalidUpdate,
      ],
      [
        `a hello naming ${otherEngine}`,
        hostile(url, send(helloOf(otherEngine))),
        CloseCode.UnsupportedEngine,
        ErrorKind.UnsupportedEngine,
      ],
      [
        'a frame over the size limit',
        hostile(url, send(HELLO, Buffer.alloc(sizeLimit + 1024, 1))),
        CloseCode.MessageTooBig,
        null,
      ],
      [
        'a flood of 3000 messages',
        // after the server's first message (it is authenticated; on Automerge it says nothing before a
        // hello naming automerge): before it, 64 queued frames are the limit (4408)
        hostile(url, (ws) => {
          ws.send(HELLO)
          ws.once('message', () =>
            send(...Array.from({ length: 3000 }, () => encodeMessage({ type: 'query-awareness' })))(ws),
          )
        }),
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
    // §P8.1: on an Automerge space a socket whose first message is not a hello naming automerge (a stock
    // y-websocket client, which a Yjs space serves) is sent nothing of the space and closed
    if (engine === 'automerge')
      attacks.push([
        'no hello: a stock y-websocket sync-step1',
        hostile(url, send(encodeMessage({ type: 'sync-step1', stateVector: Uint8Array.of(0) }))),
        CloseCode.UnsupportedEngine,
        null,
        true,
      ])
    // each outcome named, and awaited from now on (a socket the server never closes fails the test by name)
    const ended = Promise.all(
      attacks.map(([what, outcome]) =>
        outcome.catch((e: unknown) => {
          throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`)
        }),
      ),
    )
    const honest = (async () => {
      for (const name of ['Rice', 'Beans', 'Lentils']) {
        await addItem(a, name)
        await b.getByRole('button', { name: 'Increase Milk', exact: true }).click()
      }
    })()
    await honest
    const outcomes = await ended
    attacks.forEach(([what, , code, kind, nothing], i) => {
      const outcome = outcomes[i]
      expect(outcome?.code, what).toBe(code)
      if (kind) expect(outcome?.kinds, what).toEqual([kind])
      if (nothing) expect(outcome?.types, what).toEqual([])
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
