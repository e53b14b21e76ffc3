/**
 * Large changes (SPEC.md LARGE-1…5, PROTOCOL.md §P7): what goes in chunks and at what pace, what is
 * refused before it is made, and what a 4413 says — against the real server core in process.
 */
import { CloseCode, ErrorKind, decodeMessage, encodeMessage } from '@converge/protocol'
import { ManualScheduler } from '@converge/server-core/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_MAX_SPACE_BYTES, SpaceTooLarge, formatBytes, spaceSizeOf, utf8Length } from '../src/index.js'
import { type FakeServer, ServerStore, makeServer } from './support/fake-server.js'
import { closeSessions, openSession as open } from './support/sessions.js'
import { SteppedTimers } from './support/stepped-timers.js'

afterEach(closeSessions)

const FRAME = 8 * 1024
/** Waits for a condition: generous, for a loaded machine (nothing here waits on a timer). */
const WAIT = { timeout: 5000 }

/** The server's WebSocket stand-in, recording the size and type of every frame a client sends. */
const spying = (server: FakeServer) => {
  const sent: { bytes: number; type: string }[] = []
  const Base = server.WebSocket as unknown as new (url: string) => { send(d: Uint8Array): void }
  class Spy extends Base {
    override send(d: Uint8Array): void {
      let type = '?'
      try {
        type = decodeMessage(d).type
      } catch {
        // recorded as unknown
      }
      sent.push({ bytes: d.length, type })
      super.send(d)
    }
  }
  return { WebSocket: Spy as unknown as typeof WebSocket, sent }
}

const text = (n: number, c = 'x'): string => c.repeat(n)
const bodyOf = (s: { space: { notes(): { body: string }[] } }): string => s.space.notes()[0]?.body ?? ''

/**
 * Steps a stepped clock in small steps; after each, the in-process server takes its turns (`turns`:
 * its relays and commits) and what it answered reaches the client.
 */
const stepUntil = async (
  timers: SteppedTimers,
  turns: ManualScheduler,
  done: () => boolean,
  limitMs = 60_000,
): Promise<number> => {
  let waited = 0
  while (!done() && waited < limitMs) {
    timers.advance(50)
    waited += 50
    await turns.runTurns()
  }
  return waited
}

describe('large changes', () => {
  it('[LARGE-1] nothing of the document goes out before the server said what it takes; then the backlog is one answer, in chunks within the frame limit', async () => {
    const server = makeServer(new ServerStore(), { limits: { maxFrameBytes: FRAME } })
    const spy = spying(server)
    server.down()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: spy.WebSocket })
    a.space.createNote({ id: 'n1', title: 'Big', body: text(100_000) })
    a.space.createNote({ id: 'n2', title: 'Small', body: 'and this' })
    server.up()
    a.goOnline()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), WAIT)
    // the first frames are the handshake; the backlog went as one answer, split into chunks
    const firstDoc = spy.sent.findIndex((f) => f.type === 'sync-step2' || f.type === 'chunk')
    expect(spy.sent.slice(0, firstDoc).map((f) => f.type)).not.toContain('sync-update')
    expect(spy.sent.filter((f) => f.type === 'chunk').length).toBeGreaterThan(10)
    for (const f of spy.sent) expect(f.bytes).toBeLessThanOrEqual(FRAME)
    expect(a.connectionState?.error).toBeNull()
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(
      () =>
        expect(
          b.space
            .notes()
            .map((n) => n.body.length)
            .sort((x, y) => x - y),
        ).toEqual([8, 100_000]),
      WAIT,
    )
  })

  it('[LARGE-2] a large backlog is paced to the rate the server tells: never 4429, and it takes about as long as the rate says', async () => {
    const rate = 40_000 // bytes per second per connection, burst 2 s worth
    const timers = new SteppedTimers()
    const turns = new ManualScheduler() // the server's turns (relays, commits) run when the test says
    const server = makeServer(new ServerStore(), {
      limits: { maxFrameBytes: FRAME, maxBytesPerSecond: rate },
      clock: { now: () => timers.now }, // the server's rate buckets run on the client's stepped clock
      scheduler: turns,
    })
    const spy = spying(server)
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: spy.WebSocket, timers })
    await vi.waitFor(async () => {
      await turns.runTurns()
      expect(a.status.kind).toBe('saved')
    }, WAIT)
    const before = spy.sent.reduce((n, f) => n + f.bytes, 0)
    a.space.createNote({ id: 'n1', title: 'Big', body: text(300_000) })
    await turns.runTurns() // the server's turn: whatever it answered has reached the client
    // at once: at most the client's share of the burst (half of 2 s worth)
    const atOnce = spy.sent.reduce((n, f) => n + f.bytes, 0) - before
    expect(atOnce).toBeLessThanOrEqual(rate + FRAME)
    const waited = await stepUntil(timers, turns, () => a.status.kind === 'saved')
    expect(a.status.kind).toBe('saved')
    expect(a.connectionState?.error).toBeNull()
    // (300 kB − the 40 kB at once) at 90% of 40 kB/s: about 7 s of the stepped clock
    expect(waited).toBeGreaterThan(5_000)
    expect(waited).toBeLessThan(12_000)
    expect(server.connects).toBe(1) // never closed for its rate
  })

  it('[LARGE-3] a change the space could not store is refused before it is made, with the numbers; the next small one syncs', async () => {
    const limit = 200_000
    const server = makeServer(new ServerStore(), { limits: { maxDocumentBytes: limit } })
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    a.space.createNote({ id: 'n1', title: 'Notes', body: text(120_000) })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), WAIT)
    const size = spaceSizeOf(a)
    expect(size.maxBytes).toBe(limit)
    expect(size.bytes).toBeGreaterThan(120_000)
    expect(size.bytes).toBeLessThan(121_000)
    const refused = size.check(utf8Length(text(100_000, 'é')))
    expect(refused).toBeInstanceOf(SpaceTooLarge)
    expect(refused?.limit).toBe(limit)
    expect(refused?.bytes).toBeGreaterThan(320_000) // 'é' is 2 bytes in UTF-8
    expect(refused?.message).toBe(
      `This change is too large for a shared space: ${formatBytes(refused!.bytes)} of at most 195 kB`,
    )
    expect(size.check(50_000)).toBeNull()
    // the small change is made, and syncs
    a.space.createNote({ id: 'n2', title: 'More', body: 'a small one' })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), WAIT)
    // a device that joins counts from the server's storedBytes
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(b.status.kind).toBe('saved'), WAIT)
    expect(spaceSizeOf(b).bytes).toBeGreaterThan(120_000)
    expect(spaceSizeOf(b).check(100_000)).toBeInstanceOf(SpaceTooLarge)
    // without a server yet: the default limit, and the document's own size
    const offline = await open({ serverUrl: null })
    offline.space.createNote({ id: 'n1', title: 'x', body: text(1000) })
    expect(spaceSizeOf(offline).maxBytes).toBe(DEFAULT_MAX_SPACE_BYTES)
    expect(spaceSizeOf(offline).bytes).toBeGreaterThan(1000)
    expect(spaceSizeOf(offline).check(DEFAULT_MAX_SPACE_BYTES)).toBeInstanceOf(SpaceTooLarge)
    expect(formatBytes(70 * 1024 * 1024)).toBe('70 MB')
    expect(formatBytes(64 * 1024 * 1024)).toBe('64 MB')
    expect(formatBytes(3.14 * 1024 * 1024)).toBe('3.1 MB')
    expect(utf8Length('a€😀')).toBe(1 + 3 + 4)
  })

  it('[LARGE-4] a change the server still refuses with 4413 stops syncing for good and says what happened; what the device holds stays', async () => {
    const server = makeServer(new ServerStore(), { limits: { maxDocumentBytes: 50_000 } })
    const timers = new SteppedTimers()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), WAIT)
    // made without the check (another device filled the space meanwhile, an older app): the server refuses it
    a.space.createNote({ id: 'n1', title: 'Too big', body: text(60_000) })
    await vi.waitFor(
      () => expect(a.status).toMatchObject({ kind: 'error', error: ErrorKind.DocumentTooLarge }),
      WAIT,
    )
    expect(a.connectionState?.error).toMatchObject({ kind: 'DocumentTooLarge', next: 'stop' })
    const tries = server.connects
    timers.advance(3_600_000)
    expect(server.connects).toBe(tries) // it does not send the same update again and again
    expect(bodyOf(a)).toHaveLength(60_000) // kept on the device
    expect(CloseCode.DocumentTooLarge).toBe(4413)
  })

  it('[LARGE-5] a large space reaches a joiner in chunks and comes together whole; a message from the server that does not come together drops the socket, and the next one syncs', async () => {
    const server = makeServer(new ServerStore(), { limits: { maxFrameBytes: FRAME } })
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    a.space.createNote({ id: 'n1', title: 'Big', body: text(200_000, 'y') })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), WAIT)
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(bodyOf(b)).toHaveLength(200_000), WAIT)
    const connects = server.connects
    // a chunk past the end of its message: b drops that socket and syncs on the next
    server.sendToAll(encodeMessage({ type: 'chunk', id: 99, total: 10, offset: 5, part: new Uint8Array(9) }))
    await vi.waitFor(() => expect(server.connects).toBeGreaterThan(connects), WAIT)
    await vi.waitFor(() => expect(b.status.kind).toBe('saved'), WAIT)
    expect(b.connectionState?.error).toBeNull()
  })
})
