/**
 * Presence (y-protocols awareness) across tabs, devices and reconnects, against the real server core.
 * Device A has two tabs (a leader and a follower, sharing a BroadcastChannel and a Web Lock); device
 * B has one. "At once" is `vi.waitFor`'s one second: without PRES-1/PRES-2 a vanished state comes
 * back only with y-protocols' 15-second renewal.
 */
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import { Origin, type SpaceSession } from '../src/index.js'
import { NEUTRAL_COLOR } from '../src/presence.js'
import { FakeBrowser } from './support/fake-browser.js'
import { type FakeServer, makeServer } from './support/fake-server.js'
import { fakeLocks } from './support/locks.js'
import { closeSessions, openSession as open } from './support/sessions.js'

afterEach(closeSessions)

const ids = (s: SpaceSession) => s.presence().map((p) => p.clientId)
const names = (s: SpaceSession) =>
  s
    .presence()
    .map((p) => p.name)
    .sort()

/** Device A with two tabs on `server`, device B, and everyone seeing everyone. */
const twoDevices = async (server: FakeServer) => {
  const browserA = new FakeBrowser()
  const a = {
    serverUrl: 'ws://x/sync',
    WebSocket: server.WebSocket,
    BroadcastChannel,
    locks: fakeLocks(),
    window: browserA.window,
    navigator: browserA.navigator,
    user: { name: 'Ana', color: '#c33' },
  }
  const leader = await open(a)
  const follower = await open(a)
  const b = await open({
    serverUrl: 'ws://x/sync',
    WebSocket: server.WebSocket,
    user: { name: 'Bo', color: '#33c' },
  })
  expect(leader.isLeader && !follower.isLeader).toBe(true)
  const tabs = [leader.awareness.clientID, follower.awareness.clientID]
  await vi.waitFor(() => expect(ids(b)).toEqual(expect.arrayContaining(tabs)))
  await vi.waitFor(() => expect(ids(follower)).toContain(b.awareness.clientID))
  return { browserA, leader, follower, b, tabs }
}

describe('presence', () => {
  it('[TAB-2] presence shows every tab and device, and drops those that leave', async () => {
    const server = makeServer()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      user: { name: 'Ana', color: '#c33' },
    })
    const b = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      user: { name: 'Bo', color: '#33c' },
    })
    await vi.waitFor(() => expect(names(a)).toEqual(['Ana', 'Bo']))
    expect(a.presence().find((p) => p.self)?.name).toBe('Ana')
    await b.destroy()
    await vi.waitFor(() => expect(a.presence().map((p) => p.name)).toEqual(['Ana']))
  })

  it('[PRES-1] after the leader goes offline and back, the others see every tab of the device again at once', async () => {
    const server = makeServer()
    const { browserA, follower, b, tabs } = await twoDevices(server)
    browserA.goOffline()
    await vi.waitFor(() => expect(ids(b)).not.toEqual(expect.arrayContaining(tabs.slice(0, 1))))
    expect(ids(b).filter((id) => tabs.includes(id))).toEqual([])
    browserA.goOnline()
    await vi.waitFor(() => expect(ids(b)).toEqual(expect.arrayContaining(tabs)))
    await vi.waitFor(() => expect(ids(follower)).toContain(b.awareness.clientID))
  })

  it('[PRES-1] after the server comes back, the others see every tab of the device again at once', async () => {
    const server = makeServer()
    const { b, follower, tabs } = await twoDevices(server)
    server.down()
    await vi.waitFor(() => expect(b.status.kind).toBe('unreachable'))
    server.up()
    await vi.waitFor(() => expect(b.status.kind).toBe('saved'), { timeout: 3000 })
    await vi.waitFor(() => expect(ids(b)).toEqual(expect.arrayContaining(tabs)))
    await vi.waitFor(() => expect(ids(follower)).toContain(b.awareness.clientID))
  })

  it('[PRES-2] a tab the server drops after it reconnected (its old socket closed late) announces itself again', async () => {
    const server = makeServer()
    const { browserA, leader, follower, b, tabs } = await twoDevices(server)
    server.lingerCloses() // the server hears of A's old socket only after A reconnected
    browserA.goOffline()
    browserA.goOnline()
    await vi.waitFor(() => expect(leader.status.kind).toBe('saved'))
    const dropped = new Set<number>()
    b.awareness.on('update', ({ removed }: { removed: number[] }) => removed.forEach((id) => dropped.add(id)))
    server.deliverCloses() // …and then removes every state that socket carried
    await vi.waitFor(() => expect([...dropped]).toEqual(expect.arrayContaining(tabs)))
    await vi.waitFor(() => expect(ids(b)).toEqual(expect.arrayContaining(tabs))) // and they are back
    for (const t of [leader, follower]) expect(t.presence().find((p) => p.self)?.name).toBe('Ana')
  })

  it('[PRES-2] a follower whose state the leader dropped (its socket closed) stays visible to the leader', async () => {
    const server = makeServer()
    const { leader, follower } = await twoDevices(server)
    server.down()
    await vi.waitFor(() => expect(leader.status.kind).toBe('unreachable'))
    await vi.waitFor(() => expect(ids(leader)).toEqual(expect.arrayContaining([follower.awareness.clientID])))
    expect(names(leader)).toEqual(['Ana', 'Ana']) // the device's two tabs; device B went with the socket
  })

  it('[PRES-3] the presence list holds only well-formed people, and only checked colours', async () => {
    const server = makeServer()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      user: { name: 'Ana', color: '#c33' },
    })
    // what a server of another version, or a hostile one, could relay: any JSON under any id
    const states: [number, unknown][] = [
      [1, { user: { name: 'Bo', color: '#3366CC' } }],
      [2, { user: { name: 'Cy', color: '#abc' } }],
      [3, { user: { name: 'Di', color: 'red;} body{display:none' } }],
      [4, { user: { name: 'Ed', color: 'url(https://x.test/t)' } }],
      [5, { user: { name: 'Flo' } }],
      [6, { user: { name: 'G'.repeat(500), color: '#123456' } }],
      [7, { user: { name: 42, color: '#123456' } }],
      [8, { user: 'Hal' }],
      [9, { cursor: null }],
      [10, 'Ivy'],
      [11, [1, 2]],
      [12, { user: { name: '<img src=x onerror=alert(1)>', color: '#fff' } }],
    ]
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, states.length)
    for (const [id, state] of states) {
      encoding.writeVarUint(e, id)
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, JSON.stringify(state))
    }
    awarenessProtocol.applyAwarenessUpdate(a.awareness, encoding.toUint8Array(e), Origin.Server)
    const others = a.presence().filter((p) => !p.self)
    expect(others).toEqual([
      { clientId: 1, name: 'Bo', color: '#3366cc', self: false, personId: null },
      { clientId: 2, name: 'Cy', color: '#aabbcc', self: false, personId: null },
      { clientId: 3, name: 'Di', color: NEUTRAL_COLOR, self: false, personId: null },
      { clientId: 4, name: 'Ed', color: NEUTRAL_COLOR, self: false, personId: null },
      { clientId: 5, name: 'Flo', color: NEUTRAL_COLOR, self: false, personId: null },
      { clientId: 6, name: 'G'.repeat(64), color: '#123456', self: false, personId: null },
      { clientId: 12, name: '<img src=x onerror=alert(1)>', color: '#ffffff', self: false, personId: null }, // text, for the app
    ])
    expect(a.presence().find((p) => p.self)).toEqual({
      clientId: a.awareness.clientID,
      name: 'Ana',
      color: '#cc3333',
      self: true,
      personId: null,
    })
  })

  it("[PRES-4] a person id passes only in its exact form: one person's tabs share it, two people of one name do not", async () => {
    const server = makeServer()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      user: { name: 'Ana', color: '#c33', id: 'p-ana' },
    })
    const states: [number, unknown][] = [
      [1, { user: { name: 'Alice', id: 'p-alice1' } }],
      [2, { user: { name: 'Alice', id: 'p-alice2' } }],
      [3, { user: { name: 'Alice', id: 'p-alice1' } }],
      [4, { user: { name: 'Bo', id: 'Not An Id' } }],
      [5, { user: { name: 'Cy', id: 7 } }],
      [6, { user: { name: 'Di', id: 'x'.repeat(65) } }],
    ]
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, states.length)
    for (const [id, state] of states) {
      encoding.writeVarUint(e, id)
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, JSON.stringify(state))
    }
    awarenessProtocol.applyAwarenessUpdate(a.awareness, encoding.toUint8Array(e), Origin.Server)
    const byClient = new Map(a.presence().map((p) => [p.clientId, p.personId]))
    expect([1, 2, 3, 4, 5, 6].map((c) => byClient.get(c))).toEqual([
      'p-alice1',
      'p-alice2',
      'p-alice1',
      null,
      null,
      null,
    ])
    expect(a.presence().find((p) => p.self)?.personId).toBe('p-ana')
  })
})
