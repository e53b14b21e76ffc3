/**
 * The core under an in-memory socket and a controllable store: the rules that do not need a real
 * transport. Names cite PROTOCOL.md sections (P…) and the core's own rules (CORE-…).
 */
import { CloseCode, type Message, decodeMessage, encodeMessage } from '@converge/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  type AuthDecision,
  type MemoryFanOut,
  MemoryFanOutHub,
  type Persistence,
  type SocketLike,
  StorageError,
  type StoredSpace,
  SyncCore,
} from '../src/index.js'

/** A store whose appends can be held back, and whose reads can be made to fail. */
class ControlledStore implements Persistence {
  readonly data = new Map<
    string,
    { snapshot: Uint8Array | null; updates: { seq: number; u: Uint8Array }[] }
  >()
  seq = 0
  hold = false
  failLoad = false
  failAppend = false
  appends = 0
  compactions = 0
  private held: (() => void)[] = []

  release(): void {
    const h = this.held
    this.held = []
    for (const f of h) f()
  }

  registerSpace(): Promise<boolean> {
    return Promise.resolve(true)
  }

  load(spaceId: string): Promise<StoredSpace> {
    if (this.failLoad) return Promise.reject(new StorageError('disk on fire'))
    const d = this.data.get(spaceId)
    const updates = d?.updates.map((x) => x.u) ?? []
    const bytes = (d?.snapshot?.length ?? 0) + updates.reduce((n, u) => n + u.length, 0)
    return Promise.resolve({ snapshot: d?.snapshot ?? null, updates, lastSeq: this.seq, bytes })
  }

  async append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    if (this.hold) await new Promise<void>((r) => this.held.push(r))
    if (this.failAppend) throw new StorageError('append failed')
    const d = this.data.get(spaceId) ?? { snapshot: null, updates: [] }
    for (const u of updates) d.updates.push({ seq: ++this.seq, u })
    this.data.set(spaceId, d)
    this.appends++
    return this.seq
  }

  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    const d = this.data.get(spaceId) ?? { snapshot: null, updates: [] }
    d.snapshot = snapshot
    d.updates = d.updates.filter((x) => x.seq > throughSeq)
    this.data.set(spaceId, d)
    this.compactions++
    return Promise.resolve()
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  /** The stored document of a space, as a fresh Y.Doc would load it. */
  text(spaceId: string): string {
    const doc = new Y.Doc()
    const d = this.data.get(spaceId)
    if (d?.snapshot) Y.applyUpdate(doc, d.snapshot)
    for (const { u } of d?.updates ?? []) Y.applyUpdate(doc, u)
    return doc.getText('body:n').toJSON()
  }
}

const tokens: Record<string, AuthDecision> = {
  w: { ok: true, access: 'write' },
  r: { ok: true, access: 'read' },
}
const authenticate = (spaceId: string, token: string | null): Promise<AuthDecision> =>
  Promise.resolve(
    token === 'other'
      ? { ok: false, kind: 'Forbidden', reason: 'token for another space' }
      : (tokens[token ?? ''] ?? { ok: false, kind: 'Unauthorized', reason: 'no token' }),
  )

/** A y-websocket-style client on an in-memory socket. */
class Client {
  readonly received: Message[] = []
  closed: { code: number; reason: string } | null = null
  acked: Uint8Array | null = null
  readonly handle
  constructor(
    core: SyncCore,
    space: string,
    token: string | null,
    hello = true,
    /** A document to continue with (a client reconnecting, to this or another instance). */
    readonly doc = new Y.Doc(),
  ) {
    const socket: SocketLike = {
      send: (data) => {
        const m = decodeMessage(data)
        this.received.push(m)
        queueMicrotask(() => this.onMessage(m))
      },
      close: (code, reason) => {
        this.closed = { code, reason }
      },
    }
    this.handle = core.connect(socket, space, token)
    if (hello) this.send({ type: 'hello', version: 1 })
    this.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) })
    this.doc.on('update', this.onUpdate)
  }
  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== this && !this.closed) this.send({ type: 'sync-update', update })
  }
  /** The socket drops (the client or its server went away). */
  drop(): void {
    this.closed = { code: 1006, reason: 'dropped' }
    this.doc.off('update', this.onUpdate)
    this.handle.handleClose()
  }
  send(m: Message): void {
    this.handle.handleMessage(encodeMessage(m))
  }
  private onMessage(m: Message): void {
    if (m.type === 'sync-step1')
      this.send({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, m.stateVector) })
    else if (m.type === 'sync-step2' || m.type === 'sync-update') Y.applyUpdate(this.doc, m.update, this)
    else if (m.type === 'durable-ack') this.acked = m.stateVector
  }
  type(text: string): void {
    const t = this.doc.getText('body:n')
    t.insert(t.length, text)
  }
  get text(): string {
    return this.doc.getText('body:n').toJSON()
  }
  /** Whether the server's committed state vector covers everything this client has. */
  get saved(): boolean {
    if (!this.acked) return false
    const server = Y.decodeStateVector(this.acked)
    for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(this.doc)))
      if ((server.get(client) ?? 0) < clock) return false
    return true
  }
}

const cores: SyncCore[] = []
const makeCore = (store: Persistence, extra: Partial<ConstructorParameters<typeof SyncCore>[0]> = {}) => {
  const core = new SyncCore({ persistence: store, authenticate, ...extra })
  cores.push(core)
  return core
}
afterEach(async () => {
  for (const c of cores.splice(0)) await c.shutdown()
})

/** Two instances (cores) over `store` sharing one in-memory fan-out, a hello'd writer on each, both synced. */
async function twoInstances(
  store: Persistence,
  extra: Partial<ConstructorParameters<typeof SyncCore>[0]> = {},
): Promise<{ one: SyncCore; two: SyncCore; fanOne: MemoryFanOut; a: Client; b: Client }> {
  const hub = new MemoryFanOutHub()
  const fanOne = hub.instance()
  const one = makeCore(store, { fanOut: fanOne, ...extra })
  const two = makeCore(store, { fanOut: hub.instance(), ...extra })
  const a = new Client(one, 's1', 'w')
  const b = new Client(two, 's1', 'w')
  await vi.waitFor(() => expect(a.acked && b.acked).toBeTruthy())
  return { one, two, fanOne, a, b }
}

describe('server core', () => {
  it('[CORE-1] two clients converge through the core; the sender gets no echo', async () => {
    const store = new ControlledStore()
    const core = makeCore(store)
    const a = new Client(core, 's1', 'w')
    const b = new Client(core, 's1', 'w')
    await vi.waitFor(() => expect(a.acked).not.toBeNull())
    a.type('hello ')
    b.type('world')
    await vi.waitFor(() => expect(a.text).toBe(b.text))
    expect(a.text.length).toBe(11)
    const echoes = a.received.filter((m) => m.type === 'sync-update').length
    expect(echoes).toBe(1) // only b's update came back to a
  })

  it('[P4.1] a durable ack comes only after the store committed the update', async () => {
    const store = new ControlledStore()
    const core = makeCore(store)
    const a = new Client(core, 's1', 'w')
    await vi.waitFor(() => expect(a.acked).not.toBeNull())
    store.hold = true
    a.type('important')
    await new Promise((r) => setTimeout(r, 30))
    expect(a.saved).toBe(false) // held in the store: not acknowledged
    expect(store.text('s1')).toBe('')
    store.release()
    await vi.waitFor(() => expect(a.saved).toBe(true))
    expect(store.text('s1')).toBe('important')
  })

  it('[P4.2] a stock client that never said hello receives no extension message', async () => {
    const store = new ControlledStore()
    const core = makeCore(store)
    const stock = new Client(core, 's1', 'w', false)
    const other = new Client(core, 's1', 'r')
    stock.type('x')
    other.type('refused')
    await vi.waitFor(() => expect(store.text('s1')).toBe('x'))
    await core.flushAll()
    expect(
      stock.received
        .map((m) => m.type)
        .filter((t) => !['sync-step1', 'sync-step2', 'sync-update'].includes(t)),
    ).toEqual([])
  })

  it('[P5.4] a read-only update is refused: not applied, not stored, not relayed', async () => {
    const store = new ControlledStore()
    const core = makeCore(store)
    const w = new Client(core, 's1', 'w')
    const r = new Client(core, 's1', 'r')
    w.type('ok')
    await vi.waitFor(() => expect(r.text).toBe('ok'))
    r.type(' forged')
    await vi.waitFor(() =>
      expect(r.received.some((m) => m.type === 'error' && m.kind === 'ReadOnly')).toBe(true),
    )
    expect(r.received.some((m) => m.type === 'auth-denied')).toBe(true)
    await core.flushAll()
    expect(w.text).toBe('ok')
    expect(store.text('s1')).toBe('ok')
    expect(r.closed).toBeNull()
  })

  it('[P5.1] no token, or a token for another space, closes before any document data', async () => {
    const core = makeCore(new ControlledStore())
    const none = new Client(core, 's1', null)
    const other = new Client(core, 's1', 'other')
    await vi.waitFor(() => expect(none.closed?.code).toBe(CloseCode.Unauthorized))
    await vi.waitFor(() => expect(other.closed?.code).toBe(CloseCode.Forbidden))
    expect(none.received.filter((m) => m.type.startsWith('sync'))).toEqual([])
    expect(other.received.filter((m) => m.type.startsWith('sync'))).toEqual([])
  })

  it('[CORE-2] a failed load closes with 4503 and never serves or saves an empty document', async () => {
    const store = new ControlledStore()
    const seed = makeCore(store)
    const a = new Client(seed, 's1', 'w')
    a.type('stored')
    await vi.waitFor(() => expect(a.saved).toBe(true))
    await seed.shutdown()
    store.failLoad = true
    const core = makeCore(store)
    const b = new Client(core, 's1', 'w')
    b.type('typed while loading')
    await vi.waitFor(() => expect(b.closed?.code).toBe(CloseCode.StorageUnavailable))
    expect(b.received.filter((m) => m.type.startsWith('sync'))).toEqual([])
    expect(store.text('s1')).toBe('stored')
    store.failLoad = false
    const c = new Client(core, 's1', 'w')
    await vi.waitFor(() => expect(c.text).toBe('stored'))
  })

  it('[CORE-3] a failed commit acknowledges nothing and closes the space with 4503', async () => {
    const store = new ControlledStore()
    const core = makeCore(store)
    const a = new Client(core, 's1', 'w')
    await vi.waitFor(() => expect(a.acked).not.toBeNull())
    store.failAppend = true
    a.type('lost?')
    await vi.waitFor(() => expect(a.closed?.code).toBe(CloseCode.StorageUnavailable))
    expect(a.saved).toBe(false)
    expect(core.loadedSpaces).toBe(0)
  })

  it('[CORE-4] compaction keeps every update, including those arriving meanwhile', async () => {
    const store = new ControlledStore()
    const core = makeCore(store, { limits: { compactEveryUpdates: 5 } })
    const a = new Client(core, 's1', 'w')
    const b = new Client(core, 's1', 'w')
    for (let i = 0; i < 40; i++) {
      ;(i % 2 ? a : b).type(String(i % 10))
      if (i % 7 === 0) await new Promise((r) => setImmediate(r))
    }
    await vi.waitFor(() => expect(a.saved && b.saved).toBe(true))
    await core.flushAll()
    expect(store.compactions).toBeGreaterThan(0)
    expect(store.text('s1')).toBe(a.text)
    expect(a.text).toBe(b.text)
    expect(a.text.length).toBe(40)
  })

  it('[CORE-5] a space unloads after its last client leaves and the idle time passes', async () => {
    const store = new ControlledStore()
    const core = makeCore(store, { limits: { idleUnloadMs: 20 } })
    const a = new Client(core, 's1', 'w')
    a.type('keep')
    await vi.waitFor(() => expect(a.saved).toBe(true))
    expect(core.loadedSpaces).toBe(1)
    a.handle.handleClose()
    await vi.waitFor(() => expect(core.loadedSpaces).toBe(0))
    const b = new Client(core, 's1', 'w')
    await vi.waitFor(() => expect(b.text).toBe('keep'))
  })

  it('[CORE-6] fan-out relays between instances without storing twice', async () => {
    const store = new ControlledStore()
    const { one, two, a, b } = await twoInstances(store)
    a.type('across')
    await vi.waitFor(() => expect(b.text).toBe('across'))
    await one.flushAll()
    await two.flushAll()
    expect(store.data.get('s1')?.updates.length).toBe(1)
  })

  it('[CORE-7] shutdown commits everything and closes sockets with 1001', async () => {
    const store = new ControlledStore()
    const core = makeCore(store)
    const a = new Client(core, 's1', 'w')
    await vi.waitFor(() => expect(a.acked).not.toBeNull())
    a.type('last words')
    await core.shutdown()
    expect(a.closed?.code).toBe(CloseCode.GoingAway)
    expect(store.text('s1')).toBe('last words')
  })
})

describe('server core, lifecycle', () => {
  it('[CORE-8] a socket that closes while its space loads does not keep the space loaded', async () => {
    const store = new ControlledStore()
    const slow: Persistence = Object.assign(Object.create(store) as ControlledStore, {
      load: async (id: string) => {
        await new Promise((r) => setTimeout(r, 200))
        return store.load(id)
      },
    })
    const core = makeCore(slow, { limits: { idleUnloadMs: 10 } })
    const a = new Client(core, 's1', 'w')
    await new Promise((r) => setTimeout(r, 30))
    expect(core.loadedSpaces).toBe(1) // loading
    a.handle.handleClose()
    await new Promise((r) => setTimeout(r, 250))
    await vi.waitFor(() => expect(core.loadedSpaces).toBe(0))
  })
})

describe('server core, several instances over one fan-out', () => {
  /** A store view of an instance that dies before it commits anything (its appends never finish). */
  const dyingView = (store: ControlledStore): Persistence =>
    Object.assign(Object.create(store) as ControlledStore, { append: () => new Promise<number>(() => {}) })

  it('[CORE-9] an update relayed but not committed by its instance is not acknowledged elsewhere; resent to another instance, it is stored there', async () => {
    const store = new ControlledStore()
    const hub = new MemoryFanOutHub()
    // not in `cores`: it "dies" holding an uncommitted update, and is never shut down
    const dying = new SyncCore({ persistence: dyingView(store), authenticate, fanOut: hub.instance() })
    const two = makeCore(store, { fanOut: hub.instance() })
    const a = new Client(dying, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    await vi.waitFor(() => expect(a.acked && b.acked).toBeTruthy())
    a.type('only in memory')
    await vi.waitFor(() => expect(b.text).toBe('only in memory'))
    await two.flushAll()
    await new Promise((r) => setTimeout(r, 20))
    expect(b.saved).toBe(false) // instance two holds it, but nobody committed it
    expect(store.text('s1')).toBe('')
    // a's instance dies; a reconnects to instance two with its document and resends what is not stored
    a.drop()
    const again = new Client(two, 's1', 'w', true, a.doc)
    await vi.waitFor(() => expect(again.saved).toBe(true))
    expect(store.text('s1')).toBe('only in memory')
    await vi.waitFor(() => expect(b.saved).toBe(true))
  })

  it('[CORE-10] an instance that commits tells the others, so their clients see the change saved', async () => {
    const store = new ControlledStore()
    const { a, b } = await twoInstances(store)
    a.type('from one')
    await vi.waitFor(() => expect(b.text).toBe('from one'))
    await vi.waitFor(() => expect(b.saved).toBe(true))
    expect(store.appends).toBe(1) // stored once, by instance one
  })

  it('[CORE-11] an instance loading a space gets what another holds but has not committed yet', async () => {
    const store = new ControlledStore()
    const hub = new MemoryFanOutHub()
    const one = makeCore(store, { fanOut: hub.instance() })
    const two = makeCore(store, { fanOut: hub.instance() })
    const a = new Client(one, 's1', 'w')
    await vi.waitFor(() => expect(a.acked).toBeTruthy())
    store.hold = true
    a.type('in flight')
    await new Promise((r) => setTimeout(r, 10))
    const b = new Client(two, 's1', 'w') // loads from storage, where "in flight" is not yet
    await vi.waitFor(() => expect(b.text).toBe('in flight'))
    store.release()
    await vi.waitFor(() => expect(a.saved && b.saved).toBe(true))
  })

  it('[CORE-12] after a fan-out gap, instances re-converge by exchanging state vectors', async () => {
    const store = new ControlledStore()
    const { one, two, fanOne, a, b } = await twoInstances(store)
    a.type('before ')
    await vi.waitFor(() => expect(b.text).toBe('before '))
    fanOne.cut()
    a.type('one-side ')
    b.type('other-side ')
    const t = b.doc.getText('body:n')
    b.doc.transact(() => t.delete(0, 'before '.length)) // a deletion made during the gap travels too
    await new Promise((r) => setTimeout(r, 20))
    expect(a.text).not.toBe(b.text) // the gap is real
    fanOne.restore()
    await vi.waitFor(() => expect(a.text).toBe(b.text))
    expect(a.text).not.toContain('before')
    expect(a.text).toContain('one-side ')
    expect(a.text).toContain('other-side ')
    await vi.waitFor(() => expect(a.saved && b.saved).toBe(true))
    await one.flushAll()
    await two.flushAll()
    expect(store.text('s1')).toBe(a.text)
  })

  it("[CORE-13] with shared storage, compaction never drops another instance's committed update", async () => {
    const store = Object.assign(new ControlledStore(), { shared: true })
    const { one, two, fanOne, a, b } = await twoInstances(store, { limits: { compactEveryUpdates: 3 } })
    fanOne.cut() // instance one never hears of two's updates live: only storage can tell it
    const typed: string[] = []
    for (let i = 0; i < 12; i++) {
      const ch = String.fromCharCode(97 + i)
      typed.push(ch)
      ;(i % 2 ? a : b).type(ch)
      await new Promise((r) => setImmediate(r))
    }
    await vi.waitFor(async () => {
      await one.flushAll()
      await two.flushAll()
      expect(store.compactions).toBeGreaterThan(1)
      expect([...store.text('s1')].sort()).toEqual(typed)
    })
  })
})
