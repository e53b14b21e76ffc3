import { Origin, isMergeError } from '@converge/merge'
import {
  type Backoff,
  ErrorKind,
  type Message,
  type NextStep,
  PROTOCOL_VERSION,
  backoffDelay,
  closeRule,
  decodeMessage,
  defaultBackoff,
  encodeMessage,
} from '@converge/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { type Timers, browser, given, onLine } from './browser.js'

/** @deprecated `Origin.Server` from `@converge/merge` (or this package): the same string. */
export const SERVER_ORIGIN = Origin.Server

export interface ConnectionOptions {
  /** e.g. `ws://localhost:8787/sync` — the space id and token are appended. */
  readonly serverUrl: string
  readonly spaceId: string
  readonly token: string | null
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  /** Applies an update from the server (through the merge package's validation). */
  readonly applyRemote: (update: Uint8Array) => void
  /** Default: the browser's. */
  readonly WebSocket?: typeof WebSocket
  /** Default: `defaultBackoff` of `@converge/protocol`. */
  readonly backoff?: Backoff
  readonly random?: () => number
  /** Default: the browser's `setTimeout`. */
  readonly timers?: Timers
  /** Whether the browser says it is online; no socket is opened while it says no. Default: `navigator.onLine`. */
  readonly isOnline?: () => boolean
  /** Each time a socket opened, after this replica's own presence was renewed (PRES-1). */
  readonly onOpen?: () => void
}

export interface ConnectionState {
  /** The socket is open and the first exchange with the server is done. */
  readonly connected: boolean
  /** The server's committed state vector (durable ack), if any was received on any connection. */
  readonly acked: Uint8Array | null
  /**
   * A permanent error: the connection stopped and will not retry. `kind` is the error kind of the
   * close (`closeRule` of `@converge/protocol`), `next` what the app can do about it.
   */
  readonly error: { readonly kind: string; readonly message: string; readonly next: NextStep } | null
  /** The server refused our writes (read-only token). */
  readonly readOnlyRefused: boolean
  /** Failed attempts since the last successful sync. */
  readonly attempt: number
}

/**
 * A y-websocket-protocol connection for one space, with Converge's extension: it says `hello` and
 * tracks the server's durable acks. Every close goes through `closeRule` (PROTOCOL.md §P6): a close
 * the table marks permanent stops it with the rule's error kind (SYNC-3); any other reconnects after
 * `backoffDelay` (SYNC-4). Sends every doc update that did not come from the server.
 */
export class SyncConnection {
  private ws: WebSocket | null = null
  private timer: unknown = null
  private stopped = false
  private lastError: { kind: string; message: string } | null = null
  private state: ConnectionState = {
    connected: false,
    acked: null,
    error: null,
    readOnlyRefused: false,
    attempt: 0,
  }
  private readonly listeners = new Set<(s: ConnectionState) => void>()
  private readonly backoff: Backoff
  private readonly random: () => number
  private readonly timers: Timers
  private readonly WS: typeof WebSocket | null
  private readonly isOnline: () => boolean

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = options.backoff ?? defaultBackoff
    this.random = options.random ?? Math.random
    this.timers = options.timers ?? browser.timers()
    this.WS = given(options.WebSocket, browser.WebSocket)
    this.isOnline = options.isOnline ?? (() => onLine(browser.navigator()))
    options.doc.on('update', this.onDocUpdate)
    options.awareness.on('update', this.onAwarenessUpdate)
  }

  get current(): ConnectionState {
    return this.state
  }

  subscribe(fn: (s: ConnectionState) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private set(patch: Partial<ConnectionState>): void {
    this.state = { ...this.state, ...patch }
    for (const l of this.listeners) l(this.state)
  }

  connect(): void {
    if (this.stopped || this.ws || this.state.error) return
    this.timers.clearTimeout(this.timer)
    this.timer = null
    // the browser says it is offline: do not open a socket that can only fail (SYNC-8: 'online' reconnects)
    if (!this.isOnline()) return
    const { serverUrl, spaceId, token } = this.options
    const url = `${serverUrl.replace(/\/$/, '')}/${encodeURIComponent(spaceId)}${token ? `?token=${encodeURIComponent(token)}` : ''}`
    let ws: WebSocket
    try {
      if (!this.WS) throw new Error('no WebSocket here')
      ws = new this.WS(url)
    } catch {
      this.scheduleReconnect()
      return
    }
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    ws.onopen = () => {
      this.lastError = null
      this.send({ type: 'hello', version: PROTOCOL_VERSION })
      this.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.options.doc) })
      // PRES-1: peers removed us when the last socket closed, and y-protocols only takes a state with a
      // higher clock than the one it saw: renew ours (a new clock), ask the tabs we carry to renew
      // theirs, then send every state we hold (to peers that never saw them)
      const aw = this.options.awareness
      const local = aw.getLocalState()
      if (local !== null) aw.setLocalState(local)
      this.options.onOpen?.()
      const ids = [...aw.getStates().keys()]
      if (ids.length > 0)
        this.send({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(aw, ids) })
    }
    ws.onmessage = (event: MessageEvent) => {
      if (!(event.data instanceof ArrayBuffer)) return
      let m: Message
      try {
        m = decodeMessage(new Uint8Array(event.data))
      } catch {
        return // a server we do not understand: ignore the frame, keep the connection
      }
      this.onMessage(m)
    }
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return
      this.ws = null
      const others = [...this.options.awareness.getStates().keys()].filter(
        (id) => id !== this.options.awareness.clientID,
      )
      awarenessProtocol.removeAwarenessStates(this.options.awareness, others, Origin.Server)
      const rule = closeRule(event.code, this.lastError?.kind)
      if (rule.permanent) {
        this.set({
          connected: false,
          error: { kind: rule.kind, message: this.lastError?.message ?? event.reason, next: rule.next },
        })
        return
      }
      this.set({ connected: false, attempt: this.state.attempt + 1 })
      this.scheduleReconnect()
    }
  }

  private onMessage(m: Message): void {
    const { doc, awareness } = this.options
    switch (m.type) {
      case 'sync-step1':
        this.send({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc, m.stateVector) })
        return
      case 'sync-step2':
        this.safeApply(m.update)
        this.set({ connected: true, attempt: 0 })
        return
      case 'sync-update':
        this.safeApply(m.update)
        return
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(awareness, m.update, Origin.Server)
        return
      case 'durable-ack':
        this.set({ acked: m.stateVector })
        return
      case 'auth-denied':
        this.set({ readOnlyRefused: true })
        return
      case 'error':
        if (m.kind === ErrorKind.ReadOnly) this.set({ readOnlyRefused: true })
        else this.lastError = { kind: m.kind, message: m.message } // the close that follows says if it is permanent
        return
      default:
        return
    }
  }

  private safeApply(update: Uint8Array): void {
    try {
      this.options.applyRemote(update)
    } catch (e) {
      // a malformed update from the server is dropped. One that builds on what this replica lacks
      // (refused whole, never kept pending: DLV-2) asks the server for the difference right away
      if (isMergeError(e, 'MissingDependencies'))
        this.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.options.doc) })
    }
  }

  private send(m: Message): void {
    const ws = this.ws
    if (ws && ws.readyState === ws.OPEN) ws.send(encodeMessage(m))
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== Origin.Server) this.send({ type: 'sync-update', update })
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === Origin.Server) return
    const changed = [...added, ...updated, ...removed]
    this.send({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(this.options.awareness, changed),
    })
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer !== null) return
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = null
        this.connect()
      },
      backoffDelay(this.state.attempt, this.backoff, this.random),
    )
  }

  /** Closes the socket now (e.g. the browser went offline: an open socket would linger otherwise). */
  disconnect(): void {
    const ws = this.ws
    this.ws = null
    this.timers.clearTimeout(this.timer)
    this.timer = null
    if (ws) {
      ws.onclose = null
      ws.close(1000, 'client disconnect')
    }
    if (this.state.connected) this.set({ connected: false })
  }

  /** Reconnects at once (e.g. the browser came back online), resetting the backoff. */
  reconnect(): void {
    this.disconnect()
    this.set({ attempt: 0 })
    this.connect()
  }

  destroy(): void {
    this.stopped = true
    this.disconnect()
    this.options.doc.off('update', this.onDocUpdate)
    this.options.awareness.off('update', this.onAwarenessUpdate)
    this.listeners.clear()
  }
}
