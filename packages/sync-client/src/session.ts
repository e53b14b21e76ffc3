import { type Space, type YjsEngine, isMergeError, openSpace } from '@converge/merge'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { type Backoff, SERVER_ORIGIN, SyncConnection, isCovered } from './connection.js'
import { type SyncStatus, deriveStatus, sameStatus } from './status.js'

/** What the session needs of local storage (IdbStore implements it; null = memory only). */
export interface LocalStore {
  load(spaceId: string): Promise<{ updates: Uint8Array[] }>
  append(
    spaceId: string,
    update: Uint8Array,
    origin: { clientId: number; clock: number } | null,
  ): Promise<void>
  compact(spaceId: string): Promise<void>
  setAcked(spaceId: string, stateVector: Uint8Array): Promise<void>
  pendingCount(spaceId: string): Promise<number>
}

export interface Presence {
  readonly clientId: number
  readonly name: string
  readonly color: string
  readonly self: boolean
}

export interface SessionOptions {
  readonly spaceId: string
  /** The space token (write or read); null when the space is not registered on the server yet. */
  readonly token: string | null
  readonly readOnly: boolean
  /** e.g. `ws://localhost:8787/sync`; null = do not connect (local only). */
  readonly serverUrl: string | null
  readonly store: LocalStore | null
  readonly user: { readonly name: string; readonly color: string }
  readonly replicaId?: string
  readonly WebSocket?: typeof WebSocket
  readonly BroadcastChannel?: typeof BroadcastChannel | null
  readonly locks?: LockManager | null
  readonly backoff?: Backoff
  /** Storage failures (quota, version change, …): the session keeps working in memory. */
  readonly onStoreError?: (e: unknown) => void
  /** Compact the local log after this many records written by this tab. */
  readonly compactEvery?: number
}

/** Origins of document changes (ARCHITECTURE.md, "every change carries its origin"). */
export const Origin = {
  Local: 'local-ui',
  Restore: 'idb-restore',
  Tab: 'tab',
  Server: SERVER_ORIGIN,
} as const

type TabMessage =
  | { t: 'update'; update: Uint8Array }
  | { t: 'awareness'; update: Uint8Array }
  | { t: 'status'; status: SyncStatus; leader: number }
  | { t: 'hello'; stateVector: Uint8Array; from: number }
  /** A tab finished writing to IndexedDB: the leader recounts the changes not yet on the server. */
  | { t: 'stored' }

/**
 * One open space in one tab: the merge Space restored from IndexedDB, kept in step with the other
 * tabs over BroadcastChannel, and — in the one tab that holds the space's Web Lock — with the
 * server. Every tab shows the leader's status.
 */
export class SpaceSession {
  readonly space: Space
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  private connection: SyncConnection | null = null
  private channel: BroadcastChannel | null = null
  private statusValue: SyncStatus = { kind: 'offline', pending: 0 }
  private pending = 0
  private readonly listeners = new Set<() => void>()
  private releaseLeadership: (() => void) | null = null
  private writes: Promise<unknown> = Promise.resolve()
  private writesSinceCompaction = 0
  private storeFailed = false
  private destroyed = false
  private leader = false
  private readonly cleanups: (() => void)[] = []

  private constructor(private readonly options: SessionOptions) {
    this.space = openSpace({
      engine: 'yjs',
      spaceId: options.spaceId,
      origin: Origin.Local,
      readOnly: options.readOnly,
      ...(options.replicaId ? { replicaId: options.replicaId } : {}),
    })
    this.doc = (this.space.engine as YjsEngine).doc
    this.awareness = new awarenessProtocol.Awareness(this.doc)
  }

  /** Opens a space: everything stored on this device first, then tabs and server. */
  static async open(options: SessionOptions): Promise<SpaceSession> {
    const s = new SpaceSession(options)
    await s.restore()
    s.start()
    return s
  }

  get status(): SyncStatus {
    return this.statusValue
  }

  get isLeader(): boolean {
    return this.leader
  }

  /** Whether local storage failed and the session now lives in memory only. */
  get storageFailed(): boolean {
    return this.storeFailed
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private emit(): void {
    for (const l of this.listeners) l()
  }

  private async restore(): Promise<void> {
    const store = this.options.store
    if (!store) return
    try {
      const { updates } = await store.load(this.options.spaceId)
      // one by one, each with the restore origin, so nothing loaded is written back; a record that
      // builds on one stored after it (two tabs writing) waits for the next pass (DLV-2)
      let left = updates
      for (;;) {
        const waiting: Uint8Array[] = []
        let lastError: unknown = null
        for (const u of left) {
          try {
            this.space.applyUpdate(u, Origin.Restore)
          } catch (e) {
            if (!isMergeError(e)) throw e
            if (isMergeError(e, 'MissingDependencies')) waiting.push(u)
            else this.options.onStoreError?.(e) // a stored record that does not apply: skipped, left in storage
            lastError = e
          }
        }
        if (waiting.length === 0 || waiting.length === left.length) {
          if (waiting.length > 0) this.options.onStoreError?.(lastError)
          break
        }
        left = waiting
      }
      this.pending = await store.pendingCount(this.options.spaceId)
    } catch (e) {
      this.storeError(e)
    }
  }

  private start(): void {
    this.doc.on('update', this.onUpdate)
    this.awareness.on('update', this.onAwareness)
    this.awareness.setLocalStateField('user', this.options.user)
    const BC =
      this.options.BroadcastChannel === undefined
        ? globalThis.BroadcastChannel
        : this.options.BroadcastChannel
    if (BC) {
      this.channel = new BC(`converge:${this.options.spaceId}`)
      this.channel.onmessage = (e: MessageEvent<TabMessage>) => this.onTab(e.data)
      this.post({ t: 'hello', stateVector: Y.encodeStateVector(this.doc), from: this.doc.clientID })
    }
    const locks = this.options.locks === undefined ? globalThis.navigator?.locks : this.options.locks
    if (locks) {
      void locks
        .request(`converge:leader:${this.options.spaceId}`, () => {
          if (this.destroyed) return Promise.resolve()
          this.lead()
          return new Promise<void>((resolve) => (this.releaseLeadership = resolve))
        })
        .catch(() => this.lead())
    } else this.lead()
    if (typeof window !== 'undefined') {
      const offline = () => this.connection?.disconnect()
      const online = () => this.connection?.reconnect()
      const hide = () => void this.flush()
      window.addEventListener('offline', offline)
      window.addEventListener('online', online)
      window.addEventListener('pagehide', hide)
      document.addEventListener('visibilitychange', hide)
      this.cleanups.push(() => {
        window.removeEventListener('offline', offline)
        window.removeEventListener('online', online)
        window.removeEventListener('pagehide', hide)
        document.removeEventListener('visibilitychange', hide)
      })
    }
    this.updateStatus()
  }

  /** This tab holds the space's lock: it keeps the server connection for every tab. */
  private lead(): void {
    if (this.destroyed || this.leader) return
    this.leader = true
    const { serverUrl, token, spaceId } = this.options
    if (serverUrl && token) {
      this.connection = new SyncConnection({
        serverUrl,
        spaceId,
        token,
        doc: this.doc,
        awareness: this.awareness,
        applyRemote: (u) => this.space.applyUpdate(u, Origin.Server),
        ...(this.options.WebSocket ? { WebSocket: this.options.WebSocket } : {}),
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      })
      let lastAck: Uint8Array | null = null
      this.connection.subscribe((c) => {
        if (c.acked && c.acked !== lastAck) {
          lastAck = c.acked
          const ack = c.acked
          this.write((store) => store.setAcked(spaceId, ack))
        }
        this.updateStatus()
      })
      if (globalThis.navigator?.onLine !== false) this.connection.connect()
    }
    this.updateStatus()
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === Origin.Restore) return
    if (origin === Origin.Tab) {
      this.updateStatus() // stored by the tab that made it; not sent back to the tabs
      return
    }
    this.post({ t: 'update', update })
    const local = origin !== Origin.Server
    const record = local
      ? { clientId: this.doc.clientID, clock: Y.getState(this.doc.store, this.doc.clientID) }
      : null
    this.write((store) => store.append(this.options.spaceId, update, record))
    this.updateStatus()
  }

  private readonly onAwareness = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin !== Origin.Tab) {
      const changed = [...added, ...updated, ...removed]
      this.post({ t: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed) })
    }
    this.emit()
  }

  private onTab(m: TabMessage): void {
    if (this.destroyed) return
    switch (m.t) {
      case 'update':
        try {
          this.space.applyUpdate(m.update, Origin.Tab)
        } catch (e) {
          // it builds on a change from another tab that has not reached this one yet: ask the tabs for
          // everything this one lacks (DLV-3); anything else another tab of this app sent that this one
          // cannot read (an older schema) is ignored
          if (isMergeError(e, 'MissingDependencies'))
            this.post({ t: 'hello', stateVector: Y.encodeStateVector(this.doc), from: this.doc.clientID })
        }
        return
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(this.awareness, m.update, Origin.Tab)
        return
      case 'status':
        if (!this.leader) this.setStatus(m.status)
        return
      case 'stored':
        if (this.leader && this.options.store && !this.storeFailed)
          void this.options.store
            .pendingCount(this.options.spaceId)
            .then((n) => {
              this.pending = n
              this.updateStatus()
            })
            .catch((e: unknown) => this.storeError(e))
        return
      case 'hello':
        // a new tab: give it what it lacks, and (as leader) the status
        this.post({ t: 'update', update: Y.encodeStateAsUpdate(this.doc, m.stateVector) })
        this.post({
          t: 'awareness',
          update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, [
            ...this.awareness.getStates().keys(),
          ]),
        })
        if (this.leader) this.post({ t: 'status', status: this.statusValue, leader: this.doc.clientID })
        return
    }
  }

  private post(m: TabMessage): void {
    try {
      this.channel?.postMessage(m)
    } catch {
      /* the channel closed */
    }
  }

  /** Runs a storage write in order; a failure switches the session to memory-only and says so. */
  private write(fn: (store: LocalStore) => Promise<unknown>): void {
    const store = this.options.store
    if (!store || this.storeFailed) return
    this.writes = this.writes
      .then(() => fn(store))
      .then(async () => {
        if (++this.writesSinceCompaction >= (this.options.compactEvery ?? 200)) {
          this.writesSinceCompaction = 0
          await store.compact(this.options.spaceId)
        }
        this.pending = await store.pendingCount(this.options.spaceId)
        if (!this.leader) this.post({ t: 'stored' })
        this.updateStatus()
      })
      .catch((e: unknown) => this.storeError(e))
  }

  private storeError(e: unknown): void {
    if (this.storeFailed) return
    this.storeFailed = true
    this.options.onStoreError?.(e)
    this.emit()
  }

  /** Resolves once every change so far is written to IndexedDB (pagehide, tests). */
  async flush(): Promise<void> {
    await this.writes
  }

  private updateStatus(): void {
    if (!this.leader) return this.emit()
    const c = this.connection?.current
    const covered = isCovered(this.doc, c?.acked ?? null)
    const status = deriveStatus({
      connected: c?.connected ?? false,
      covered,
      // the stored count trails the server's ack by the write queue: what the server confirmed is
      // never pending, even while its ack is still on the way to IndexedDB
      pending: covered ? 0 : this.pending,
      error: c?.error ? c.error.kind : null,
    })
    if (!sameStatus(status, this.statusValue)) {
      this.post({ t: 'status', status, leader: this.doc.clientID })
    }
    this.setStatus(status)
  }

  private setStatus(status: SyncStatus): void {
    this.statusValue = status
    this.emit()
  }

  /** Who is in the space now (this tab included), from awareness. */
  presence(): Presence[] {
    const out: Presence[] = []
    for (const [clientId, state] of this.awareness.getStates()) {
      const user = (state as { user?: { name?: unknown; color?: unknown } }).user
      if (!user || typeof user.name !== 'string') continue
      out.push({
        clientId,
        name: user.name,
        color: typeof user.color === 'string' ? user.color : '#888',
        self: clientId === this.doc.clientID,
      })
    }
    return out
  }

  /** The connection, for tests and diagnostics (null in follower tabs). */
  get connectionState() {
    return this.connection?.current ?? null
  }

  /** Closes the server connection now (the browser went offline). */
  goOffline(): void {
    this.connection?.disconnect()
  }

  goOnline(): void {
    this.connection?.reconnect()
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'destroy')
    await this.flush()
    for (const c of this.cleanups) c()
    this.connection?.destroy()
    this.channel?.close()
    this.releaseLeadership?.()
    this.doc.off('update', this.onUpdate)
    this.awareness.off('update', this.onAwareness)
    this.awareness.destroy()
    this.listeners.clear()
    this.space.destroy()
  }
}
