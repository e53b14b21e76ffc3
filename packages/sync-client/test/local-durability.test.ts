/**
 * A session's writes to the device's storage (SPEC.md, "Device storage", LOCAL-n): handed over in the
 * task they are made, behind nothing; counted as saved only once their transaction completed; the
 * pending count kept in memory; a long log compacted on open; the page's last moments.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { type ChangeOrigin, IdbStore, type PageEvents } from '../src/index.js'
import { makeServer } from './support/fake-server.js'
import { fakeLocks } from './support/locks.js'
import { MemoryLocal, SlowLocal } from './support/local-stores.js'
import { closeSessions, openSession as open } from './support/sessions.js'

afterEach(async () => {
  await closeSessions()
  vi.restoreAllMocks()
})

/** A MemoryLocal whose every append waits until the test completes it, one by one. */
class GatedLocal extends MemoryLocal {
  /** Appends asked for and not completed yet, oldest first. */
  readonly waiting: (() => void)[] = []
  override append(s: string, update: Uint8Array, origin: ChangeOrigin) {
    this.calls.push('append asked')
    return new Promise<void>((resolve) =>
      this.waiting.push(() => {
        void super.append(s, update, origin).then(resolve)
      }),
    )
  }
  /** Completes the `i`-th waiting append. */
  complete(i = 0): void {
    this.waiting.splice(i, 1)[0]!()
  }
}

/** The page's lifecycle events, fired by the test. */
const fakePage = () => {
  const target = new EventTarget()
  return {
    page: target as unknown as PageEvents,
    fire: (type: string) => target.dispatchEvent(new Event(type)),
  }
}

const pendingOf = (s: { status: { kind: string } }) => (s.status as { pending?: number }).pending ?? 0

describe('device storage', () => {
  it('[LOCAL-1] every change is handed to storage at once, behind no earlier write', async () => {
    const local = new GatedLocal()
    const a = await open({ serverUrl: null, store: local })
    for (const name of ['Tea', 'Jam', 'Oats']) a.space.addItem(name)
    // none completed, and all three were asked for in the task they were made
    expect(local.calls).toEqual(['append asked', 'append asked', 'append asked'])
    expect(a.unsavedLocally).toBe(3)
    // completions are tracked write by write: the last one first
    local.complete(2)
    await vi.waitFor(() => expect(a.unsavedLocally).toBe(2))
    local.complete(0)
    local.complete(0)
    await vi.waitFor(() => expect(a.unsavedLocally).toBe(0))
    expect(local.records.map((r) => r.origin!.clock)).toHaveLength(3)
  })

  it('[LOCAL-1] a compaction held open delays no write issued after it', async () => {
    const local = new SlowLocal()
    const a = await open({ serverUrl: null, store: local, compactEvery: 2 })
    local.holdCompaction = true
    a.space.addItem('Tea')
    a.space.addItem('Jam')
    await vi.waitFor(() => expect(local.compacting).toBe(1)) // the second write started one
    a.space.addItem('Oats')
    await vi.waitFor(() => expect(a.unsavedLocally).toBe(0))
    expect(local.records).toHaveLength(3) // stored while the compaction is still running
    expect(local.compacting).toBe(1)
    expect(pendingOf(a)).toBe(3)
    local.releaseCompaction()
    await a.flush()
    expect(local.calls.filter((c) => c === 'compact')).toHaveLength(1)
  })

  it('[LOCAL-1] IndexedDB: a change made while a compaction runs is saved before the compaction is', async () => {
    const store = await IdbStore.open({ indexedDB: new IDBFactory() })
    const a = await open({ serverUrl: null, store, compactEvery: 10_000 })
    for (let i = 0; i < 120; i++) a.space.addItem(`item ${i}`)
    await a.flush()
    const order: string[] = []
    const compacted = store.compact('s1').then(() => order.push('compaction'))
    a.subscribe(() => {
      if (a.unsavedLocally === 0 && !order.includes('saved')) order.push('saved')
    })
    a.space.addItem('Tea')
    await compacted
    await a.flush()
    expect(order).toEqual(['saved', 'compaction'])
    store.close()
  })

  it('[LOCAL-2] "saved on this device" only once the transaction completed', async () => {
    const local = new GatedLocal()
    const a = await open({ serverUrl: null, store: local })
    const seen: [number, number][] = []
    a.subscribe(() => seen.push([a.unsavedLocally, pendingOf(a)]))
    a.space.addItem('Tea')
    expect(a.unsavedLocally).toBe(1)
    expect(a.status).toEqual({ kind: 'offline', pending: 0 }) // not counted as kept yet
    local.complete()
    await vi.waitFor(() => expect(a.unsavedLocally).toBe(0))
    expect(a.status).toEqual({ kind: 'offline', pending: 1 })
    // subscribers heard it go to 1 unsaved, then to 0 unsaved and 1 kept
    expect(seen[0]).toEqual([1, 0])
    expect(seen.at(-1)).toEqual([0, 1])

    // with IndexedDB: when it says 0, another connection already reads the change
    const indexedDB = new IDBFactory()
    const store = await IdbStore.open({ indexedDB })
    const b = await open({ serverUrl: null, store, spaceId: 's2' })
    const loaded: Promise<number>[] = []
    b.subscribe(() => {
      if (b.unsavedLocally === 0 && loaded.length === 0)
        loaded.push(IdbStore.open({ indexedDB }).then(async (other) => (await other.load('s2')).records))
    })
    b.space.addItem('Jam')
    expect(b.unsavedLocally).toBe(1)
    await vi.waitFor(() => expect(loaded).toHaveLength(1))
    expect(await loaded[0]).toBe(1)
    store.close()
  })

  it('[LOCAL-3] the pending count is kept in memory: no read of the log per write or per ack', async () => {
    const server = makeServer()
    const store = await IdbStore.open({ indexedDB: new IDBFactory() })
    const reads = vi.spyOn(store, 'unconfirmed')
    const counts = vi.spyOn(store, 'pendingCount')
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    const atOpen = reads.mock.calls.length // on open, and when it started to lead
    expect(atOpen).toBeLessThanOrEqual(2)
    for (let i = 0; i < 5; i++) a.space.addItem(`online ${i}`)
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    await a.flush()
    server.down()
    await vi.waitFor(() => expect(a.status.kind).not.toBe('saved'))
    for (let i = 0; i < 30; i++) a.space.addItem(`offline ${i}`)
    await a.flush()
    expect(pendingOf(a)).toBe(30)
    expect(reads.mock.calls.length).toBe(atOpen)
    expect(counts).not.toHaveBeenCalled()
    // what it counted is what is stored (read here by the test: one read)
    expect(await store.pendingCount('s1')).toBe(30)
    server.up()
    a.goOnline()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), { timeout: 3000 })
    await a.flush()
    expect(reads.mock.calls.length).toBe(atOpen + 1)
    expect(await store.pendingCount('s1')).toBe(0)
    // the acks were stored: offline again, nothing is counted as kept
    server.down()
    await vi.waitFor(() => expect(a.status.kind).not.toBe('saved'))
    expect(pendingOf(a)).toBe(0)
    store.close()
  })

  it('[LOCAL-3] a follower names the changes it stored; the leader counts them without reading the log', async () => {
    const server = makeServer()
    server.down()
    const local = new MemoryLocal()
    const opts = {
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      locks: fakeLocks(),
      BroadcastChannel,
      store: local,
    }
    const t1 = await open(opts)
    const t2 = await open(opts)
    expect(t1.isLeader).toBe(true)
    const reads = local.reads
    t2.space.addItem('Milk')
    t2.space.addItem('Eggs')
    for (const t of [t1, t2]) await vi.waitFor(() => expect(pendingOf(t)).toBe(2))
    expect(local.reads).toBe(reads)
    // a tab of an earlier version says only that it stored something: the leader reads the count
    const old = new BroadcastChannel('converge:s1')
    local.records.push({ update: new Uint8Array([0, 0]), origin: { clientId: 7, clock: 1 } })
    old.postMessage({ t: 'stored' })
    await vi.waitFor(() => expect(pendingOf(t1)).toBe(3))
    expect(local.reads).toBe(reads + 1)
    old.close()
  })

  it('[LOCAL-3] the tab that takes over the lead reads what is pending once', async () => {
    const server = makeServer()
    server.down()
    const local = new MemoryLocal()
    const opts = {
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      locks: fakeLocks(),
      BroadcastChannel,
      store: local,
    }
    const t1 = await open(opts)
    const t2 = await open(opts)
    t1.space.addItem('Milk')
    await vi.waitFor(() => expect(pendingOf(t2)).toBe(1)) // t2 shows the leader's status
    const reads = local.reads
    await t1.destroy()
    await vi.waitFor(() => expect(t2.isLeader).toBe(true))
    await vi.waitFor(() => expect(pendingOf(t2)).toBe(1)) // Milk was t1's: known from storage
    expect(local.reads).toBe(reads + 1)
  })

  it('[LOCAL-4] a long log is compacted when the space opens', async () => {
    const indexedDB = new IDBFactory()
    const store = await IdbStore.open({ indexedDB })
    const a = await open({ serverUrl: null, store, compactEvery: 10_000 })
    for (let i = 0; i < 60; i++) a.space.addItem(`item ${i}`)
    await a.flush()
    const state = a.space.snapshot()
    await a.destroy()
    expect((await store.load('s1')).records).toBe(60)
    const again = await open({ serverUrl: null, store })
    expect(again.space.snapshot()).toEqual(state)
    await again.flush()
    expect((await store.load('s1')).records).toBe(0) // all in the snapshot
    expect(pendingOf(again)).toBe(60)
    expect(await store.pendingCount('s1')).toBe(60)
    // a short log is left as it is
    for (let i = 0; i < 10; i++) again.space.addItem(`more ${i}`)
    await again.destroy()
    await (await open({ serverUrl: null, store })).flush()
    expect((await store.load('s1')).records).toBe(10)
    store.close()
  })

  it('[LOCAL-4] many short sessions keep the log short', async () => {
    const store = await IdbStore.open({ indexedDB: new IDBFactory() })
    const sizes: number[] = []
    for (let session = 0; session < 12; session++) {
      const s = await open({ serverUrl: null, store })
      for (let i = 0; i < 20; i++) s.space.addItem(`s${session} i${i}`)
      await s.destroy()
      sizes.push((await store.load('s1')).records)
    }
    // without compaction on open: 20, 40, …, 240 records (fewer than 200 writes in each session)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50 + 20)
    const last = await open({ serverUrl: null, store })
    expect(last.space.items()).toHaveLength(12 * 20)
    store.close()
  })

  it('[LOCAL-5] pagehide, visibilitychange and freeze issue the appends of the task at once', async () => {
    for (const type of ['pagehide', 'visibilitychange', 'freeze']) {
      const store = await IdbStore.open({ indexedDB: new IDBFactory() })
      const { page, fire } = fakePage()
      const a = await open({ serverUrl: null, store, page })
      const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction')
      a.space.addItem('Tea')
      expect(transaction).not.toHaveBeenCalled() // held for the end of the task
      fire(type)
      expect(transaction.mock.calls.map((c) => c[1])).toEqual(['readwrite']) // issued in the same task
      transaction.mockRestore()
      await vi.waitFor(() => expect(a.unsavedLocally).toBe(0))
      expect((await store.load('s1')).records).toBe(1)
      await a.destroy()
      store.close()
    }
  })

  it('[LOCAL-5] a closed session stops listening to the page', async () => {
    const listening = new Map<string, number>()
    const page: PageEvents = {
      addEventListener: (type) => listening.set(type, (listening.get(type) ?? 0) + 1),
      removeEventListener: (type) => listening.set(type, (listening.get(type) ?? 0) - 1),
    }
    const a = await open({ serverUrl: null, store: new MemoryLocal(), page })
    expect(Object.fromEntries(listening)).toEqual({ pagehide: 1, visibilitychange: 1, freeze: 1 })
    await a.destroy()
    expect(Object.fromEntries(listening)).toEqual({ pagehide: 0, visibilitychange: 0, freeze: 0 })
  })

  it('[SYNC-9] an ack waits for the writes before it, never for the ones after', async () => {
    const server = makeServer()
    const local = new GatedLocal()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store: local })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    await vi.waitFor(() => expect(local.waiting).toHaveLength(0))
    const before = local.calls.length
    const calls = () => local.calls.slice(before)
    a.space.addItem('Milk')
    const milk = Y.getState(a.doc!.store, a.doc!.clientID)
    await vi.waitFor(() => expect(a.status.kind).toBe('saved')) // the server committed Milk
    expect(calls()).toEqual(['append asked']) // its ack waits for Milk's write
    a.space.addItem('Eggs')
    expect(calls()).toEqual(['append asked', 'append asked'])
    local.complete(0) // Milk is stored: now its ack
    await vi.waitFor(() => expect(calls()).toContain('setAcked'))
    expect(local.waiting).toHaveLength(1) // Eggs is still being written, and the ack did not wait for it
    expect(local.acked.get(a.doc!.clientID)).toBe(milk)
    local.complete(0)
    await vi.waitFor(() => expect(a.unsavedLocally).toBe(0))
  })
})
