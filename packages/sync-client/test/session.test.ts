/**
 * The sync client against the real server core, in process: a WebSocket stand-in hands frames to
 * `SyncCore` (the same core apps/server runs under real sockets). Names cite rule ids SYNC-n / TAB-n.
 */
import 'fake-indexeddb/auto'
import { type AuthDecision, type Persistence, type StoredSpace, SyncCore } from '@converge/server-core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type LocalStore, type SessionOptions, SpaceSession, backoffDelay, statusText } from '../src/index.js'

class Store implements Persistence {
  data = new Map<string, Uint8Array[]>()
  hold = false
  private held: (() => void)[] = []
  release(): void {
    for (const f of this.held.splice(0)) f()
  }
  registerSpace(): Promise<boolean> {
    return Promise.resolve(true)
  }
  load(id: string): Promise<StoredSpace> {
    const updates = this.data.get(id) ?? []
    return Promise.resolve({ snapshot: null, updates, lastSeq: updates.length, bytes: 0 })
  }
  async append(id: string, updates: readonly Uint8Array[]): Promise<number> {
    if (this.hold) await new Promise<void>((r) => this.held.push(r))
    const list = this.data.get(id) ?? []
    list.push(...updates)
    this.data.set(id, list)
    return list.length
  }
  compact(): Promise<void> {
    return Promise.resolve()
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

const auth = (_space: string, token: string | null): Promise<AuthDecision> =>
  Promise.resolve(
    token === 'w' ? { ok: true, access: 'write' } : { ok: false, kind: 'Unauthorized', reason: 'bad token' },
  )

/** A server whose "network" can be switched off: new sockets fail, open ones are dropped. */
const makeServer = (store = new Store()) => {
  const core = new SyncCore({ persistence: store, authenticate: auth })
  let up = true
  const open = new Set<FakeSocket>()
  let connects = 0
  class FakeSocket {
    readonly OPEN = 1
    readyState = 0
    binaryType = 'arraybuffer'
    onopen: (() => void) | null = null
    onmessage: ((e: { data: ArrayBuffer }) => void) | null = null
    onclose: ((e: { code: number; reason: string }) => void) | null = null
    private handle: ReturnType<SyncCore['connect']> | null = null
    constructor(url: string) {
      connects++
      const u = new URL(url)
      const space = decodeURIComponent(u.pathname.split('/').pop() ?? '')
      setTimeout(() => {
        if (!up) return this.drop(1006)
        this.readyState = 1
        open.add(this)
        this.handle = core.connect(
          {
            send: (d) => {
              const copy = d.slice().buffer
              queueMicrotask(() => this.readyState === 1 && this.onmessage?.({ data: copy }))
            },
            close: (code, reason) => this.drop(code, reason),
          },
          space,
          u.searchParams.get('token'),
        )
        this.onopen?.()
      }, 1)
    }
    send(d: Uint8Array): void {
      this.handle?.handleMessage(new Uint8Array(d))
    }
    close(): void {
      this.drop(1000)
    }
    drop(code: number, reason = ''): void {
      if (this.readyState === 3) return
      this.readyState = 3
      open.delete(this)
      this.handle?.handleClose()
      queueMicrotask(() => this.onclose?.({ code, reason }))
    }
  }
  return {
    core,
    store,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    get connects() {
      return connects
    },
    down() {
      up = false
      for (const s of [...open]) s.drop(1006)
    },
    up() {
      up = true
    },
  }
}

/** A LocalStore in memory, with the same pending-count contract as the IndexedDB store. */
class MemoryLocal implements LocalStore {
  records: { update: Uint8Array; origin: { clientId: number; clock: number } | null }[] = []
  acked: Map<number, number> = new Map()
  load() {
    return Promise.resolve({ updates: this.records.map((r) => r.update) })
  }
  append(_s: string, update: Uint8Array, origin: { clientId: number; clock: number } | null) {
    this.records.push({ update, origin })
    return Promise.resolve()
  }
  compact() {
    return Promise.resolve()
  }
  async setAcked(_s: string, sv: Uint8Array) {
    const Y = await import('yjs')
    this.acked = Y.decodeStateVector(sv)
  }
  pendingCount() {
    return Promise.resolve(
      this.records.filter((r) => r.origin && r.origin.clock > (this.acked.get(r.origin.clientId) ?? 0))
        .length,
    )
  }
}

/** A MemoryLocal whose writes can be held back, like an IndexedDB that trails a burst of changes. */
class SlowLocal extends MemoryLocal {
  hold = false
  private held: (() => void)[] = []
  private wait(): Promise<void> {
    return this.hold ? new Promise<void>((r) => this.held.push(r)) : Promise.resolve()
  }
  release(): void {
    this.hold = false
    for (const f of this.held.splice(0)) f()
  }
  override async append(s: string, update: Uint8Array, origin: { clientId: number; clock: number } | null) {
    await this.wait()
    return super.append(s, update, origin)
  }
  override async setAcked(s: string, sv: Uint8Array) {
    await this.wait()
    return super.setAcked(s, sv)
  }
}

/** navigator.locks for Node: one holder per name, the next waiter gets it when the holder releases. */
class Locks {
  private queues = new Map<string, (() => void)[]>()
  private held = new Set<string>()
  request(name: string, fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const run = () => {
        this.held.add(name)
        void fn().then(() => {
          this.held.delete(name)
          resolve()
          this.queues.get(name)?.shift()?.()
        })
      }
      if (this.held.has(name)) this.queues.set(name, [...(this.queues.get(name) ?? []), run])
      else run()
    })
  }
}

const sessions: SpaceSession[] = []
const open = async (o: Partial<SessionOptions> & Pick<SessionOptions, 'serverUrl'>) => {
  const s = await SpaceSession.open({
    spaceId: 's1',
    token: 'w',
    readOnly: false,
    store: null,
    user: { name: 'Ana', color: '#c33' },
    BroadcastChannel: null,
    locks: null,
    backoff: { initialMs: 5, maxMs: 20 },
    ...o,
  })
  sessions.push(s)
  return s
}
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.destroy()
})

describe('sync client', () => {
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
    await vi.waitFor(() => expect(a.status.kind).toBe('offline'))
    a.space.addItem('Eggs')
    a.space.addItem('Bread')
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'offline', pending: 2 }))
    expect(statusText(a.status)).toBe('offline — 2 changes saved on this device')
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
    await vi.waitFor(() => expect(a.status.kind).toBe('offline'))
    local.release() // the append lands first, then the ack: in between the store counts Milk as pending
    await a.flush()
    expect(await local.pendingCount()).toBe(0)
    expect(seen.length).toBeGreaterThan(0)
    expect(new Set(seen)).toEqual(new Set(['offline — no unsynced changes']))
  })

  it('[SYNC-3] a permanent close (bad token) stops retrying and says why', async () => {
    const server = makeServer()
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, token: 'bad' })
    await vi.waitFor(() => expect(a.status.kind).toBe('error'))
    const tries = server.connects
    await new Promise((r) => setTimeout(r, 60))
    expect(server.connects).toBe(tries)
    expect(statusText(a.status)).toContain('Unauthorized')
  })

  it('[SYNC-4] reconnect delays grow exponentially with jitter and a cap', () => {
    for (const r of [0, 0.5, 0.999]) {
      for (const [attempt, base] of [
        [1, 100],
        [2, 200],
        [4, 800],
        [9, 1000],
      ] as const) {
        const d = backoffDelay(attempt, { initialMs: 100, maxMs: 1000 }, () => r)
        expect(d).toBeGreaterThanOrEqual(base / 2)
        expect(d).toBeLessThanOrEqual(base)
      }
    }
  })

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

  it('[TAB-1] tabs share edits with the server down; one leader; leadership moves when it closes', async () => {
    const server = makeServer()
    server.down()
    const locks = new Locks() as unknown as LockManager
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
    await vi.waitFor(() =>
      expect(
        a
          .presence()
          .map((p) => p.name)
          .sort(),
      ).toEqual(['Ana', 'Bo']),
    )
    expect(a.presence().find((p) => p.self)?.name).toBe('Ana')
    await b.destroy()
    await vi.waitFor(() => expect(a.presence().map((p) => p.name)).toEqual(['Ana']))
  })
})

describe('sync client on the IndexedDB store', () => {
  it('[SYNC-6] offline edits survive a reload with their pending count; reopening writes nothing', async () => {
    const { IDBFactory } = await import('fake-indexeddb')
    const { IdbStore } = await import('../src/index.js')
    const indexedDB = new IDBFactory()
    const server = makeServer()
    server.down()
    const store = await IdbStore.open({ indexedDB })
    const a = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    a.space.addItem('Oats')
    a.space.increment('oats')
    await a.flush()
    await vi.waitFor(() => expect(a.status).toEqual({ kind: 'offline', pending: 2 }))
    await a.destroy()
    const before = (await store.load('s1')).records
    const again = await open({ serverUrl: 'ws://x/sync', WebSocket: server.WebSocket, store })
    expect(again.space.item('oats')?.quantity).toBe(2)
    await vi.waitFor(() => expect(again.status).toEqual({ kind: 'offline', pending: 2 }))
    await again.flush()
    expect((await store.load('s1')).records).toBe(before)
    server.up()
    again.goOnline()
    await vi.waitFor(() => expect(again.status.kind).toBe('saved'), { timeout: 3000 })
    await vi.waitFor(async () => expect(await store.pendingCount('s1')).toBe(0))
    store.close()
  })
})
