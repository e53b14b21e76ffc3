import { Origin, isMergeError } from '@converge/merge'
import {
  type Backoff,
  CloseCode,
  ErrorKind,
  type Message,
  type NextStep,
  PROBE_SINCE_VERSION,
  PROTOCOL_VERSION,
  Reassembler,
  type ServerLimits,
  backoffDelay,
  closeRule,
  decodeMessage,
  encodeMessage,
  knowsChunks,
  splitFrame,
} from '@converge/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { type SyncDocument, yjsDocument } from './engine-codec.js'
import { type Timers, browser, given, onLine } from './browser.js'
import { type MessageEntry, MessageLog } from './message-log.js'
import { Pacer } from './pacer.js'
import { SpaceSize } from './space-size.js'

/** @deprecated `Origin.Server` from `@converge/merge` (or this package): the same string. */
export const SERVER_ORIGIN = Origin.Server

/**
 * SYNC-4: the browser client's backoff — short, so a server back from a restart has its clients
 * back within a few seconds (jittered, so they do not all come at once).
 */
export const CLIENT_BACKOFF: Backoff = { initialMs: 250, maxMs: 5_000 }

/** SYNC-14: a heartbeat is sent when nothing was heard for this long… */
export const HEARTBEAT_MS = 2_000
/** …and a server heard from in none of this many heartbeat periods is taken for gone (≤ 10 s). */
export const LIVENESS_MISSES = 3

/** PROBE-2: a connection to a server of version 5 or later reports how far behind the device is this often. */
export const REPORT_MS = 10_000
/** PROBE-3: a saved device sends a digest of its state when it turns saved, and at most this often. */
export const DIGEST_MS = 30_000
/** DIAG-1: the weight of the newest round trip in the smoothed one (as TCP's SRTT: ⅛). */
const RTT_GAIN = 1 / 8

/** The first server version that answers heartbeats and takes the token as a frame (PROTOCOL.md §P5.11–12). */
const LIVENESS_SINCE_VERSION = 3

/** LARGE-2: the largest chunk frame this client sends (smaller than the server's limit: smoother pacing). */
const MAX_CHUNK_FRAME = 256 * 1024
/** LARGE-2: the share of the server's advertised rate and burst a client uses (its address may have other sockets). */
const PACE_RATE = 0.9
const PACE_BURST = 0.5
/** LARGE-5: messages the server may have open in chunks to this client at once. */
const MAX_OPEN_FROM_SERVER = 4

/** SYNC-15: after the server said it is shutting down (a restart), come back at about its pace for this many tries. */
const RESTART_TRIES = 120

export interface ConnectionOptions {
  /** e.g. `ws://localhost:8787/sync` — the space id and token are appended. */
  readonly serverUrl: string
  readonly spaceId: string
  readonly token: string | null
  /** The replica: merge's Space (`spaceDocument`) on either engine, or a bare Y.Doc. */
  readonly doc: Y.Doc | SyncDocument
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
  /** The wall clock, ms since the epoch (reports, the message log, round trips). Default: `Date.now`. */
  readonly now?: () => number
  /**
   * PROBE-2: when the oldest change of this device the server has not confirmed was made (on `now`'s
   * clock), or null when there is none. Default: always null (a bare connection keeps no count).
   */
  readonly unconfirmedSince?: () => number | null
}

/**
 * DIAG-1: where the connection is, in one word. `open`: the socket is open and the first exchange
 * done; `connecting`: a socket is opening or in its first exchange; `waiting`: no socket, the next
 * try after a backoff; `offline`: the browser says it is offline; `stopped`: a permanent close
 * (SYNC-3); `closed`: the connection was ended here (the tab closed the space); `none`: there is no
 * connection at all (local only, or a space not registered yet).
 */
export type LinkState = 'open' | 'connecting' | 'waiting' | 'offline' | 'stopped' | 'closed' | 'none'

/** DIAG-1: what the connection knows of itself, for the diagnostics (no token, nothing of the space). */
export interface ConnectionFacts {
  readonly link: LinkState
  /** The version the server's hello named on this socket; null before it (or without a socket). */
  readonly serverVersion: number | null
  /** Failed attempts since the last successful sync. */
  readonly attempt: number
  /** The error kind of a permanent close (SYNC-3), else null. */
  readonly error: string | null
  /** Whether the browser says it is online. */
  readonly online: boolean
  /** The last heartbeat's round trip, ms (SYNC-14: sent when the socket is quiet); null: none yet. */
  readonly rttMs: number | null
  /** The round trips smoothed (each new one weighs ⅛); null: none yet. */
  readonly smoothedRttMs: number | null
  /** When the last durable ack arrived (any socket of this connection); null: none yet. */
  readonly lastAckAt: number | null
  /** The vector that ack covers, in the space's engine's encoding (as on the wire). */
  readonly acked: Uint8Array | null
  /** The recent messages, oldest first (DIAG-2). */
  readonly messages: readonly MessageEntry[]
  /** Reports (PROBE-2) and digests (PROBE-3) sent, since the connection was made. */
  readonly reportsSent: number
  readonly digestsSent: number
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
  /** Whether the browser said it was online when this state was made (SYNC-13: offline or unreachable). */
  readonly online: boolean
  /**
   * LARGE-3: the space's size by the server's count (a live object, the same in every state of one
   * connection). Always set by `SyncConnection`.
   */
  readonly size?: SpaceSize
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
  /** The version the server's hello named on this socket (0: none yet). */
  private serverVersion = 0
  /** LARGE-1: the server's hello (and, from one that knows chunks, its `limits`) arrived on this socket. */
  private handshaken = false
  /** LARGE-1: the server's sync-step1, answered once the handshake is done. */
  private pendingStep1: Uint8Array | null = null
  /** LARGE-2: the server's `limits` on this socket (null: none, so nothing goes in chunks or paced). */
  private limits: ServerLimits | null = null
  private pacer: Pacer | null = null
  /** LARGE-5: the messages the server is sending in chunks on this socket. */
  private incoming: Reassembler | null = null
  private nextChunkId = 1
  /** LARGE-3: the space's size by the server's count. */
  readonly size: SpaceSize
  /** SYNC-14: a frame arrived since the last heartbeat tick; ticks without one in a row. */
  private heard = false
  private missed = 0
  private beat: unknown = null
  /** Any frame arrived on this socket (the token-frame fallback needs to know). */
  private receivedAny = false
  /** SYNC-16: the server refused the token frame (an older server): put the token in the URL. */
  private tokenInUrl = false
  /** SYNC-15: what the server said to wait before coming back (`retry-after`), for the next try. */
  private retryHint: number | null = null
  /** SYNC-15: tries left at the restart pace, and that pace. */
  private restartTries = 0
  private restartPace = 500
  private stopped = false
  /** DIAG-1: when the last durable ack arrived; the round trips of heartbeats. */
  private lastAckAt: number | null = null
  private heartbeatAt: number | null = null
  private rttMs: number | null = null
  private smoothedRttMs: number | null = null
  /** DIAG-2: the recent messages. */
  private readonly log = new MessageLog()
  private readonly activity = new Set<() => void>()
  /** PROBE-2, PROBE-3: the report's and the digest's timers on this socket, and the last digest's time. */
  private reportTimer: unknown = null
  private digestTimer: unknown = null
  private lastDigestAt: number | null = null
  private reportsSent = 0
  private digestsSent = 0
  private lastError: { kind: string; message: string } | null = null
  private state: ConnectionState = {
    connected: false,
    acked: null,
    error: null,
    readOnlyRefused: false,
    attempt: 0,
    online: true,
  }
  private readonly listeners = new Set<(s: ConnectionState) => void>()
  private readonly backoff: Backoff
  private readonly random: () => number
  private readonly timers: Timers
  private readonly WS: typeof WebSocket | null
  private readonly isOnline: () => boolean
  private readonly now: () => number

  /** ENG-1: the replica as the connection reads it. */
  private readonly document: SyncDocument
  private readonly stopDocument: () => void

  constructor(private readonly options: ConnectionOptions) {
    this.document = options.doc instanceof Y.Doc ? yjsDocument(options.doc) : options.doc
    this.backoff = options.backoff ?? CLIENT_BACKOFF
    this.random = options.random ?? Math.random
    this.timers = options.timers ?? browser.timers()
    this.WS = given(options.WebSocket, browser.WebSocket)
    this.isOnline = options.isOnline ?? (() => onLine(browser.navigator()))
    this.now = options.now ?? browser.now
    this.state = { ...this.state, online: this.isOnline() }
    this.size = new SpaceSize(this.document)
    this.state = { ...this.state, size: this.size }
    this.stopDocument = this.document.onUpdate(this.onDocUpdate)
    options.awareness.on('update', this.onAwarenessUpdate)
  }

  get current(): ConnectionState {
    return this.state
  }

  subscribe(fn: (s: ConnectionState) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** DIAG-1: what the connection knows of itself now. */
  facts(): ConnectionFacts {
    const s = this.state
    const link: LinkState = s.error
      ? 'stopped'
      : this.stopped
        ? 'closed'
        : !this.isOnline()
          ? 'offline'
          : s.connected
            ? 'open'
            : this.ws !== null
              ? 'connecting'
              : 'waiting'
    return {
      link,
      serverVersion: this.ws !== null && this.serverVersion > 0 ? this.serverVersion : null,
      attempt: s.attempt,
      error: s.error?.kind ?? null,
      online: this.isOnline(),
      rttMs: this.rttMs,
      smoothedRttMs: this.smoothedRttMs,
      lastAckAt: this.lastAckAt,
      acked: s.acked,
      messages: this.log.entries(),
      reportsSent: this.reportsSent,
      digestsSent: this.digestsSent,
    }
  }

  /** DIAG-1: told of every message in or out and every round trip measured (the state has `subscribe`). */
  onActivity(fn: () => void): () => void {
    this.activity.add(fn)
    return () => this.activity.delete(fn)
  }

  private record(dir: 'in' | 'out', type: string, bytes: number): void {
    this.log.push({ at: this.now(), dir, type, bytes })
    for (const fn of this.activity) fn()
  }

  private set(patch: Partial<ConnectionState>): void {
    this.state = { ...this.state, ...patch, online: this.isOnline() }
    for (const l of this.listeners) l(this.state)
  }

  connect(): void {
    if (this.stopped || this.ws || this.state.error) return
    this.timers.clearTimeout(this.timer)
    this.timer = null
    // the browser says it is offline: do not open a socket that can only fail (SYNC-8: 'online' reconnects)
    if (!this.isOnline()) return
    const { serverUrl, spaceId, token } = this.options
    // SYNC-16: the token goes in the socket's first frame, not in the URL, which a browser prints in
    // its console when a socket fails — unless the server is too old to take it that way
    const inUrl = token !== null && this.tokenInUrl
    const url = `${serverUrl.replace(/\/$/, '')}/${encodeURIComponent(spaceId)}${inUrl ? `?token=${encodeURIComponent(token)}` : ''}`
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
    this.serverVersion = 0
    this.receivedAny = false
    this.resetSocket()
    ws.onopen = () => {
      this.lastError = null
      if (token !== null && !inUrl) this.send({ type: 'token', token })
      // ENG-1: the hello names the engine the space was opened with (PROTOCOL.md §P8.1)
      this.send({ type: 'hello', version: PROTOCOL_VERSION, engine: this.document.engine })
      this.startHeartbeat(ws)
      this.send({ type: 'sync-step1', stateVector: this.document.stateVector() })
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
      this.heard = true
      this.receivedAny = true
      let m: Message
      try {
        m = decodeMessage(new Uint8Array(event.data))
      } catch {
        this.record('in', 'undecodable', event.data.byteLength)
        return // a server we do not understand: ignore the frame, keep the connection
      }
      // DIAG-2: a message in chunks is logged once, whole, when it came together
      if (m.type !== 'chunk') this.record('in', m.type, event.data.byteLength)
      this.onMessage(m)
    }
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return
      this.closed(event.code, event.reason, token !== null && !inUrl)
    }
  }

  /** The socket is gone (closed by the server, the network, or — SYNC-14 — given up on here). */
  private closed(code: number, reason: string, sentTokenFrame: boolean): void {
    this.ws = null
    this.stopHeartbeat()
    this.resetSocket()
    const others = [...this.options.awareness.getStates().keys()].filter(
      (id) => id !== this.options.awareness.clientID,
    )
    awarenessProtocol.removeAwarenessStates(this.options.awareness, others, Origin.Server)
    if (code === CloseCode.MalformedFrame && sentTokenFrame && !this.receivedAny) {
      // SYNC-16: a server from before the token frame refused it as undecodable: the URL, then
      this.tokenInUrl = true
      this.set({ connected: false })
      this.scheduleReconnect(0)
      return
    }
    const rule = closeRule(code, this.lastError?.kind)
    if (rule.permanent) {
      this.set({
        connected: false,
        error: { kind: rule.kind, message: this.lastError?.message ?? reason, next: rule.next },
      })
      return
    }
    if (rule.kind === ErrorKind.ShuttingDown) {
      // SYNC-15: a restart — come back at about the pace it says (default 0.5 s) until it is back
      this.restartTries = RESTART_TRIES
      this.restartPace = this.retryHint ?? 500
    }
    this.set({ connected: false, attempt: this.state.attempt + 1 })
    this.scheduleReconnect()
  }

  /**
   * SYNC-14: liveness. Every HEARTBEAT_MS a tick: a server heard from in none of LIVENESS_MISSES
   * ticks in a row is taken for gone — the socket is dropped here, without waiting for a close the
   * frozen server cannot send — and a quiet one is sent a heartbeat, which a live server answers at
   * once. Only with a server that said hello with a version that answers heartbeats.
   */
  private startHeartbeat(ws: WebSocket): void {
    this.stopHeartbeat()
    this.heard = true
    this.missed = 0
    const tick = (): void => {
      this.beat = null
      if (this.ws !== ws) return
      if (this.serverVersion >= LIVENESS_SINCE_VERSION) {
        this.missed = this.heard ? 0 : this.missed + 1
        if (this.missed >= LIVENESS_MISSES) {
          ws.onopen = ws.onmessage = ws.onclose = null
          try {
            ws.close(4000, 'the server does not answer')
          } catch {
            // closing a socket to a frozen server can only fail quietly
          }
          this.closed(1006, 'the server does not answer', false)
          return
        }
        if (!this.heard) {
          // DIAG-1: the round trip is measured from the first heartbeat not answered yet
          this.heartbeatAt ??= this.now()
          this.send({ type: 'heartbeat' })
        }
      }
      this.heard = false
      this.beat = this.timers.setTimeout(tick, HEARTBEAT_MS)
    }
    this.beat = this.timers.setTimeout(tick, HEARTBEAT_MS)
  }

  private stopHeartbeat(): void {
    if (this.beat !== null) this.timers.clearTimeout(this.beat)
    this.beat = null
  }

  private onMessage(m: Message): void {
    const { awareness } = this.options
    switch (m.type) {
      case 'sync-step1':
        // LARGE-1: answered once the server said whether it takes chunks (the answer may be large)
        if (this.handshaken) this.answer(m.stateVector)
        else this.pendingStep1 = m.stateVector
        return
      case 'sync-step2':
        if (!this.handshaken) this.handshakeDone() // a server that never says hello
        this.safeApply(m.update)
        this.restartTries = 0
        this.set({ connected: true, attempt: 0 })
        this.checkDigest()
        return
      case 'sync-update':
        this.size.add(m.update.length) // LARGE-3: the server stores it too
        this.safeApply(m.update)
        return
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(awareness, m.update, Origin.Server)
        return
      case 'durable-ack':
        this.lastAckAt = this.now()
        this.set({ acked: m.stateVector })
        this.checkDigest()
        return
      case 'heartbeat':
        this.heartbeatAnswered()
        return
      case 'hello':
        this.serverVersion = m.version
        this.startReports()
        // LARGE-1: a server that knows chunks sends its limits next; an older one takes no chunks
        if (!knowsChunks(m.version)) this.handshakeDone()
        return
      case 'limits':
        this.limits = m
        this.size.reported(m)
        this.pacer?.stop()
        this.pacer = new Pacer(
          (frame) => this.sendNow(frame),
          this.timers,
          Math.max(1, m.bytesPerSecond * PACE_RATE),
          Math.max(1, m.burstBytes * PACE_BURST),
        )
        this.handshakeDone()
        return
      case 'chunk':
        this.takeChunk(m)
        return
      case 'retry-after':
        this.retryHint = m.ms // SYNC-15: for the next try, after the close that follows
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
        this.send({ type: 'sync-step1', stateVector: this.document.stateVector() })
    }
  }

  /**
   * LARGE-2: to a server that sent its limits, a frame past its frame limit goes in chunks, and
   * document messages go through the pacer, in order; the rest (presence, heartbeats: small, in no
   * order with the document) at once, so a long upload never starves the liveness check.
   */
  private send(m: Message): void {
    const ws = this.ws
    if (!ws || ws.readyState !== ws.OPEN) return
    const frame = encodeMessage(m)
    this.record('out', m.type, frame.length)
    const limits = this.limits
    if (!limits || !this.pacer || (m.type !== 'sync-step2' && m.type !== 'sync-update')) {
      ws.send(frame)
      return
    }
    const max = Math.min(limits.maxFrameBytes, MAX_CHUNK_FRAME)
    this.pacer.push(
      frame.length > limits.maxFrameBytes ? splitFrame(frame, max, this.nextChunkId++) : [frame],
    )
  }

  private sendNow(frame: Uint8Array): void {
    const ws = this.ws
    if (ws && ws.readyState === ws.OPEN) ws.send(frame)
  }

  /** LARGE-1: what the server lacks of what it asked for; counted as stored with the space (LARGE-3). */
  private answer(stateVector: Uint8Array): void {
    let update: Uint8Array
    try {
      update = this.document.encodeStateAsUpdate(stateVector)
    } catch {
      return // a vector this replica cannot read (a server of another engine closes the socket next)
    }
    this.size.add(update.length)
    this.send({ type: 'sync-step2', update })
  }

  /** LARGE-1: the server said what it takes: the sync-step1 waiting for an answer gets it now. */
  private handshakeDone(): void {
    if (this.handshaken) return
    this.handshaken = true
    const step1 = this.pendingStep1
    this.pendingStep1 = null
    if (step1) this.answer(step1)
  }

  /**
   * LARGE-5: a chunk from the server; the message it completes is handled as if it came whole. One
   * that does not come together (a bug, or a hostile server) drops the socket: the next one syncs
   * from the start.
   */
  private takeChunk(c: Extract<Message, { type: 'chunk' }>): void {
    const limits = this.limits
    const incoming = (this.incoming ??= new Reassembler({
      maxOpen: MAX_OPEN_FROM_SERVER,
      maxFrameBytes: limits?.maxFrameBytes ?? 64,
    }))
    let whole: Message | null
    let bytes = 0
    try {
      const frame = incoming.accept(c, 0, Math.max(64 * 1024 * 1024, 2 * (limits?.maxDocumentBytes ?? 0)))
      if (!frame) return
      bytes = frame.length
      whole = decodeMessage(frame)
    } catch {
      whole = null
    }
    if (whole && whole.type !== 'chunk') {
      this.record('in', whole.type, bytes)
      this.onMessage(whole)
      return
    }
    const ws = this.ws
    if (!ws) return
    ws.onopen = ws.onmessage = ws.onclose = null
    try {
      ws.close(4000, 'a message from the server did not come together')
    } catch {
      // the socket is going anyway
    }
    this.closed(1006, 'a message from the server did not come together', false)
  }

  /** DIAG-1: a heartbeat's answer: the round trip, and the smoothed one. */
  private heartbeatAnswered(): void {
    const sent = this.heartbeatAt
    if (sent === null) return
    this.heartbeatAt = null
    const rtt = Math.max(0, this.now() - sent)
    this.rttMs = rtt
    this.smoothedRttMs =
      this.smoothedRttMs === null ? rtt : this.smoothedRttMs + (rtt - this.smoothedRttMs) * RTT_GAIN
    for (const fn of this.activity) fn()
  }

  /**
   * PROBE-2: to a server of version 5 or later, every REPORT_MS while the socket is open, how far
   * behind this device is: the age of its oldest change the server has not confirmed, and the time
   * since the last durable ack (null: none).
   */
  private startReports(): void {
    if (this.serverVersion < PROBE_SINCE_VERSION || this.reportTimer !== null) return
    const ws = this.ws
    const tick = (): void => {
      this.reportTimer = null
      if (this.ws !== ws || ws === null) return
      const now = this.now()
      const since = this.options.unconfirmedSince?.() ?? null
      this.send({
        type: 'report',
        unconfirmedAgeMs: since === null ? null : Math.max(0, now - since),
        sinceAckMs: this.lastAckAt === null ? null : Math.max(0, now - this.lastAckAt),
      })
      this.reportsSent++
      this.reportTimer = this.timers.setTimeout(tick, REPORT_MS)
    }
    this.reportTimer = this.timers.setTimeout(tick, REPORT_MS)
  }

  /**
   * PROBE-3: whether the status is "saved" on this socket — open, synced, the last durable ack
   * covering every change of the replica — to a server that takes digests.
   */
  private savedHere(): boolean {
    const ws = this.ws
    const acked = this.state.acked
    return (
      ws !== null &&
      ws.readyState === ws.OPEN &&
      this.state.connected &&
      this.serverVersion >= PROBE_SINCE_VERSION &&
      acked !== null &&
      this.document.stateDigest !== undefined &&
      (this.document.coveredBy?.(acked) ?? false)
    )
  }

  /**
   * PROBE-3: when the status turns "saved", a digest of the replica's state goes to the server — at
   * once, unless one went less than DIGEST_MS ago on this socket (then when that much has passed, if
   * still saved) — and another every DIGEST_MS while it stays saved. A mismatch at an equal version
   * is answered by a full exchange, which is handled as any sync message.
   */
  private checkDigest(): void {
    if (this.digestTimer !== null || !this.savedHere()) return
    const wait = this.lastDigestAt === null ? 0 : this.lastDigestAt + DIGEST_MS - this.now()
    if (wait > 0) {
      this.digestTimer = this.timers.setTimeout(this.digestDue, wait)
      return
    }
    this.sendDigest()
  }

  private readonly digestDue = (): void => {
    this.digestTimer = null
    if (this.savedHere()) this.sendDigest()
  }

  private sendDigest(): void {
    let hash: Uint8Array | undefined
    try {
      hash = this.document.stateDigest?.()
    } catch {
      hash = undefined
    }
    if (hash === undefined) return // a replica that cannot say: no digest
    this.send({ type: 'digest', vector: this.document.stateVector(), hash })
    this.digestsSent++
    this.lastDigestAt = this.now()
    this.digestTimer = this.timers.setTimeout(this.digestDue, DIGEST_MS)
  }

  /** A socket opened or went: nothing of the last one's handshake, chunks or pacing carries over. */
  private resetSocket(): void {
    this.handshaken = false
    this.heartbeatAt = null
    if (this.reportTimer !== null) this.timers.clearTimeout(this.reportTimer)
    if (this.digestTimer !== null) this.timers.clearTimeout(this.digestTimer)
    this.reportTimer = this.digestTimer = null
    this.lastDigestAt = null
    this.pendingStep1 = null
    this.limits = null
    this.pacer?.stop()
    this.pacer = null
    this.incoming?.clear()
    this.incoming = null
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === Origin.Server) return
    this.size.add(update.length) // LARGE-3: it will be stored with the space, now or on reconnect
    // LARGE-1: before the handshake, the answer to the server's sync-step1 will carry it
    if (this.handshaken) this.send({ type: 'sync-update', update })
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

  /** The wait before the next try (SYNC-4, SYNC-15). */
  private nextDelay(): number {
    const hint = this.retryHint
    this.retryHint = null
    if (this.restartTries > 0) {
      this.restartTries--
      return this.restartPace * (1 + this.random() / 2)
    }
    const backoff = backoffDelay(this.state.attempt, this.backoff, this.random)
    return hint === null ? backoff : Math.max(backoff, hint * (1 + this.random() / 2))
  }

  private scheduleReconnect(delay = this.nextDelay()): void {
    if (this.stopped || this.timer !== null) return
    this.timer = this.timers.setTimeout(() => {
      this.timer = null
      this.connect()
    }, delay)
  }

  /** Closes the socket now (e.g. the browser went offline: an open socket would linger otherwise). */
  disconnect(): void {
    const ws = this.ws
    this.ws = null
    this.stopHeartbeat()
    this.resetSocket()
    this.timers.clearTimeout(this.timer)
    this.timer = null
    if (ws) {
      ws.onclose = null
      ws.close(1000, 'client disconnect')
    }
    // always: the status reads `online` from the state (SYNC-13), and the browser may just have gone offline
    this.set({ connected: false })
  }

  /**
   * SYNC-8: the page got focus — if the connection is waiting out a backoff (not connected, no socket
   * being opened, not stopped for good), it tries now with the backoff reset.
   */
  wake(): void {
    if (this.stopped || this.ws !== null || this.state.connected || this.state.error) return
    this.reconnect()
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
    this.stopDocument()
    this.options.awareness.off('update', this.onAwarenessUpdate)
    this.listeners.clear()
    this.activity.clear()
  }
}
