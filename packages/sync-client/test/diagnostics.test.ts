/**
 * The diagnostics of an open space (SPEC.md DIAG-1…4): what the sync inspector shows, against the real
 * server core, on a stepped clock. Two tabs share a BroadcastChannel and a Web Lock.
 */
import { PROTOCOL_VERSION } from '@converge/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HEARTBEAT_MS, MESSAGE_LOG_SIZE, type SpaceSession, TAB_ANSWER_MS } from '../src/index.js'
import { MessageLog } from '../src/message-log.js'
import { FakeBrowser } from './support/fake-browser.js'
import { type FakeServer, makeServer } from './support/fake-server.js'
import { MemoryLocal } from './support/local-stores.js'
import { fakeLocks } from './support/locks.js'
import { closeSessions, openSession as open } from './support/sessions.js'
import { SteppedTimers } from './support/stepped-timers.js'

afterEach(closeSessions)

const saved = async (s: SpaceSession): Promise<void> => {
  await vi.waitFor(() => expect(s.status.kind).toBe('saved'))
}

describe('the leader tab', () => {
  it('[DIAG-1] the leader’s diagnostics are true: the socket open, the server’s version, a heartbeat’s round trip, nothing pending, the device’s vector the ack’s; offline, one change pending with its age', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const fake = new FakeBrowser()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      timers,
      now: timers.clock,
      store: new MemoryLocal(),
      window: fake.window,
      navigator: fake.navigator,
    })
    await saved(a)
    a.space.addItem('Milk')
    await saved(a)
    let d = a.diagnostics.snapshot()
    expect(d.tab.role).toBe('leader')
    expect(d.source).toBe('this tab')
    expect(d.status).toBe('saved')
    expect(d.connection).toEqual({
      state: 'open',
      serverVersion: PROTOCOL_VERSION,
      attempt: 0,
      error: null,
      online: true,
    })
    expect(d.rtt).toEqual({ lastMs: null, smoothedMs: null }) // no heartbeat yet: the socket was busy
    expect(d.pending).toEqual({ count: 0, oldestAt: null, oldestAgeMs: null })
    expect(d.lastAck).toEqual({ at: 0, ageMs: 0 })
    expect(Object.keys(d.vectors.device)).toEqual([String(a.doc?.clientID)])
    expect(d.vectors.server).toEqual(d.vectors.device)
    expect(d.vectors.equal).toBe(true)

    // a quiet socket: the heartbeat of the second tick is answered 300 ms later
    timers.advance(HEARTBEAT_MS)
    await server.delivered()
    server.freeze()
    timers.advance(HEARTBEAT_MS)
    timers.advance(300)
    server.thaw()
    await server.delivered()
    expect(a.diagnostics.snapshot().rtt).toEqual({ lastMs: 300, smoothedMs: 300 })
    // the next one at once: the smoothed one moves an eighth of the way
    timers.advance(HEARTBEAT_MS - 300)
    await server.delivered()
    timers.advance(HEARTBEAT_MS)
    await server.delivered()
    expect(a.diagnostics.snapshot().rtt).toEqual({ lastMs: 0, smoothedMs: 300 - 300 / 8 })
    d = a.diagnostics.snapshot()
    expect(d.lastAck.ageMs).toBe(d.at - 0)

    // offline, one change: pending with its age, the socket not open
    fake.goOffline()
    a.space.addItem('Eggs')
    const madeAt = timers.now
    await vi.waitFor(() => expect(a.diagnostics.snapshot().pending.count).toBe(1))
    timers.advance(5_000)
    d = a.diagnostics.snapshot()
    expect(d.status).toBe('offline')
    expect(d.connection?.state).toBe('offline')
    expect(d.pending).toEqual({ count: 1, oldestAt: madeAt, oldestAgeMs: 5_000 })
    expect(d.vectors.equal).toBe(false) // the device holds a change the server's vector lacks
  })

  it('[DIAG-1] subscribers hear each change, and every second while they listen', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, timers, now: timers.clock })
    await saved(a)
    let heard = 0
    const stop = a.diagnostics.subscribe(() => heard++)
    a.space.addItem('Milk')
    expect(heard).toBeGreaterThan(0)
    await saved(a)
    heard = 0
    timers.advance(1_000)
    expect(heard).toBeGreaterThan(0)
    stop()
    heard = 0
    await server.delivered()
    timers.advance(1_000)
    expect(heard).toBe(0)
  })

  it('[DIAG-1] a tab with no server says so', async () => {
    const a = await open({ serverUrl: null })
    const d = a.diagnostics.snapshot()
    expect(d.connection?.state).toBe('none')
    expect(d.vectors.server).toBeNull()
    expect(d.messages).toEqual([])
  })
})

describe('the message log', () => {
  it('[DIAG-2] the log holds the last messages in and out — when, which way, type and bytes — never what they carry', async () => {
    const server = makeServer()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, token: 'w.Secret-Token-1' })
    await saved(a)
    a.space.addItem('Oat milk')
    await saved(a)
    const { messages } = a.diagnostics.snapshot()
    const last = messages.slice(-4)
    expect(last).toContainEqual(expect.objectContaining({ dir: 'out', type: 'sync-update' }))
    expect(last).toContainEqual(expect.objectContaining({ dir: 'in', type: 'durable-ack' }))
    for (const m of messages) {
      expect(Object.keys(m).sort()).toEqual(['at', 'bytes', 'dir', 'type'])
      expect(m.bytes).toBeGreaterThan(0)
    }
    expect(messages[0]).toMatchObject({ dir: 'out', type: 'token' })
    const text = JSON.stringify(messages)
    expect(text).not.toContain('Secret-Token')
    expect(text).not.toContain('Oat milk')
  })

  it('[DIAG-2] the log keeps the last MESSAGE_LOG_SIZE, oldest first', () => {
    const log = new MessageLog()
    for (let k = 0; k < 150; k++) log.push({ at: k, dir: k % 2 ? 'in' : 'out', type: 'heartbeat', bytes: 1 })
    const entries = log.entries()
    expect(MESSAGE_LOG_SIZE).toBe(100)
    expect(entries).toHaveLength(100)
    expect(entries.map((e) => e.at)).toEqual([...Array(100).keys()].map((k) => k + 50))
  })
})

describe('tabs', () => {
  /** Two tabs of one browser on `server`: the first leads. */
  const twoTabs = async (server: FakeServer, timers: SteppedTimers) => {
    const options = {
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      BroadcastChannel,
      locks: fakeLocks(),
      timers,
      now: timers.clock,
      store: new MemoryLocal(),
    }
    const leader = await open(options)
    const follower = await open(options)
    expect(leader.isLeader && !follower.isLeader).toBe(true)
    await saved(leader)
    await saved(follower)
    return { leader, follower, options }
  }
  const tabsOf = (s: SpaceSession) => s.diagnostics.snapshot().tabs
  const idOf = (s: SpaceSession) => s.diagnostics.snapshot().tab.id

  it('[DIAG-3] every tab lists the tabs of this browser with the space open and which leads; a closed tab drops out, the next leader says so', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const { leader, follower, options } = await twoTabs(server, timers)
    const [l, f] = [idOf(leader), idOf(follower)]
    await vi.waitFor(() =>
      expect(tabsOf(leader)).toEqual([
        { id: l, leader: true, self: true },
        { id: f, leader: false, self: false },
      ]),
    )
    await vi.waitFor(() =>
      expect(tabsOf(follower)).toEqual([
        { id: f, leader: false, self: true },
        { id: l, leader: true, self: false },
      ]),
    )
    // a third tab opens and closes
    const third = await open(options)
    await vi.waitFor(() => expect(tabsOf(leader)).toHaveLength(3))
    await vi.waitFor(() => expect(tabsOf(third)).toHaveLength(3))
    await third.destroy()
    await vi.waitFor(() => expect(tabsOf(leader)).toHaveLength(2))
    // the leader closes: the follower leads, and lists itself alone, leading
    await leader.destroy()
    await vi.waitFor(() => expect(follower.isLeader).toBe(true))
    await vi.waitFor(() => expect(tabsOf(follower)).toEqual([{ id: f, leader: true, self: true }]))
  })

  it('[DIAG-3] a tab that went without a word (a crash) is dropped once it does not answer who is there', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const { leader, follower } = await twoTabs(server, timers)
    const crashed = new BroadcastChannel('converge:s1')
    crashed.postMessage({ t: 'tab', id: 4242, leader: false })
    await vi.waitFor(() => expect(tabsOf(leader).map((t) => t.id)).toContain(4242))
    timers.advance(1)
    const stop = leader.diagnostics.subscribe(() => {}) // the inspector opens: "who is there?"
    timers.advance(TAB_ANSWER_MS)
    // the follower answers; the crashed tab cannot
    await vi.waitFor(() => expect(tabsOf(leader).map((t) => t.id)).toEqual([idOf(leader), idOf(follower)]))
    stop()
    crashed.close()
  })

  it('[DIAG-1][DIAG-3] a follower shows the leader’s connection, asked over the tab channel while someone watches', async () => {
    const server = makeServer()
    const timers = new SteppedTimers()
    const { leader, follower } = await twoTabs(server, timers)
    expect(follower.diagnostics.snapshot().source).toBe('none yet')
    expect(follower.diagnostics.snapshot().connection).toBeNull()
    const stop = follower.diagnostics.subscribe(() => {})
    await vi.waitFor(() => expect(follower.diagnostics.snapshot().source).toBe('leader tab'))
    follower.space.addItem('Milk') // made here, sent by the leader
    await saved(follower)
    // each tick (a second) asks again: the follower sees the leader's socket send the change
    await vi.waitFor(() => {
      timers.advance(1_000)
      const d = follower.diagnostics.snapshot()
      expect(d.messages.map((m) => `${m.dir} ${m.type}`)).toContain('out sync-update')
      expect(d.vectors.equal).toBe(true)
    })
    const d = follower.diagnostics.snapshot()
    expect(d.tab.role).toBe('follower')
    expect(d.connection).toMatchObject({ state: 'open', serverVersion: PROTOCOL_VERSION, error: null })
    expect(d.pending.count).toBe(0)
    expect(d.vectors.device).toEqual(leader.diagnostics.snapshot().vectors.device)
    expect(Object.keys(d.vectors.device)).toEqual([String(d.tab.id)]) // the change is the follower's own
    stop()
  })
})

describe('copying', () => {
  it('[DIAG-4] copyable is JSON of ids, numbers and types: no token, nothing of the space; with the app’s version, the browser and the engine', async () => {
    const server = makeServer()
    const token = 'w.Sup3r-Secret_Token'
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      token,
      navigator: { onLine: true, userAgent: 'TestBrowser/1.0' },
    })
    await saved(a)
    a.space.initialise('Flat Seven')
    a.space.addItem('Oat milk')
    a.space.createNote({ title: 'Party', body: 'bring the blue bowl' })
    await saved(a)
    const copied = a.diagnostics.copyable({ appVersion: '1.2.3' })
    const text = JSON.stringify(copied, null, 2)
    expect(JSON.parse(text)).toEqual(copied) // nothing that does not survive JSON (no bytes, no dates)
    for (const secret of [token, 'Sup3r', 'Flat Seven', 'Oat milk', 'Party', 'blue bowl'])
      expect(text).not.toContain(secret)
    expect(copied).toMatchObject({
      kind: 'converge-sync-diagnostics',
      appVersion: '1.2.3',
      userAgent: 'TestBrowser/1.0',
      engine: 'yjs',
      spaceId: 's1',
      status: 'saved',
      connection: { state: 'open', serverVersion: PROTOCOL_VERSION },
      pending: { count: 0, oldestAgeMs: null },
      vectors: { equal: true },
    })
    expect(copied.messages.some((m) => m.dir === 'out' && m.type === 'sync-update')).toBe(true)
  })
})
