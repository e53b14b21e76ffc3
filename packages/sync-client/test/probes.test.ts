/**
 * Consistency you can watch, the device's side (SPEC.md PROBE-2, PROBE-3): the leader's connection
 * reports how far behind the device is, and a saved device sends a digest of its state, which a
 * server that finds it different answers with a full exchange (server-core PROBE-4, PROBE-5). Time is
 * a stepped clock; the fake server keeps what the client sent of reports and digests (`server.probes`).
 */
import { type YjsEngine, openSpace } from '@converge/merge'
import { encodeMessage } from '@converge/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { DIGEST_MS, HEARTBEAT_MS, REPORT_MS } from '../src/index.js'
import { FakeBrowser } from './support/fake-browser.js'
import { makeServer } from './support/fake-server.js'
import { MemoryLocal } from './support/local-stores.js'
import { closeSessions, openSession as open } from './support/sessions.js'
import { SteppedTimers } from './support/stepped-timers.js'

afterEach(closeSessions)

const ONE_HOUR = 3_600_000

/** A session on the fake server with a stepped clock and a device store. */
const setup = async (server = makeServer()) => {
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
  await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
  /**
   * Moves the clock `ms` on, a heartbeat period at a time, letting the server answer each heartbeat
   * (its frames arrive in microtasks): a live server is never dropped for the time passing.
   */
  const pass = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= HEARTBEAT_MS) {
      timers.advance(Math.min(HEARTBEAT_MS, left))
      await server.delivered()
    }
  }
  return { server, timers, fake, a, pass }
}

/** A digest's or a space's bytes, to compare (a hash may be a Buffer on Node). */
const bytes = (u: Uint8Array | undefined): number[] => [...(u ?? [])]
/** A digest as sent, to compare with what the space says. */
const digestOf = (d: { vector: Uint8Array; hash: Uint8Array } | undefined) =>
  d && { vector: bytes(d.vector), hash: bytes(d.hash) }
const spaceDigest = (s: { stateVector(): Uint8Array; stateDigest(): Uint8Array }) => ({
  vector: bytes(s.stateVector()),
  hash: bytes(s.stateDigest()),
})

const reports = (server: ReturnType<typeof makeServer>) => server.probes.filter((p) => p.type === 'report')
const digests = (server: ReturnType<typeof makeServer>) => server.probes.filter((p) => p.type === 'digest')

describe('reports', () => {
  it('[PROBE-2] a device reports every REPORT_MS how far behind it is: its oldest unconfirmed change’s age and the time since the last ack', async () => {
    const { server, a, pass } = await setup()
    await pass(REPORT_MS)
    // saved: nothing unconfirmed; the ack of the handshake came at 0
    expect(reports(server)).toEqual([{ type: 'report', unconfirmedAgeMs: null, sinceAckMs: REPORT_MS }])

    // the server's disk stalls: a change made at 12 s waits for its commit
    server.store.hold = true
    await pass(2_000)
    a.space.addItem('Milk')
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'syncing', pending: 1 }))
    await pass(REPORT_MS - 2_000)
    expect(reports(server).at(-1)).toEqual({
      type: 'report',
      unconfirmedAgeMs: REPORT_MS - 2_000,
      sinceAckMs: 2 * REPORT_MS,
    })
    await pass(REPORT_MS)
    expect(reports(server).at(-1)).toEqual({
      type: 'report',
      unconfirmedAgeMs: 2 * REPORT_MS - 2_000,
      sinceAckMs: 3 * REPORT_MS,
    })

    // committed and acknowledged at 30 s: nothing unconfirmed again, the ack 10 s old at the next report
    server.store.release()
    server.store.hold = false
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    await pass(REPORT_MS)
    expect(reports(server).at(-1)).toEqual({ type: 'report', unconfirmedAgeMs: null, sinceAckMs: REPORT_MS })
    expect(reports(server)).toHaveLength(4)
    expect(a.diagnostics.snapshot().probes.reportsSent).toBe(4)
  })

  it('[PROBE-2] reports go only over an open socket, and only to a server of version 5 or later', async () => {
    const { server, fake, pass, a } = await setup()
    fake.goOffline()
    await pass(ONE_HOUR)
    expect(reports(server)).toHaveLength(0) // no socket: nothing to report on
    fake.goOnline()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(server.connects).toBe(2)
    await pass(REPORT_MS)
    expect(reports(server)).toHaveLength(1)

    // a server of version 4 takes neither reports nor digests
    const old = makeServer()
    old.sayVersion(4)
    const b = await setup(old)
    await b.pass(ONE_HOUR)
    expect(old.probes).toEqual([])
    expect(b.a.connectionState?.connected).toBe(true)
  })
})

describe('digests', () => {
  it('[PROBE-3] a saved device sends a digest of its state when it turns saved, then at most every DIGEST_MS while it stays saved', async () => {
    const { server, a, pass } = await setup()
    // saved at 0: the digest goes at once, with the space's vector and hash
    expect(digests(server).map(digestOf)).toEqual([spaceDigest(a.space)])

    // saved again after an edit at 5 s: not before 30 s, when the next one is due
    await pass(5_000)
    a.space.addItem('Milk')
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(digests(server)).toHaveLength(1)
    await pass(DIGEST_MS - 5_000)
    expect(digests(server)).toHaveLength(2)
    expect(digestOf(digests(server)[1])).toEqual(spaceDigest(a.space))

    // while it stays saved, one every DIGEST_MS
    await pass(DIGEST_MS)
    expect(digests(server)).toHaveLength(3)

    // not saved (a change waits for its commit): none, however long
    server.store.hold = true
    a.space.addItem('Eggs')
    await vi.waitFor(() => expect(a.status.kind).toBe('syncing'))
    await pass(3 * DIGEST_MS)
    expect(a.connectionState?.connected).toBe(true)
    expect(digests(server)).toHaveLength(3)
    // saved again, 90 s after the last one: at once
    server.store.release()
    server.store.hold = false
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(digests(server)).toHaveLength(4)
    expect(digestOf(digests(server)[3])).toEqual(spaceDigest(a.space))
  })

  it('[PROBE-3] a digest the server finds different is answered by a full exchange, which brings the device back to the server’s state', async () => {
    const { server, a, pass } = await setup()
    const note = a.space.createNote({ title: 'List', body: 'oat milk' })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    await pass(DIGEST_MS)
    const sent = digests(server).at(-1)
    expect(digestOf(sent)).toEqual(spaceDigest(a.space))

    // the server's copy differs by a deletion this device missed: one vector, two states (merge PROBE-1)
    const copy = openSpace({ engine: 'yjs', spaceId: 's1', state: a.space.encodeStateAsUpdate() })
    ;(copy.engine as YjsEngine).doc.getText(`body:${note}`).delete(0, 4)
    expect(bytes(copy.stateVector())).toEqual(bytes(sent?.vector))
    expect(bytes(copy.stateDigest())).not.toEqual(bytes(sent?.hash))

    const whole = a.space.encodeStateAsUpdate().length
    // …so it answers with a full exchange (PROTOCOL.md §P12.2, server-core PROBE-5): its whole state
    // in a sync-step2, and a sync-step1 with an empty vector asking for the device's
    server.sendToAll(encodeMessage({ type: 'sync-step2', update: copy.encodeStateAsUpdate() }))
    server.sendToAll(encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }))
    expect(a.space.note(note)?.body).toBe('milk')
    expect(spaceDigest(a.space)).toEqual(spaceDigest(copy))
    // the device sent its whole state in answer, the deletion included
    const out = a.diagnostics.snapshot().messages.filter((m) => m.dir === 'out')
    expect(out.at(-1)?.type).toBe('sync-step2')
    expect(out.at(-1)?.bytes).toBeGreaterThan(whole)
    // the next digest says the two are one again
    await pass(DIGEST_MS)
    expect(digestOf(digests(server).at(-1))).toEqual(spaceDigest(copy))
    copy.destroy()
  })
})
