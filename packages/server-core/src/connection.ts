/**
 * One socket's session (PROTOCOL.md §P2, §P5; SPEC.md CONN-1, CORE-8): authentication first and
 * nothing of the space before it, frames queued and bounded meanwhile; then rate limits, decoding,
 * and the dispatch of each message to its room. Every refusal closes with the code that
 * `CLOSE_RULES` (`@converge/protocol`) gives its error kind, after an `error` message of that kind
 * to a client that said hello.
 */
import { isMergeError } from '@converge/merge/validate'
import {
  ChunkError,
  type ChunkMessage,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  Reassembler,
  closeCodeOf,
  decodeMessage,
  encodeMessage,
  knowsChunks,
} from '@converge/protocol'
import type { PreparedUpdate } from './document.js'
import type { CoreEvents } from './events.js'
import { chunkedFrames } from './chunked-frames.js'
import { type Limits, MAX_OPEN_CHUNKED, TokenBucket } from './limits.js'
import { MemoryBudgetExceeded } from './memory.js'
import {
  type Clock,
  type Logger,
  type Scheduler,
  StorageError,
  type StorageQuota,
  type Timer,
} from './ports.js'
import type { Room, RoomMember } from './room.js'

/** The only thing the core needs of a socket: any WebSocket (or a test pair) fits. */
export interface SocketLike {
  send(data: Uint8Array): void
  close(code: number, reason: string): void
  /** Bytes queued and not yet sent (a WebSocket's `bufferedAmount`): a socket that does not read fills it. */
  readonly bufferedAmount?: number
}

export type Access = 'read' | 'write'
export type AuthDecision =
  | {
      readonly ok: true
      readonly access: Access
      /**
       * The link generation the token names (PROTOCOL.md §P5.10): `SyncCore.revokeLinks` closes the
       * connection once the space's generation is past it. Absent: never revoked (AUTH=off).
       */
      readonly generation?: number
      /** When the token expires (ms, the core's Clock): the connection is closed then (REVOKE-4). */
      readonly expiresAt?: number
    }
  | {
      readonly ok: false
      readonly kind: 'Unauthorized' | 'Forbidden' | 'LinkRevoked'
      readonly reason: string
    }
/**
 * Decides what a token allows on a space. Never log the token. A `StorageError` it throws (the link
 * generation could not be read) closes with StorageUnavailable, to be retried; anything else it
 * throws counts as Unauthorized.
 */
export type Authenticate = (spaceId: string, token: string | null) => Promise<AuthDecision>

/** What the core tells of a connection to whoever picks connections to close (`SyncCore.closeConnections`). */
export interface ConnectionInfo {
  readonly id: number
  readonly spaceId: string
  /** What its token allows; null while it is still being authenticated. */
  readonly access: Access | null
  /** The link generation of its token (AuthDecision), if it said one. */
  readonly generation: number | undefined
  /** When its token expires (ms), if it does. */
  readonly expiresAt: number | undefined
}

/**
 * The longest wait a Scheduler is asked for: hosts' timers overflow past 2^31 − 1 ms (about 24.8
 * days; Node then fires at once), so an expiry further away is waited for in steps.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * CONN-4: how long a socket that came without `?token=` may take to send its `token` frame (or any
 * first frame: a stock client without a token is authenticated with none, as before).
 */
export const TOKEN_WAIT_MS = 10_000

/**
 * CONN-6 (PROTOCOL.md §P5.13): how long a client should wait before coming back after a close that
 * sheds load — told to clients of version ≥ 3 in a `retry-after` before the close. A restart is quick.
 */
export const RETRY_HINT_MS: Readonly<Partial<Record<string, number>>> = {
  ShuttingDown: 500,
  ServerFull: 5_000,
  StorageUnavailable: 2_000,
}

/** The first protocol version that knows `token`, `heartbeat` and `retry-after` (§P5.11–13). */
export const LIVENESS_SINCE_VERSION = 3

/** What the transport holds of a connection: it hands over frames and the socket's end. */
export interface ConnectionHandle {
  handleMessage(data: Uint8Array): void
  handleClose(): void
}

export const SPACE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** The error kinds a connection is closed with (every kind but ReadOnly, which keeps the socket open). */
export type CloseKind = Exclude<ErrorKind, typeof ErrorKind.ReadOnly>

/** What a connection needs of the core that holds it. */
export interface ConnectionHost {
  readonly limits: Limits
  readonly clock: Clock
  /** Acting later: the close at a token's expiry (REVOKE-4). */
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly events: CoreEvents
  readonly authenticate: Authenticate
  /** QUOTA-1: whether storage takes an update's bytes. */
  readonly storageQuota: StorageQuota
  /**
   * PROTOCOL.md §P7.3: what the transport holds a client's incoming bytes to beyond the core's own
   * rate (apps/server: the per-address budget), told to clients in `limits` so that they pace to it.
   */
  readonly clientRate?: { readonly bytesPerSecond: number; readonly burstBytes: number }
  /** The loaded room of a space (loading it once however many connections ask). */
  room(spaceId: string): Promise<Room>
  /** The connection is closed: the core forgets it. */
  forget(connection: Connection): void
}

let nextId = 1

export class Connection implements RoomMember, ConnectionHandle, ConnectionInfo {
  readonly id = nextId++
  readonly awarenessIds = new Set<number>()
  wantsAcks = false
  /** The version the client's hello named (0: no hello). */
  private peerVersion = 0
  /** LAG-5: whether its last report had a change unconfirmed past `laggingAfterMs`. */
  private lagging = false
  /** PROBE-4: when its last digest was compared. */
  private lastDigestAt = -Infinity
  /** CONN-4: the socket came without a token; its first frame may carry one. */
  private awaitingToken = false
  private tokenWait: Timer | null = null
  private state: 'auth' | 'loading' | 'open' | 'closed' = 'auth'
  private granted: Access | null = null
  /** The link generation of the token (REVOKE-1); undefined until authenticated, or when it names none. */
  generation: number | undefined = undefined
  expiresAt: number | undefined = undefined
  /** REVOKE-2: links below this were revoked while this connection was being authenticated. */
  private minGeneration = 0
  private expiry: Timer | null = null
  private room: Room | null = null
  /** ENGINE-1: a space of another engine than Yjs waits for a hello of a version that knows engines. */
  private joined = false
  private queue: Uint8Array[] = []
  private queuedBytes = 0
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket
  /** ANSWER-2: bytes of sync-step1 answers after the first. */
  private readonly answerBytes: TokenBucket
  /** A sync-step1 waiting for its answer (the latest one, if the client asked again meanwhile). */
  private asking: Uint8Array | null = null
  private answered = false
  private closing = false
  /**
   * COMMIT-5: relayed updates reach this member only once it has its first answer — which waits for
   * what is in flight to be committed — so a joiner sees nothing that is not durable yet first.
   */
  synced = false
  /** CHUNK-2: the messages this client is sending in chunks (made at its first chunk). */
  private chunks: Reassembler | null = null
  /** CHUNK-5: set while a message in chunks is open. */
  private chunkTimer: Timer | null = null

  constructor(
    private readonly host: ConnectionHost,
    private readonly socket: SocketLike,
    readonly spaceId: string,
  ) {
    const now = host.clock.now()
    const l = host.limits
    this.messages = new TokenBucket(l.maxMessagesPerSecond, l.maxMessagesPerSecond * 2, now)
    this.bytes = new TokenBucket(l.maxBytesPerSecond, l.maxBytesPerSecond * 2, now)
    this.answerBytes = new TokenBucket(l.maxAnswerBytesPerSecond, l.maxAnswerBytesPerSecond * 2, now)
  }

  /**
   * CONN-4: a socket that came without `?token=` (our client keeps the token out of URLs, which
   * browsers print in console errors): its first frame is `token`, authenticated like the query's;
   * any other first frame, or none within TOKEN_WAIT_MS, is a client without a token, as before.
   */
  awaitToken(): void {
    if (!SPACE_ID.test(this.spaceId)) {
      void this.start(null) // refused for its space id at once: no token can help it
      return
    }
    this.awaitingToken = true
    this.tokenWait = this.host.scheduler.setTimeout(() => {
      this.tokenWait = null
      if (!this.awaitingToken || this.state === 'closed') return
      this.awaitingToken = false
      void this.start(null)
    }, TOKEN_WAIT_MS)
  }

  /** Authenticates, loads the room, joins it, and then processes what was queued meanwhile. */
  async start(token: string | null): Promise<void> {
    const { host } = this
    let decision: AuthDecision | 'storage'
    if (!SPACE_ID.test(this.spaceId)) decision = { ok: false, kind: 'Unauthorized', reason: 'bad space id' }
    else {
      try {
        decision = await host.authenticate(this.spaceId, token)
      } catch (e) {
        if (e instanceof StorageError) decision = 'storage'
        else {
          host.logger.error({ spaceId: this.spaceId, err: String(e) }, 'authentication threw')
          decision = { ok: false, kind: 'Unauthorized', reason: 'authentication failed' }
        }
      }
    }
    if (this.state === 'closed') return
    if (decision === 'storage') {
      this.close(ErrorKind.StorageUnavailable, 'the link generation could not be read')
      return
    }
    if (!decision.ok) {
      host.events.authFailed?.(decision.kind)
      this.close(decision.kind, decision.reason)
      return
    }
    this.granted = decision.access
    this.generation = decision.generation
    this.expiresAt = decision.expiresAt
    if (this.generation !== undefined && this.generation < this.minGeneration) {
      // REVOKE-2: its links were reset while the token was being checked
      this.close(ErrorKind.LinkRevoked, 'this link was reset by someone in the space')
      return
    }
    if (this.expiresAt !== undefined) this.armExpiry(this.expiresAt)
    if (this.state !== 'auth') return // closed at once: the token expired meanwhile
    this.state = 'loading'
    let room: Room
    try {
      room = await host.room(this.spaceId)
    } catch (e) {
      if (e instanceof MemoryBudgetExceeded) this.close(ErrorKind.ServerFull, e.message)
      else this.close(ErrorKind.StorageUnavailable, 'the space could not be loaded')
      return
    }
    if (this.state !== 'loading') {
      room.releaseIfUnused() // closed while the space loaded: the room must not stay loaded forever
      return
    }
    this.room = room
    this.state = 'open'
    // ENGINE-1: a Yjs space is served at once, as to a stock y-websocket client (a hello naming another
    // engine closes the connection when it is read); nothing of an Automerge space goes to a client
    // before its hello names that engine
    if (room.engine === 'yjs' && !this.join(room)) return
    const queued = this.queue
    this.queue = []
    for (const frame of queued) if (this.state === 'open') this.process(frame)
  }

  /** Joins the room and sends the first sync-step1 and presence; false when its link is revoked (REVOKE-2). */
  private join(room: Room): boolean {
    // REVOKE-2: a room holds one link generation, the newest it has seen — this one may be too old
    if (!room.join(this)) return false
    this.joined = true
    // the committed state, not the document's: the client then resends whatever is not stored yet, even
    // what the document holds only because another instance relayed it before committing it
    this.send(encodeMessage({ type: 'sync-step1', stateVector: room.committed }))
    const aw = room.awarenessFrame()
    if (aw) this.send(aw)
    return true
  }

  send(frame: Uint8Array): void {
    if (this.state === 'closed') return
    if (!this.closing && (this.socket.bufferedAmount ?? 0) > this.host.limits.maxBufferedBytes) {
      // ANSWER-3: a socket that does not read what it is sent must not hold the server's memory
      this.close(ErrorKind.RateLimited, 'the client does not read what it is sent')
      return
    }
    // CHUNK-1, CHUNK-6: to a client that knows chunks, a frame past the frame limit goes in chunks,
    // split once however many members it goes to; the unread-bytes check above counts it as one
    const frames = knowsChunks(this.peerVersion)
      ? chunkedFrames(frame, this.host.limits.maxFrameBytes)
      : [frame]
    try {
      for (const f of frames) {
        this.socket.send(f)
        this.host.events.messageOut?.(f.length, 1)
      }
    } catch {
      this.handleClose()
    }
  }

  handleMessage(data: Uint8Array): void {
    if (this.state === 'closed') return
    if (data.length > this.host.limits.maxFrameBytes) {
      this.close(ErrorKind.MessageTooBig, `frame of ${data.length} bytes`)
      return
    }
    if (this.awaitingToken) {
      // CONN-4: the first frame of a socket without ?token=
      this.awaitingToken = false
      this.tokenWait?.cancel()
      this.tokenWait = null
      let first: Message | null = null
      try {
        first = decodeMessage(data)
      } catch {
        // queued below: processed (and refused) once the connection is open, like any other frame
      }
      if (first?.type === 'token') {
        void this.start(first.token)
        return
      }
      void this.start(null)
    }
    if (this.state !== 'open') {
      this.queue.push(data)
      this.queuedBytes += data.length
      const l = this.host.limits
      if (this.queue.length > l.maxPreAuthMessages || this.queuedBytes > l.maxPreAuthBytes)
        this.close(ErrorKind.PreAuthOverflow, 'too much sent before authentication')
      return
    }
    this.process(data)
  }

  private process(data: Uint8Array): void {
    const now = this.host.clock.now()
    if (!this.messages.take(1, now) || !this.bytes.take(data.length, now)) {
      this.close(ErrorKind.RateLimited, 'message or byte rate exceeded')
      return
    }
    let m: Message
    try {
      m = decodeMessage(data)
    } catch (e) {
      this.close(ErrorKind.MalformedFrame, e instanceof Error ? e.message : 'undecodable')
      return
    }
    this.host.events.messageIn?.(m.type, data.length)
    const room = this.room
    if (!room) return
    if (m.type === 'chunk') this.chunk(room, m)
    else this.dispatch(room, m)
  }

  /**
   * CHUNK-2…5 (PROTOCOL.md §P7.2, §P7.4): one chunk of a message this client sends in pieces. Its
   * frame already spent the rates (`process`); a message it begins is checked against the open count
   * and the space's room before any byte is kept. Once whole, the message is handled as if it had
   * come as one frame.
   */
  private chunk(room: Room, c: ChunkMessage): void {
    if (!knowsChunks(this.peerVersion)) {
      this.close(ErrorKind.MalformedFrame, 'a chunk from a client that did not say it knows them')
      return
    }
    const l = this.host.limits
    const chunks = (this.chunks ??= new Reassembler({
      maxOpen: MAX_OPEN_CHUNKED,
      maxFrameBytes: l.maxFrameBytes,
    }))
    let frame: Uint8Array | null
    try {
      frame = chunks.accept(
        c,
        this.host.clock.now(),
        l.maxDocumentBytes - room.storedBytes - chunks.announcedBytes,
      )
    } catch (e) {
      if (!(e instanceof ChunkError)) throw e
      const kind =
        e.why === 'too-large'
          ? ErrorKind.DocumentTooLarge
          : e.why === 'too-many'
            ? ErrorKind.RateLimited
            : ErrorKind.MalformedFrame
      this.close(kind, e.message)
      return
    }
    this.watchChunks()
    if (!frame) return
    let m: Message
    try {
      m = decodeMessage(frame)
    } catch (e) {
      this.close(ErrorKind.MalformedFrame, e instanceof Error ? e.message : 'undecodable')
      return
    }
    if (m.type === 'chunk') {
      this.close(ErrorKind.MalformedFrame, 'a chunk inside a message sent in chunks')
      return
    }
    this.host.events.messageIn?.(m.type, 0) // its bytes were counted with its chunks
    this.dispatch(room, m)
  }

  /** CHUNK-5: while a message is open in chunks, one that got none for `chunkIdleMs` closes with 4408. */
  private watchChunks(): void {
    const quietSince = this.chunks?.quietSince ?? null
    if (quietSince === null) {
      this.chunkTimer?.cancel()
      this.chunkTimer = null
      return
    }
    if (this.chunkTimer) return
    const idle = this.host.limits.chunkIdleMs
    this.chunkTimer = this.host.scheduler.setTimeout(
      () => {
        this.chunkTimer = null
        if (this.state === 'closed') return
        const since = this.chunks?.quietSince ?? null
        if (since !== null && this.host.clock.now() - since >= idle)
          this.close(ErrorKind.IncompleteMessage, `a message in chunks got none for ${idle} ms`)
        else this.watchChunks()
      },
      Math.max(0, quietSince + idle - this.host.clock.now()),
    )
  }

  private dispatch(room: Room, m: Exclude<Message, ChunkMessage>): void {
    if (!this.joined && m.type !== 'hello' && m.type !== 'heartbeat' && m.type !== 'token') {
      // ENGINE-1: a client that did not say it opened the space with its engine (a stock y-websocket client)
      this.close(ErrorKind.UnsupportedEngine, `this is a ${room.engine} space; the client said no hello`)
      return
    }
    switch (m.type) {
      case 'sync-step1':
        return this.ask(room, m.stateVector)
      case 'sync-step2':
      case 'sync-update':
        return this.update(room, m.update)
      case 'awareness': {
        // PRESENCE-1…5: the room applies only well-formed states for ids this connection owns
        let outcome
        try {
          outcome = room.applyAwareness(m.update, this)
        } catch {
          this.close(ErrorKind.MalformedFrame, 'undecodable awareness update')
          return
        }
        if (outcome === 'close') this.close(ErrorKind.InvalidUpdate, 'repeated invalid presence')
        return
      }
      case 'query-awareness': {
        const aw = room.awarenessFrame()
        if (aw) this.send(aw)
        return
      }
      case 'hello':
        this.wantsAcks = true
        this.peerVersion = m.version
        if ((m.engine ?? 'yjs') !== room.engine) {
          // ENGINE-1: its document could not read this space's updates, nor this space its
          this.close(
            ErrorKind.UnsupportedEngine,
            `this is a ${room.engine} space; the client opened it as ${(m.engine ?? 'yjs').slice(0, 32)}`,
          )
          return
        }
        this.send(encodeMessage({ type: 'hello', version: PROTOCOL_VERSION }))
        // CHUNK-1 (PROTOCOL.md §P7.3): a client that knows chunks is told the limits it is held to
        if (knowsChunks(m.version)) this.send(encodeMessage(this.limitsMessage(room)))
        if (!this.joined && !this.join(room)) return
        room.sendAck(this)
        return
      case 'heartbeat':
        // CONN-5: answered at once, so a client can tell a live server from a frozen one
        this.send(encodeMessage({ type: 'heartbeat' }))
        return
      case 'token':
        return // CONN-4: a token after authentication changes nothing
      case 'report':
        return this.report(m)
      case 'digest':
        return this.digest(room, m)
      default:
        this.close(ErrorKind.MalformedFrame, `a client does not send ${m.type}`)
    }
  }

  /** LAG-5: how far behind the device says it is — observed, and counted while it lags. */
  private report(m: Extract<Message, { type: 'report' }>): void {
    const { events, limits } = this.host
    events.clientReport?.({ unconfirmedAgeMs: m.unconfirmedAgeMs, sinceAckMs: m.sinceAckMs })
    const lagging = m.unconfirmedAgeMs !== null && m.unconfirmedAgeMs > limits.laggingAfterMs
    if (lagging !== this.lagging) events.laggingConnections?.(lagging ? 1 : -1)
    this.lagging = lagging
  }

  /**
   * PROBE-4, PROBE-5: the device's digest against the room's state, at most once per `digestEveryMs`
   * (more are ignored: one hash per document version, and nothing more per message). At an equal
   * version a different state is a divergence: counted, logged, repaired by a full exchange.
   */
  private digest(room: Room, m: Extract<Message, { type: 'digest' }>): void {
    const now = this.host.clock.now()
    if (now - this.lastDigestAt < this.host.limits.digestEveryMs) return
    this.lastDigestAt = now
    let verdict
    try {
      verdict = room.clientDigest(m.vector, m.hash)
    } catch {
      this.close(ErrorKind.MalformedFrame, 'a digest whose vector does not decode')
      return
    }
    if (verdict !== 'diverged') return
    this.host.events.divergence?.('client', this.spaceId)
    this.host.logger.warn(
      { spaceId: this.spaceId, conn: this.id },
      'divergence: a device at this version holds another state; repairing with a full exchange',
    )
    for (const frame of room.repairFrames()) this.send(frame)
  }

  /** PROTOCOL.md §P7.3: the frame limit, the space's limit and size, and the rate to keep to. */
  private limitsMessage(room: Room): Extract<Message, { type: 'limits' }> {
    const l = this.host.limits
    const t = this.host.clientRate
    const perAddress = t !== undefined && t.bytesPerSecond > 0
    return {
      type: 'limits',
      maxFrameBytes: l.maxFrameBytes,
      maxDocumentBytes: l.maxDocumentBytes,
      storedBytes: room.storedBytes,
      bytesPerSecond: perAddress ? Math.min(l.maxBytesPerSecond, t.bytesPerSecond) : l.maxBytesPerSecond,
      burstBytes: perAddress ? Math.min(2 * l.maxBytesPerSecond, t.burstBytes) : 2 * l.maxBytesPerSecond,
    }
  }

  /** ANSWER-1…2, COMMIT-5: answers a sync-step1, after the commit in flight, within the answer budget. */
  private ask(room: Room, stateVector: Uint8Array): void {
    try {
      room.document.decodeVector(stateVector)
    } catch {
      this.close(ErrorKind.MalformedFrame, 'undecodable state vector')
      return
    }
    const waiting = this.asking !== null
    this.asking = stateVector
    if (waiting) return // one answer, to the latest question
    void room.whenCommitted().then(() => {
      const latest = this.asking!
      this.asking = null
      if (this.state !== 'open' || room.closed) return
      const frame = room.answer(latest)
      if (this.answered && !this.answerBytes.take(frame.length, this.host.clock.now())) {
        this.close(ErrorKind.RateLimited, 'asked for the whole space too often')
        return
      }
      this.answered = true
      this.send(frame)
      this.synced = true
    })
  }

  private update(room: Room, update: Uint8Array): void {
    if (room.document.isEmpty(update)) return
    if (this.granted !== 'write') {
      // refused: not applied, not stored, not relayed; the socket stays open for reading (P5.4)
      this.host.events.rejected?.(ErrorKind.ReadOnly)
      this.host.logger.info({ spaceId: this.spaceId, conn: this.id }, 'update refused: read-only token')
      this.send(encodeMessage({ type: 'auth-denied', reason: 'read-only' }))
      if (this.wantsAcks)
        this.send(
          encodeMessage({ type: 'error', kind: ErrorKind.ReadOnly, message: 'this token is read-only' }),
        )
      return
    }
    if (room.storedBytes + update.length > this.host.limits.maxDocumentBytes) {
      this.close(ErrorKind.DocumentTooLarge, 'the space is at its size limit')
      return
    }
    // QUOTA-1: the server's storage as a whole (its quota, the disk) — retryable, unlike the above
    const full = this.host.storageQuota.admit(update.length)
    if (full !== null) {
      this.close(ErrorKind.StorageUnavailable, full)
      return
    }
    let prepared: PreparedUpdate
    try {
      prepared = room.document.prepare(update)
    } catch (e) {
      if (isMergeError(e, 'MissingDependencies')) {
        // CONN-2: it builds on changes this room lacks (a client types before it answered our
        // sync-step1, so its live update overtakes the changes it still has to send). Yjs would keep
        // it pending, and the room would store and acknowledge what no replica can show: refuse it
        // whole, and ask for the difference — the client's sync-step2 brings it with what it lacked
        this.host.logger.debug({ spaceId: this.spaceId, conn: this.id }, `update deferred: ${e.message}`)
        this.send(encodeMessage({ type: 'sync-step1', stateVector: room.document.stateVector() }))
        return
      }
      this.close(ErrorKind.InvalidUpdate, isMergeError(e) ? e.message : 'the update failed to apply')
      return
    }
    const growth = room.admits(prepared.summary)
    if (!growth.ok) {
      // MEM-2: the space would hold too many structs — permanent for this update; MEM-3: the server is
      // short of memory — retry later
      if (growth.why === 'structs') this.close(ErrorKind.DocumentTooLarge, 'the space holds too many pieces')
      else this.close(ErrorKind.ServerFull, 'the server is short of memory')
      return
    }
    try {
      room.applyClientUpdate(update, prepared, this, growth.structs)
    } catch (e) {
      this.close(ErrorKind.InvalidUpdate, e instanceof Error ? e.message : 'the update failed to apply')
    }
  }

  /** What its token allows; null while it is still being authenticated. */
  get access(): Access | null {
    return this.granted
  }

  /**
   * REVOKE-1, REVOKE-2: links of this space below `generation` are revoked. Closes this connection
   * with LinkRevoked when its token is older; one still being authenticated is closed as soon as its
   * decision names an older generation.
   */
  revoke(generation: number): void {
    if (this.state === 'closed') return
    if (this.state === 'auth') {
      this.minGeneration = Math.max(this.minGeneration, generation)
      return
    }
    if (this.generation !== undefined && this.generation < generation)
      this.close(ErrorKind.LinkRevoked, 'this link was reset by someone in the space')
  }

  /** REVOKE-4: closes at `expiresAt` through the Scheduler, in steps a host timer can wait. */
  private armExpiry(expiresAt: number): void {
    const left = expiresAt - this.host.clock.now()
    if (left <= 0) {
      this.close(ErrorKind.Unauthorized, 'this link has expired')
      return
    }
    this.expiry = this.host.scheduler.setTimeout(
      () => {
        this.expiry = null
        if (this.state !== 'closed') this.armExpiry(expiresAt)
      },
      Math.min(left, MAX_TIMER_MS),
    )
  }

  /**
   * Closes with the code CLOSE_RULES gives `kind`, after telling a hello'd client the kind; one log
   * line. Only this socket is affected (P5.6).
   */
  close(kind: CloseKind, reason: string): void {
    if (this.state === 'closed' || this.closing) return
    this.closing = true
    const code = closeCodeOf(kind)!
    if (this.wantsAcks) this.send(encodeMessage({ type: 'error', kind, message: reason }))
    const hint = RETRY_HINT_MS[kind]
    if (hint !== undefined && this.peerVersion >= LIVENESS_SINCE_VERSION)
      this.send(encodeMessage({ type: 'retry-after', ms: hint }))
    const shuttingDown = kind === ErrorKind.ShuttingDown
    this.host.logger[shuttingDown ? 'info' : 'warn'](
      { spaceId: this.spaceId, conn: this.id, code, kind },
      `closing connection: ${reason}`,
    )
    if (!shuttingDown) this.host.events.rejected?.(kind)
    try {
      this.socket.close(code, kind)
    } catch {
      /* already closed */
    }
    this.handleClose()
  }

  handleClose(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.expiry?.cancel()
    this.expiry = null
    this.tokenWait?.cancel()
    this.tokenWait = null
    this.chunkTimer?.cancel()
    this.chunkTimer = null
    this.chunks?.clear() // CHUNK-2: a message not whole when the socket closes is never applied
    this.queue = []
    if (this.lagging) this.host.events.laggingConnections?.(-1)
    this.lagging = false
    this.room?.leave(this)
    this.room?.releaseIfUnused() // one that never joined (ENGINE-1) leaves nothing to release otherwise
    this.host.forget(this)
  }
}
