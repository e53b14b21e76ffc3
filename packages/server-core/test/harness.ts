/**
 * The test bench of the core: a store whose operations can be held back or made to fail, a
 * y-websocket-style client on an in-memory socket, and cores on one ManualScheduler — so a test
 * steps time and turns instead of sleeping, and "nothing happens" is checked after everything ran.
 */
import { type Message, decodeMessage, encodeMessage } from '@converge/protocol'
import { afterEach } from 'vitest'
import * as Y from 'yjs'
import {
  type AuthDecision,
  MemoryFanOutHub,
  type Persistence,
  type SocketLike,
  StorageError,
  type StoredSpace,
  SyncCore,
  type SyncCoreOptions,
} from '../src/index.js'
import { ManualScheduler } from '../src/testing/index.js'

/** A gate: `wait()` resolves once `open()` is called (for every waiter so far). */
class Gate {
  private waiting: (() => void)[] = []
  closed = false
  wait(): Promise<void> {
    if (!this.closed) return Promise.resolve()
    return new Promise((r) => this.waiting.push(r))
  }
  open(): void {
    this.closed = false
    const w = this.waiting
    this.waiting = []
    for (const f of w) f()
  }
}

/** A store whose appends and loads can be held back, and whose operations can be made to fail. */
export class ControlledStore implements Persistence {
  readonly data = new Map<
    string,
    { snapshot: Uint8Array | null; updates: { seq: number; u: Uint8Array }[] }
  >()
  seq = 0
  failLoad = false
  failAppend = false
  appends = 0
  /** The size of each committed batch, in order. */
  readonly batches: number[] = []
  loads = 0
  compactions = 0
  private readonly appendGate = new Gate()
  private readonly loadGate = new Gate()

  constructor(readonly shared = false) {}

  /** Appends wait until `release()`. */
  set hold(on: boolean) {
    if (on) this.appendGate.closed = true
    else this.appendGate.open()
  }
  release(): void {
    this.appendGate.open()
  }
  /** Loads wait until `releaseLoads()`. */
  holdLoads(): void {
    this.loadGate.closed = true
  }
  releaseLoads(): void {
    this.loadGate.open()
  }

  async load(spaceId: string): Promise<StoredSpace> {
    await this.loadGate.wait()
    this.loads++
    if (this.failLoad) throw new StorageError('disk on fire')
    const d = this.data.get(spaceId)
    const updates = d?.updates.map((x) => x.u) ?? []
    const bytes = (d?.snapshot?.length ?? 0) + updates.reduce((n, u) => n + u.length, 0)
    return { snapshot: d?.snapshot ?? null, updates, lastSeq: this.seq, bytes }
  }

  async append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    await this.appendGate.wait()
    if (this.failAppend) throw new StorageError('append failed')
    const d = this.data.get(spaceId) ?? { snapshot: null, updates: [] }
    for (const u of updates) d.updates.push({ seq: ++this.seq, u })
    this.data.set(spaceId, d)
    this.appends++
    this.batches.push(updates.length)
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
  doc(spaceId: string): Y.Doc {
    const doc = new Y.Doc()
    const d = this.data.get(spaceId)
    if (d?.snapshot) Y.applyUpdate(doc, d.snapshot)
    for (const { u } of d?.updates ?? []) Y.applyUpdate(doc, u)
    return doc
  }

  /** The stored text of a space's note `n`. */
  text(spaceId: string): string {
    return this.doc(spaceId).getText('body:n').toJSON()
  }
}

const tokens: Record<string, AuthDecision> = {
  w: { ok: true, access: 'write' },
  r: { ok: true, access: 'read' },
}
/**
 * Tokens: `w` writes, `r` reads, `other` is another space's; `w@2` / `r@2` name link generation 2,
 * and `w@2~5000` also expires at 5000 ms (the ManualScheduler's clock).
 */
export const authenticate = (_spaceId: string, token: string | null): Promise<AuthDecision> => {
  const linked = /^([wr])@(\d+)(?:~(\d+))?$/.exec(token ?? '')
  if (linked)
    return Promise.resolve({
      ok: true,
      access: linked[1] === 'w' ? 'write' : 'read',
      generation: Number(linked[2]),
      ...(linked[3] === undefined ? {} : { expiresAt: Number(linked[3]) }),
    })
  return Promise.resolve(
    token === 'other'
      ? { ok: false, kind: 'Forbidden', reason: 'token for another space' }
      : (tokens[token ?? ''] ?? { ok: false, kind: 'Unauthorized', reason: 'no token' }),
  )
}

/** A y-websocket-style client on an in-memory socket. */
export class Client {
  readonly received: Message[] = []
  /** The frames as the server sent them (the same bytes object when it encoded once for many). */
  readonly frames: Uint8Array[] = []
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
        this.frames.push(data)
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
  /** The messages of one type received so far. */
  got(type: Message['type']): Message[] {
    return this.received.filter((m) => m.type === type)
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

export type CoreOptions = Partial<Omit<SyncCoreOptions, 'persistence'>>

/**
 * One simulated world per test: a ManualScheduler that every core and the fan-out hub share.
 * Cores made with `core()` are shut down after the test.
 */
export function world(): {
  time: ManualScheduler
  hub: MemoryFanOutHub
  core: (store: Persistence, options?: CoreOptions) => SyncCore
} {
  const time = new ManualScheduler()
  const hub = new MemoryFanOutHub(time)
  const core = (store: Persistence, options: CoreOptions = {}): SyncCore => {
    const c = new SyncCore({ persistence: store, authenticate, clock: time, scheduler: time, ...options })
    cores.push(c)
    return c
  }
  return { time, hub, core }
}

const cores: SyncCore[] = []
afterEach(async () => {
  for (const c of cores.splice(0)) await c.shutdown()
})
