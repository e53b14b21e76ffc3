import { type EngineKind, Origin, type Space, YjsEngine, loadEngine, openSpace } from '@converge/merge'
import type { Backoff } from '@converge/protocol'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  type NavigatorLike,
  type PageEvents,
  type Timers,
  type WindowEvents,
  browser,
  followBrowser,
  given,
  onLine,
} from './browser.js'
import { type ConnectionState, SyncConnection } from './connection.js'
import { SessionDiagnostics } from './diagnostics.js'
import { codecOf, spaceDocument } from './engine-codec.js'
import { Leadership } from './leadership.js'
import type { LocalStore } from './local-store.js'
import { type Presence, TabPresence } from './presence.js'
import { ServerUpdates } from './server-updates.js'
import { type SyncStatus, isCovered } from './status.js'
import { StatusRelay } from './status-relay.js'
import { TabChannel, shareWithTabs } from './tab-channel.js'
import { WriteQueue } from './write-queue.js'

export interface SessionOptions {
  readonly spaceId: string
  /**
   * ENG-1: the engine the space was created with (default Yjs). Automerge's is imported when the
   * first Automerge space opens, never before.
   */
  readonly engine?: EngineKind
  /** The space token (write or read); null when the space is not registered on the server yet. */
  readonly token: string | null
  readonly readOnly: boolean
  /** e.g. `ws://localhost:8787/sync`; null = do not connect (local only). */
  readonly serverUrl: string | null
  /** The device's storage; null = memory only. */
  readonly store: LocalStore | null
  /** What others see of this tab's person: `id` names the person across tabs and devices (PRES-4). */
  readonly user: { readonly name: string; readonly color: string; readonly id?: string }
  readonly replicaId?: string
  readonly backoff?: Backoff
  /** The jitter of the backoff (default `Math.random`). */
  readonly random?: () => number
  /**
   * Storage failures (quota, version change, …): the session keeps working in memory. Also a stored
   * record that does not apply (a `MergeError`): skipped, left in storage, the session goes on storing.
   */
  readonly onStoreError?: (e: unknown) => void
  /** Compact the local log after this many records written by this tab (default 200). */
  readonly compactEvery?: number
  /** Compact the local log on open when it holds more records than this (default 50, LOCAL-4). */
  readonly compactOnOpen?: number

  // The browser (browser.ts): left out, the browser's own; null, none.
  readonly WebSocket?: typeof WebSocket
  readonly BroadcastChannel?: typeof BroadcastChannel | null
  /** Default: `navigator.locks`. */
  readonly locks?: LockManager | null
  /** `online` / `offline` events (SYNC-8). */
  readonly window?: WindowEvents | null
  /** `pagehide` / `visibilitychange` / `freeze` (LOCAL-5); default: the browser's `window`. */
  readonly page?: PageEvents | null
  /** `onLine` (and `locks`, unless given above). */
  readonly navigator?: NavigatorLike | null
  readonly timers?: Timers
  /** The wall clock, ms since the epoch: reports (PROBE-2) and diagnostics (DIAG-1). Default: `Date.now`. */
  readonly now?: () => number
}

/**
 * One open space in one tab (SPEC.md, "Parts"): the merge `Space` restored from the device's storage
 * (`WriteQueue`), kept in step with the other tabs (`TabChannel`, `TabPresence`) and — in the one tab
 * that holds the space's Web Lock (`Leadership`) — with the server (`SyncConnection`, through
 * `ServerUpdates`). Every tab shows the leader's status (`StatusRelay`).
 */
export class SpaceSession {
  readonly space: Space
  /** A Yjs space's document (for editor bindings such as y-codemirror.next); null on Automerge. */
  readonly doc: Y.Doc | null
  readonly awareness: Awareness
  private readonly writes: WriteQueue
  private readonly tabs: TabChannel
  private readonly tabPresence: TabPresence
  private readonly leadership: Leadership
  private readonly relay: StatusRelay
  private readonly fromServer: ServerUpdates
  private readonly diag: SessionDiagnostics
  private readonly navigator: NavigatorLike | null
  private readonly now: () => number
  private connection: SyncConnection | null = null
  private readonly listeners = new Set<() => void>()
  private readonly cleanups: (() => void)[] = []
  private stopStoring: () => void = () => {}
  private destroyed = false

  private constructor(private readonly options: SessionOptions) {
    const engine = options.engine ?? 'yjs'
    this.space = openSpace({
      engine,
      spaceId: options.spaceId,
      origin: Origin.Local,
      readOnly: options.readOnly,
      ...(options.replicaId ? { replicaId: options.replicaId } : {}),
    })
    this.doc = this.space.engine instanceof YjsEngine ? this.space.engine.doc : null
    // presence is y-protocols' awareness on either engine; on Automerge a Y.Doc of its own names it
    this.awareness = new Awareness(this.doc ?? new Y.Doc())
    this.navigator = given(options.navigator, browser.navigator)
    this.now = options.now ?? browser.now
    this.writes = new WriteQueue({
      store: options.store,
      spaceId: options.spaceId,
      compactEvery: options.compactEvery ?? 200,
      compactOnOpen: options.compactOnOpen ?? 50,
      codec: codecOf(engine),
      now: this.now,
      onStored: (change) => this.relay.stored(change),
      onFailure: (e) => {
        options.onStoreError?.(e)
        this.emit()
      },
    })
    this.tabs = new TabChannel(options.spaceId, given(options.BroadcastChannel, browser.BroadcastChannel))
    this.tabPresence = new TabPresence(this.awareness, this.tabs, () => this.emit())
    const locks = options.locks !== undefined ? options.locks : (this.navigator?.locks ?? null)
    this.leadership = new Leadership(options.spaceId, locks, () => this.lead())
    this.relay = new StatusRelay({
      tabs: this.tabs,
      space: this.space,
      isLeader: () => this.leadership.isLeader,
      connection: () => this.connection?.current ?? null,
      writes: this.writes,
      onChange: () => this.emit(),
    })
    this.fromServer = new ServerUpdates(this.space)
    this.diag = new SessionDiagnostics({
      space: this.space,
      tabs: this.tabs,
      isLeader: () => this.leadership.isLeader,
      status: () => this.relay.current,
      connection: () => this.connection,
      pendingSince: () => this.pendingSince(),
      timers: options.timers ?? browser.timers(),
      now: this.now,
      navigator: this.navigator,
    })
  }

  /** Opens a space: everything stored on this device first, then tabs and server. */
  static async open(options: SessionOptions): Promise<SpaceSession> {
    await loadEngine(options.engine ?? 'yjs')
    const s = new SpaceSession(options)
    await s.writes.restore(s.space, (e) => options.onStoreError?.(e))
    s.start()
    return s
  }

  get status(): SyncStatus {
    return this.relay.current
  }

  get isLeader(): boolean {
    return this.leadership.isLeader
  }

  /** Whether local storage failed and the session now lives in memory only. */
  get storageFailed(): boolean {
    return this.writes.failed
  }

  /**
   * LOCAL-2: the changes made in this tab that were handed to the device's storage and whose
   * transaction has not completed yet — 0 when everything this tab changed is saved on this device
   * (see `storageFailed` for a session that lives in memory only). Subscribers hear every change of it.
   */
  get unsavedLocally(): number {
    return this.writes.unsaved
  }

  /** How many updates from the server held values stored before BAD-7 (SYNC-10). */
  get legacyValues(): number {
    return this.fromServer.legacyValues
  }

  /** The connection, for tests and diagnostics (null in follower tabs). */
  get connectionState(): ConnectionState | null {
    return this.connection?.current ?? null
  }

  /**
   * DIAG-1…4: what the sync inspector shows of this space in this tab — connection, round trip,
   * pending changes, acks and vectors, recent messages, the tabs — live (`subscribe`), and as JSON
   * for a bug report (`copyable`).
   */
  get diagnostics(): SessionDiagnostics {
    return this.diag
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Who is in the space now (this tab included), from awareness. */
  presence(): Presence[] {
    return this.tabPresence.list()
  }

  /** Resolves once every change so far is written to the device's storage. */
  async flush(): Promise<void> {
    await this.writes.flush()
  }

  /** Closes the server connection now (the browser went offline). */
  goOffline(): void {
    this.connection?.disconnect()
  }

  /** Reconnects now, with the backoff reset (the browser came back online). */
  goOnline(): void {
    this.connection?.reconnect()
  }

  private start(): void {
    this.tabs.open()
    this.diag.listen()
    this.cleanups.push(shareWithTabs(this.tabs, this.space))
    this.diag.announce()
    // every change is stored (local ones counted as pending until the server confirms them)
    this.stopStoring = this.writes.follow(this.space, () => this.relay.update())
    this.tabPresence.setUser(this.options.user)
    this.relay.listen()
    this.cleanups.push(
      followBrowser(this.options, {
        offline: () => this.goOffline(),
        online: () => this.goOnline(),
        // SYNC-8: someone looks at the page — a device waiting out its backoff tries again now
        focus: () => this.connection?.wake(),
        // the page may be gone before the end of this task: what this task changed is issued now
        pageLeaving: () => this.writes.flushBuffered(),
      }),
    )
    this.leadership.start()
    this.relay.update()
  }

  /** This tab holds the space's lock: it keeps the server connection for every tab. */
  private lead(): void {
    if (this.destroyed) return
    // as a follower it did not hear the acks: what is pending is read once from storage (LOCAL-3)
    this.writes.recount()
    const { serverUrl, token, spaceId } = this.options
    if (serverUrl && token) {
      const connection = new SyncConnection({
        serverUrl,
        spaceId,
        token,
        doc: spaceDocument(this.space),
        awareness: this.awareness,
        applyRemote: this.fromServer.apply,
        isOnline: () => onLine(this.navigator),
        onOpen: () => this.tabPresence.socketOpened(),
        now: this.now,
        unconfirmedSince: () => this.pendingSince(),
        ...(this.options.WebSocket ? { WebSocket: this.options.WebSocket } : {}),
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
        ...(this.options.timers ? { timers: this.options.timers } : {}),
      })
      this.connection = connection
      let lastAck: Uint8Array | null = null
      connection.subscribe((c) => {
        if (c.acked && c.acked !== lastAck) {
          lastAck = c.acked
          this.writes.setAcked(c.acked)
        }
        this.relay.update()
      })
      connection.connect()
    }
    this.diag.lead(this.connection)
    this.relay.update()
  }

  /**
   * PROBE-2, DIAG-1: when the oldest local change the server has not confirmed was made — none once
   * the last ack covers everything (as the pending count, SYNC-7, even before the ack is stored).
   */
  private pendingSince(): number | null {
    if (isCovered(this.space, this.connection?.current.acked ?? null)) return null
    return this.writes.oldestPendingAt
  }

  private emit(): void {
    for (const l of this.listeners) l()
    this.diag.changed()
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    this.leadership.stop()
    this.tabPresence.leave()
    this.diag.destroy()
    await this.flush()
    for (const c of this.cleanups) c()
    this.connection?.destroy()
    this.tabs.close()
    this.leadership.release()
    this.stopStoring()
    this.tabPresence.destroy()
    this.awareness.destroy()
    this.listeners.clear()
    this.space.destroy()
  }
}
