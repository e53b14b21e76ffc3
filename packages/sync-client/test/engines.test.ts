/**
 * ENG-1…ENG-3: a session on a space of either engine, against the real server core in process —
 * the same status, the same device storage (IndexedDB through fake-indexeddb), the same rules.
 */
import 'fake-indexeddb/auto'
import type { EngineKind } from '@converge/merge'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IdbStore, statusText } from '../src/index.js'
import { makeServer } from './support/fake-server.js'
import { closeSessions, openSession as open } from './support/sessions.js'

afterEach(closeSessions)

const serverOf = (engine: EngineKind) => makeServer(undefined, { spaceEngine: () => Promise.resolve(engine) })

describe.each(['yjs', 'automerge'] as const)('a %s space', (engine) => {
  it('[ENG-1] two devices converge; the status goes syncing → saved only after the commit', async () => {
    const server = serverOf(engine)
    const a = await open({ engine, serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    const b = await open({ engine, serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    expect(a.space.engineKind).toBe(engine)
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    server.store.hold = true
    a.space.addItem('Milk')
    const note = a.space.createNote({ title: 'List', body: 'oat milk' })
    await vi.waitFor(() => expect(b.space.note(note)?.body).toBe('oat milk'))
    expect(a.status.kind).toBe('syncing') // relayed, but not committed: not "saved"
    server.store.release()
    server.store.hold = false
    await vi.waitFor(() => expect(a.status.kind).toBe('saved'))
    b.space.increment('milk')
    await vi.waitFor(() => expect(a.space.item('milk')?.quantity).toBe(2))
    await vi.waitFor(() => expect(b.status.kind).toBe('saved'))
    expect(a.space.snapshot()).toEqual(b.space.snapshot())
    expect(statusText(a.status)).toBe('all changes saved to the server')
  })

  it('[ENG-2] offline edits are stored on the device, survive a reload with their pending count, and are confirmed on reconnect', async () => {
    const indexedDB = new IDBFactory()
    const server = serverOf(engine)
    server.down()
    const store = await IdbStore.open({ indexedDB })
    const a = await open({ engine, serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    a.space.addItem('Oats')
    a.space.increment('oats')
    await a.flush()
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'unreachable', pending: 2 }))
    await a.destroy()
    const again = await open({ engine, serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    expect(again.space.item('oats')?.quantity).toBe(2)
    await vi.waitFor(() => expect(again.status).toEqual({ kind: 'unreachable', pending: 2 }))
    server.up()
    again.goOnline()
    await vi.waitFor(() => expect(again.status.kind).toBe('saved'), { timeout: 3000 })
    await vi.waitFor(async () => expect(await store.pendingCount('s1')).toBe(0))
    const b = await open({ engine, serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(b.space.item('oats')?.quantity).toBe(2))
    store.close()
  })

  it('[ENG-3] the device log compacts into one snapshot that reopens the same, with what is pending', async () => {
    const indexedDB = new IDBFactory()
    const store = await IdbStore.open({ indexedDB })
    const server = serverOf(engine)
    server.down()
    const a = await open({
      engine,
      serverUrl: 'ws://x/sync',
      WebSocket: server.WebSocket,
      store,
      compactEvery: 5,
    })
    for (let i = 0; i < 12; i++) a.space.addItem(`item ${i}`)
    a.space.createNote({ title: 'n', body: 'kept through compaction' })
    await a.flush()
    const snapshot = a.space.snapshot()
    await a.destroy()
    const { records } = await store.load('s1')
    expect(records).toBeLessThan(13) // compacted at least once
    const again = await open({ engine, serverUrl: null, store })
    expect(again.space.snapshot()).toEqual(snapshot)
    expect(await store.pendingCount('s1')).toBe(13)
    store.close()
  })
})

describe('[ENG-1] a device that opened a space with another engine', () => {
  it('is stopped with UnsupportedEngine and applies nothing of the space', async () => {
    const server = serverOf('automerge')
    const am = await open({ engine: 'automerge', serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    am.space.addItem('Milk')
    await vi.waitFor(() => expect(am.status.kind).toBe('saved'))
    const yjs = await open({ engine: 'yjs', serverUrl: 'ws://x/sync', WebSocket: server.WebSocket })
    await vi.waitFor(() => expect(yjs.status.kind).toBe('error'))
    expect(yjs.connectionState?.error).toMatchObject({ kind: 'UnsupportedEngine', next: 'stop' })
    expect(statusText(yjs.status)).toMatch(/not syncing/)
    expect(yjs.space.items()).toEqual([])
    expect(am.connectionState?.error).toBeNull()
  })
})
