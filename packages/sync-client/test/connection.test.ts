/**
 * The server connection of the leader tab: closes through the close-code table, the one backoff,
 * the browser's online/offline events. Time is a stepped clock (test/support/stepped-timers.ts), so
 * "it does not reconnect" is checked by moving the clock past every wait it could have set.
 */
import { CloseCode, ErrorKind, backoffDelay } from '@converge/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HEARTBEAT_MS, LIVENESS_MISSES, REVOKED_TEXT, httpSpaceApi, statusText } from '../src/index.js'
import { FakeBrowser } from './support/fake-browser.js'
import { makeServer } from './support/fake-server.js'
import { MemoryLocal } from './support/local-stores.js'
import { closeSessions, openSession as open } from './support/sessions.js'
import { SteppedTimers } from './support/stepped-timers.js'

afterEach(closeSessions)

const backoff = { initialMs: 100, maxMs: 1000 }
const ONE_HOUR = 3_600_000

describe('closes', () => {
  it('[SYNC-3] a permanent close (bad token) stops retrying and says why', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, token: 'bad', timers })
    await vi.waitFor(() => expect(a.status.kind).toBe('error'))
    expect(statusText(a.status)).toBe('not syncing — Unauthorized')
    expect(a.connectionState?.error).toMatchObject({ kind: 'Unauthorized', next: 'reauthenticate' })
    const tries = server.connects
    expect(timers.pending).toBe(0) // no reconnect is scheduled…
    timers.advance(ONE_HOUR) // …and none happens however long we wait
    expect(server.connects).toBe(tries)
  })

  it('[SYNC-3] a close the table marks permanent stops with its error kind; an unknown 4xxx one too', async () => {
    for (const [code, kind] of [
      [CloseCode.DocumentTooLarge, 'DocumentTooLarge'],
      [4499, 'Close4499'],
    ] as const) {
      const server = makeServer()
      const timers = new SteppedTimers()
      server.closeNextWith(code)
      const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers })
      await vi.waitFor(() => expect(a.status).toEqual({ kind: 'error', error: kind, pending: 0 }))
      timers.advance(ONE_HOUR)
      expect(server.connects).toBe(1)
      await a.destroy()
    }
  })

  it('[SYNC-3] a close the table marks for retry (storage unavailable, server full, shutting down) reconnects after the backoff', async () => {
    for (const code of [CloseCode.StorageUnavailable, CloseCode.TryAgainLater, CloseCode.GoingAway]) {
      const server = makeServer()
      const timers = new SteppedTimers()
      server.closeNextWith(code)
      const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers, backoff })
      await vi.waitFor(() => expect(timers.pending).toBe(1))
      expect(a.status.kind).toBe('unreachable') // the browser is online: the server is out of reach (SYNC-13)
      expect(server.connects).toBe(1)
      timers.advance(timers.next!)
      await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
      expect(server.connects).toBe(2)
      await a.destroy()
    }
  })
})

describe('a reset link', () => {
  it('[SYNC-11] a link reset by someone in the space (4410) stops for good and says so plainly; what the device holds stays', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const local = new MemoryLocal()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers, store: local })
    a.space.addItem('Milk')
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    // the real core closes it as a reset does: an `error` LinkRevoked, then close 4410
    expect(server.core.closeConnections('s1', () => true, ErrorKind.LinkRevoked, 'reset')).toBe(1)
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'revoked', pending: 0 }))
    expect(statusText(a.status)).toBe(REVOKED_TEXT)
    expect(REVOKED_TEXT).toBe('This link was reset. Ask someone in the space for the new link.')
    expect(a.connectionState?.error).toMatchObject({ kind: 'LinkRevoked', next: 'reauthenticate' })
    const tries = server.connects
    expect(timers.pending).toBe(0)
    timers.advance(ONE_HOUR)
    expect(server.connects).toBe(tries)
    // the local copy stays readable, and what is changed now is kept on the device, counted
    expect(a.space.items().map((i) => i.name)).toEqual(['Milk'])
    a.space.addItem('Eggs')
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'revoked', pending: 1 }))
    expect(server.connects).toBe(tries)
  })

  it('[SYNC-11] resetLinks posts the write token as a bearer and hands back the new tokens; a refusal is its status and error', async () => {
    const seen: { url: string; method?: string; auth?: string }[] = []
    const answers = [
      new Response(JSON.stringify({ writeToken: 'w2', readToken: 'r2' }), { status: 200 }),
      new Response(JSON.stringify({ error: 'a read-only link cannot reset the links' }), { status: 403 }),
    ]
    const fetch = (url: string, init: RequestInit): Promise<Response> => {
      seen.push({
        url,
        method: init.method,
        auth: new Headers(init.headers).get('authorization') ?? undefined,
      })
      return Promise.resolve(answers.shift()!)
    }
    const api = httpSpaceApi('https://x/api', { fetch: fetch as typeof globalThis.fetch })
    expect(await api.resetLinks('s 1', 'w1')).toEqual({ ok: true, writeToken: 'w2', readToken: 'r2' })
    expect(seen[0]).toEqual({
      url: 'https://x/api/spaces/s%201/links/reset',
      method: 'POST',
      auth: 'Bearer w1',
    })
    expect(await api.resetLinks('s1', 'r1')).toEqual({
      ok: false,
      status: 403,
      message: 'a read-only link cannot reset the links',
    })
    const offline = httpSpaceApi('https://x/api', {
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    })
    expect(await offline.resetLinks('s1', 'w1')).toMatchObject({ ok: false, status: null })
  })

  it('[SYNC-11] a link refused on connect with 4410, before any message, is revoked too', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    server.closeNextWith(CloseCode.LinkRevoked)
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers })
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'revoked', pending: 0 }))
    timers.advance(ONE_HOUR)
    expect(server.connects).toBe(1)
  })
})

describe('backoff', () => {
  it('[SYNC-4] reconnect delays grow exponentially with jitter and a cap', () => {
    for (const r of [0, 0.5, 0.999]) {
      for (const [attempt, base] of [
        [1, 100],
        [2, 200],
        [4, 800],
        [9, 1000],
      ] as const) {
        const d = backoffDelay(attempt, backoff, () => r)
        expect(d).toBeGreaterThanOrEqual(base / 2)
        expect(d).toBeLessThanOrEqual(base)
      }
    }
  })

  it('[SYNC-4] the connection waits backoffDelay before each attempt, and starts again from the first wait once synced', async () => {
    const server = makeServer()
    server.down()
    const timers = new SteppedTimers()
    const random = () => 0.5
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers, backoff, random })
    // each failed attempt schedules the next after the 1st, 2nd, … wait of the one backoff
    for (let attempt = 1; attempt <= 6; attempt++) {
      await vi.waitFor(() => expect(timers.pending).toBe(1))
      expect(server.connects).toBe(attempt)
      timers.advance(timers.next!)
    }
    expect(timers.requested).toEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, backoff, random)))
    expect(timers.requested).toEqual([75, 150, 300, 600, 750, 750]) // ×2 each time, capped at 1000, ¾ of it
    server.up()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    const before = timers.requested.length
    server.down()
    await vi.waitFor(() => expect(timers.pending).toBe(1))
    expect(timers.requested[before]).toBe(backoffDelay(1, backoff, random)) // the first wait again
  })
})

describe('the browser network', () => {
  it('[SYNC-8] no socket while the browser says it is offline; "online" connects at once', async () => {
    const server = makeServer()
    const fake = new FakeBrowser(false)
    const timers = new SteppedTimers()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      window: fake.window,
      navigator: fake.navigator,
      timers,
    })
    timers.advance(ONE_HOUR)
    expect(server.connects).toBe(0)
    expect(a.status).toEqual({ kind: 'offline', pending: 0 })
    fake.goOnline()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(server.connects).toBe(1)
  })

  it('[SYNC-8] "offline" closes the socket and waits; "online" reconnects at once with the backoff reset', async () => {
    const server = makeServer()
    const fake = new FakeBrowser()
    const timers = new SteppedTimers()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      window: fake.window,
      navigator: fake.navigator,
      timers,
      backoff,
    })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    fake.goOffline()
    expect(a.status.kind).toBe('offline')
    a.space.addItem('Milk')
    timers.advance(ONE_HOUR)
    expect(server.connects).toBe(1) // no attempt while offline
    fake.goOnline()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(server.connects).toBe(2)
    expect(a.connectionState?.attempt).toBe(0)
  })

  it('[SYNC-8] focus on the page tries again at once while the connection waits out a backoff', async () => {
    const server = makeServer()
    const fake = new FakeBrowser()
    const timers = new SteppedTimers()
    server.down()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      window: fake.window,
      navigator: fake.navigator,
      timers,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    })
    await vi.waitFor(() => expect(timers.pending).toBe(1)) // a minute's wait after the failed try
    server.up()
    fake.focus()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(server.connects).toBe(2)
    fake.focus() // connected: nothing to do
    expect(server.connects).toBe(2)
  })

  it('[SYNC-8] a closed session stops listening to the browser', async () => {
    const fake = new FakeBrowser()
    const a = await open({ serverUrl: null, window: fake.window, navigator: fake.navigator })
    expect(fake.listening('online') + fake.listening('offline')).toBe(2)
    await a.destroy()
    expect(fake.listening('online') + fake.listening('offline')).toBe(0)
  })
})

describe('liveness', () => {
  it('[SYNC-14] a server that stops answering (SIGSTOP) is dropped within 10 s: "can’t reach the server", others’ presence gone; when it answers again the device is saved', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers, backoff })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    // a quiet but live server: each heartbeat is answered, nothing is dropped however long it lasts
    for (let t = 0; t < 60_000; t += HEARTBEAT_MS) {
      timers.advance(HEARTBEAT_MS)
      await vi.waitFor(() => expect(a.connectionState?.connected).toBe(true))
      await server.delivered() // the heartbeat's answer has reached the client (sent in a microtask)
    }
    expect(server.connects).toBe(1)
    server.freeze()
    a.space.addItem('Milk')
    timers.advance(HEARTBEAT_MS * (LIVENESS_MISSES + 1)) // at most 10 s
    expect(a.connectionState?.connected).toBe(false)
    expect(a.status).toEqual({ kind: 'unreachable', pending: 0 }) // memory only here: nothing stored
    expect(statusText(a.status)).toMatch(/^can't reach the server/)
    server.thaw()
    timers.advance(timers.next!) // the reconnect, after the backoff
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(server.connects).toBe(2)
  })
})

describe('restarts and hints', () => {
  it('[SYNC-15] after "shutting down" (1001) the device comes back at the server’s pace — within about a second of the server being ready, not the growing backoff', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      timers,
      backoff: { initialMs: 1_000, maxMs: 30_000 },
    })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    // every socket closed with 1001, after error ShuttingDown and retry-after 500; the restart takes a
    // while: the tries meanwhile fail
    const shutdown = server.core.shutdown()
    await vi.waitFor(() => expect(a.connectionState?.connected).toBe(false))
    server.down()
    await shutdown
    await vi.waitFor(() => expect(a.connectionState?.connected).toBe(false))
    const delays: number[] = []
    for (let k = 0; k < 8; k++) {
      await vi.waitFor(() => expect(timers.pending).toBe(1))
      delays.push(timers.next!)
      timers.advance(timers.next!)
    }
    // at the restart pace (0.5–0.75 s), where the backoff would have grown to 30 s
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(500)
    for (const d of delays) expect(d).toBeLessThanOrEqual(750)
  })

  it('[SYNC-15] a retry-after hint is waited for once, on top of the backoff', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers, backoff })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    // the server sheds load: retry-after 5 s, then 1013
    server.closeAllWith(CloseCode.TryAgainLater, { retryAfterMs: 5_000 })
    await vi.waitFor(() => expect(timers.pending).toBe(1))
    expect(timers.next!).toBeGreaterThanOrEqual(5_000)
    expect(timers.next!).toBeLessThanOrEqual(7_500)
  })
})

describe('the token', () => {
  it('[SYNC-16] the token is sent in the first frame, never in the socket URL; a server that refuses that frame gets it in the URL', async () => {
    const server = makeServer()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(server.urls).toEqual(['ws://x/sync/s1'])
    // an older server: an unknown first frame is a malformed one (4400) — the client falls back
    const old = makeServer()
    old.refuseTokenFrame()
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: old.WebSocket })
    await vi.waitFor(() => expect(b.status.kind).toBe('saved'))
    expect(old.urls).toEqual(['ws://x/sync/s1', 'ws://x/sync/s1?token=w'])
  })
})
