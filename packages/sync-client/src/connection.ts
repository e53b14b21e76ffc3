import {
  CloseCode,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  isPermanentClose,
} from '@converge/protocol'
import { isMergeError } from '@converge/merge'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'

/** The origin of changes that came from the server: never sent back to it. */
export const SERVER_ORIGIN = 'server'

export interface Backoff {
  readonly initialMs: number
  readonly maxMs: number
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface ConnectionOptions {
  /** e.g. `ws://localhost:8787/sync` — the space id and token are appended. */
  readonly serverUrl: string
  readonly spaceId: string
  readonly token: string | null
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  /** Applies an update from the server (through the merge package's validation). */
  readonly applyRemote: (update: Uint8Array) => void
  readonly WebSocket?: typeof WebSocket
  readonly backoff?: Backoff
  readonly random?: () => number
  readonly timers?: Timers
}

export interface ConnectionState {
  /** The socket is open and the first exchange with the server is done. */
  readonly connected: boolean
  /** The server's committed state vector (durable ack), if any was received on any connection. */
  readonly acked: Uint8Array | null
  /** A permanent error: the connection stopped and will not retry. */
  readonly error: { readonly kind: string; readonly message: string } | null
  /** The server refused our writes (read-only token). */
  readonly readOnlyRefused: boolean
  /** Failed attempts since the last successful sync. */
  readonly attempt: number
}

/** The delay before reconnect attempt `n` (1-based): exponential, capped, with jitter in [½, 1] of it. */
export const backoffDelay = (attempt: number, backoff: Backoff, random: () => number): number => {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(base * (0.5 + random() * 0.5))
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/**
 * A y-websocket-protocol connection for one space, with Converge's extension: it says `hello` and
 * tracks the server's durable acks. Reconnects with exponential backoff and full jitter; stops on
 * permanent close codes (PROTOCOL.md §P6). Sends every doc update that did not come from the server.
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
  private readonly WS: typeof WebSocket

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 }
    this.random = options.random ?? Math.random
    this.timers = options.timers ?? defaultTimers
    this.WS = options.WebSocket ?? globalThis.WebSocket
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
    // the browser says it is offline: do not open a socket that can only fail (the session reconnects on 'online')
    if (globalThis.navigator?.onLine === false) return
    const { serverUrl, spaceId, token } = this.options
    const url = `${serverUrl.replace(/\/$/, '')}/${encodeURIComponent(spaceId)}${token ? `?token=${encodeURIComponent(token)}` : ''}`
    let ws: WebSocket
    try {
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
      // peers removed us when the last socket closed: a renewed state (new clock) is accepted again;
      // the states of other tabs that this leader carries are re-sent with it
      const aw = this.options.awareness
      const local = aw.getLocalState()
      if (local !== null) aw.setLocalState(local)
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
      awarenessProtocol.removeAwarenessStates(this.options.awareness, others, SERVER_ORIGIN)
      if (isPermanentClose(event.code)) {
        this.set({
          connected: false,
          error: this.lastError ?? { kind: kindOf(event.code), message: event.reason },
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
        awarenessProtocol.applyAwarenessUpdate(awareness, m.update, SERVER_ORIGIN)
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
    if (origin !== SERVER_ORIGIN) this.send({ type: 'sync-update', update })
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === SERVER_ORIGIN) return
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

const kindOf = (code: number): string => {
  for (const [name, c] of Object.entries(CloseCode)) if (c === code) return name
  return `Close${code}`
}

/** Whether the server's committed state vector covers every change in `doc`. */
export const isCovered = (doc: Y.Doc, acked: Uint8Array | null): boolean => {
  if (!acked) return false
  const server = Y.decodeStateVector(acked)
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc)))
    if ((server.get(client) ?? 0) < clock) return false
  return true
}
