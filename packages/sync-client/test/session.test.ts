/**
 * A SpaceSession against the real server core in process (test/support/fake-server.ts): status,
 * device storage, tabs. Names cite the rule ids of SPEC.md (SYNC-n, TAB-n).
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { IdbStore, statusText } from '../src/index.js'
import { makeServer } from './support/fake-server.js'
import { FullLocal, MemoryLocal, SlowLocal } from './support/local-stores.js'
import { fakeLocks } from './support/locks.js'
import { closeSessions, openSession as open } from './support/sessions.js'

afterEach(closeSessions)

describe('values stored before a rule existed', () => {
  it('[SYNC-10] a space whose server copy holds a value BAD-7 refuses still opens and syncs on a new device', async () => {
    const server = makeServer()
    // what a server kept before BAD-7: a space with a note time of 1e300, straight in its storage
    const old = new Y.Doc()
    old.getMap('meta').set('schema', 1)
    old.getMap('meta').set('id', 's1')
    old.getMap('items').set('milk\u001fname', 'Milk')
    old.getMap('qty').set(`milk\u001f${'a'.repeat(16)}\u001f1.${'a'.repeat(16)}`, '1:0')
    old.getMap('notes').set('n1\u001fcreatedAt', 1e300)
    server.store.data.set('s1', [Y.encodeStateAsUpdate(old)])
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(a.space.item('milk')?.quantity).toBe(1))
    expect(a.legacyValues).toBe(1)
    a.space.addItem('Bread')
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(b.space.items().map((i) => i.key)).toEqual(['milk', 'bread']))
  })
})

describe('status', () => {
  it('[SYNC-1] two devices converge; the status goes syncing → saved only after the commit', async () => {
    const server = makeServer()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    server.store.hold = true
    a.space.addItem('Milk')
    await vi.waitFor(() => expect(b.space.item('milk')?.quantity).toBe(1))
    expect(a.status.kind).toBe('syncing') // relayed, but not committed: not "saved"
    server.store.release()
    server.store.hold = false
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    expect(statusText(a.status)).toBe('all changes saved to the server')
  })

  it('[SYNC-2] offline edits are counted, then synced and confirmed on reconnect', async () => {
    const server = makeServer()
    const local = new MemoryLocal()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store: local })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    server.down()
    await vi.waitFor(() => expect(a.status.kind).toBe('unreachable'))
    a.space.addItem('Eggs')
    a.space.addItem('Bread')
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'unreachable', pending: 2 }))
    expect(statusText(a.status)).toBe("can't reach the server — changes saved here")
    server.up()
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'), { timeout: 3000 })
    await vi.waitFor(async () => expect(await local.pendingCount()).toBe(0))
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(b.space.items().map((i) => i.key)).toEqual(['eggs', 'bread']))
  })

  it('[SYNC-7] a change the server confirmed is never counted as pending, even before its ack is stored', async () => {
    const server = makeServer()
    const local = new SlowLocal()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store: local })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    await a.flush()
    // the device's storage lags behind: the change and its ack wait in the session's write queue
    local.hold = true
    a.space.addItem('Milk')
    await vi.waitFor(() => expect(a.status.kind).toBe('saved')) // the server's durable ack covers it
    const seen: string[] = []
    a.subscribe(() => seen.push(statusText(a.status)))
    server.down()
    await vi.waitFor(() => expect(a.status.kind).toBe('unreachable'))
    local.release() // the append lands first, then the ack: in between the store counts Milk as pending
    await a.flush()
    expect(await local.pendingCount()).toBe(0)
    expect(seen.length).toBeGreaterThan(0)
    expect(new Set(seen)).toEqual(new Set(["can't reach the server — trying again"]))
  })
})

describe('device storage', () => {
  it('[SYNC-5] the stored state opens without the server and without writing anything back', async () => {
    const local = new MemoryLocal()
    const a = await open({ serverUrl: null, store: local })
    a.space.addItem('Tea')
    a.space.createNote({ title: 'n', body: 'text' })
    await a.flush()
    const written = local.records.length
    await a.destroy()
    const again = await open({ serverUrl: null, store: local })
    expect(again.space.item('tea')?.quantity).toBe(1)
    expect(again.space.notes()[0]?.body).toBe('text')
    await again.flush()
    expect(local.records.length).toBe(written)
  })

  it('[SYNC-6] offline edits survive a reload with their pending count; reopening writes nothing', async () => {
    const indexedDB = new IDBFactory()
    const server = makeServer()
    server.down()
    const store = await IdbStore.open({ indexedDB })
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    a.space.addItem('Oats')
    a.space.increment('oats')
    await a.flush()
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'unreachable', pending: 2 }))
    await a.destroy()
    const before = (await store.load('s1')).records
    const again = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    expect(again.space.item('oats')?.quantity).toBe(2)
    await vi.waitFor(() => expect(again.status).toEqual({ kind: 'unreachable', pending: 2 }))
    await again.flush()
    expect((await store.load('s1')).records).toBe(before)
    server.up()
    again.goOnline()
    await vi.waitFor(() => expect(again.status.kind).toBe('saved'), { timeout: 3000 })
    await vi.waitFor(async () => expect(await store.pendingCount('s1')).toBe(0))
    store.close()
  })

  it('[SYNC-9] writes are stored in the order they were made, and the log is compacted every compactEvery writes', async () => {
    const local = new SlowLocal()
    const a = await open({ serverUrl: null, store: local, compactEvery: 3 })
    local.hold = true
    for (const name of ['Tea', 'Jam', 'Oats', 'Rice']) a.space.addItem(name)
    local.release()
    await a.flush()
    // all four were handed over at once (LOCAL-1); the third to complete started a compaction beside them
    expect(local.calls).toEqual(['append', 'append', 'append', 'append', 'compact'])
    const clocks = local.records.map((r) => r.origin!.clock)
    expect(clocks).toEqual([...clocks].sort((x, y) => x - y)) // in the order they were made
    expect(a.status).toEqual({ kind: 'offline', pending: 4 })
  })

  it('[SYNC-9] a storage failure switches the session to memory only, said once; it goes on syncing', async () => {
    const server = makeServer()
    const local = new FullLocal()
    const onStoreError = vi.fn()
    const a = await open({
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      store: local,
      onStoreError,
    })
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    const notified = vi.fn()
    a.subscribe(notified)
    local.full = true
    a.space.addItem('Milk')
    await a.flush()
    expect(a.storageFailed).toBe(true)
    expect(onStoreError).toHaveBeenCalledTimes(1)
    expect((onStoreError.mock.calls[0]![0] as DOMException).name).toBe('QuotaExceededError')
    expect(notified).toHaveBeenCalled()
    const asked = local.calls.length
    a.space.addItem('Bread')
    await a.flush()
    expect(local.calls.length).toBe(asked) // nothing more is written
    expect(onStoreError).toHaveBeenCalledTimes(1)
    await vi.waitFor(() => expect(a.status.kind).toBe('saved')) // the server has both
    const b = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(b.space.items().map((i) => i.key)).toEqual(['milk', 'bread']))
  })
})

describe('tabs', () => {
  it('[TAB-1] tabs share edits with the server down; one leader; leadership moves when it closes', async () => {
    const server = makeServer()
    server.down()
    const locks = fakeLocks()
    const opts = { serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, locks, BroadcastChannel }
    const t1 = await open(opts)
    const t2 = await open(opts)
    const t3 = await open(opts)
    expect([t1, t2, t3].filter((t) => t.isLeader)).toEqual([t1])
    t2.space.addItem('Jam')
    await vi.waitFor(() => expect(t3.space.item('jam')?.quantity).toBe(1))
    await vi.waitFor(() => expect(t1.space.item('jam')?.quantity).toBe(1))
    await t1.destroy()
    await vi.waitFor(() => expect(t2.isLeader || t3.isLeader).toBe(true))
    server.up()
    await vi.waitFor(() => expect([t2, t3].every((t) => t.status.kind === 'saved')).toBe(true), {
      timeout: 3000,
    })
    const device2 = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(device2.space.item('jam')?.quantity).toBe(1))
  })

  it('[TAB-1] every tab shows the leader status, including the changes other tabs stored', async () => {
    const server = makeServer()
    server.down()
    const locks = fakeLocks()
    const local = new MemoryLocal()
    const opts = {
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      locks,
      BroadcastChannel,
      store: local,
    }
    const t1 = await open(opts)
    const t2 = await open(opts)
    t2.space.addItem('Milk')
    for (const t of [t1, t2])
      await vi.waitFor(() => expect(t.status).toEqual({ kind: 'unreachable', pending: 1 }))
  })
})
