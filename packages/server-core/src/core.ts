import { isMergeError, validateYjsUpdate } from '@converge/merge/validate'
import {
  CloseCode,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
} from '@converge/protocol'
import * as Y from 'yjs'
import type { CoreEvents } from './events.js'
import { type Limits, TokenBucket, defaultLimits } from './limits.js'
import { type Clock, type FanOut, type Logger, type Persistence, silentLogger, systemClock } from './ports.js'
import { Room, type RoomMember } from './room.js'

/** The only thing the core needs of a socket: any WebSocket (or a test pair) fits. */
export interface SocketLike {
  send(data: Uint8Array): void
  close(code: number, reason: string): void
}

export type Access = 'read' | 'write'
export type AuthDecision =
  | { readonly ok: true; readonly access: Access }
  | { readonly ok: false; readonly kind: 'Unauthorized' | 'Forbidden'; readonly reason: string }
/** Decides what a token allows on a space. Never log the token. */
export type Authenticate = (spaceId: string, token: string | null) => Promise<AuthDecision>

export interface SyncCoreOptions {
  readonly persistence: Persistence
  readonly authenticate: Authenticate
  readonly fanOut?: FanOut
  readonly limits?: Partial<Limits>
  readonly clock?: Clock
  readonly logger?: Logger
  readonly events?: CoreEvents
}

export interface ConnectionHandle {
  handleMessage(data: Uint8Array): void
  handleClose(): void
}

export const SPACE_ID = /^[A-Za-z0-9_-]{1,64}$/

const isEmptyUpdate = (u: Uint8Array): boolean => u.length === 2 && u[0] === 0 && u[1] === 0

let nextId = 1

class Connection implements RoomMember, ConnectionHandle {
  readonly id = nextId++
  readonly awarenessIds = new Set<number>()
  wantsAcks = false
  private state: 'auth' | 'loading' | 'open' | 'closed' = 'auth'
  private access: Access = 'read'
  private room: Room | null = null
  private queue: Uint8Array[] = []
  private queuedBytes = 0
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket

  constructor(
    private readonly core: SyncCore,
    private readonly socket: SocketLike,
    readonly spaceId: string,
  ) {
    const now = core.clock.now()
    const l = core.limits
    this.messages = new TokenBucket(l.maxMessagesPerSecond, l.maxMessagesPerSecond * 2, now)
    this.bytes = new TokenBucket(l.maxBytesPerSecond, l.maxBytesPerSecond * 2, now)
  }

  async start(token: string | null): Promise<void> {
    const { core } = this
    let decision: AuthDecision
    if (!SPACE_ID.test(this.spaceId)) decision = { ok: false, kind: 'Unauthorized', reason: 'bad space id' }
    else {
      try {
        decision = await core.authenticate(this.spaceId, token)
      } catch (e) {
        core.logger.error({ spaceId: this.spaceId, err: String(e) }, 'authentication threw')
        decision = { ok: false, kind: 'Unauthorized', reason: 'authentication failed' }
      }
    }
    if (this.state === 'closed') return
    if (!decision.ok) {
      core.events.authFailed?.(decision.kind)
      const code = decision.kind === 'Forbidden' ? CloseCode.Forbidden : CloseCode.Unauthorized
      this.close(code, decision.kind, decision.reason)
      return
    }
    this.access = decision.access
    this.state = 'loading'
    let room: Room
    try {
      room = await core.room(this.spaceId)
    } catch {
      this.close(CloseCode.StorageUnavailable, ErrorKind.StorageUnavailable, 'the space could not be loaded')
      return
    }
    if (this.state !== 'loading') {
      room.releaseIfUnused() // closed while the space loaded: the room must not stay loaded forever
      return
    }
    this.room = room
    room.join(this)
    this.state = 'open'
    // the committed state, not the document's: the client then resends whatever is not stored yet, even
    // what the document holds only because another instance relayed it before committing it
    this.send(encodeMessage({ type: 'sync-step1', stateVector: room.committed }))
    const aw = room.awarenessFrame()
    if (aw) this.send(aw)
    const queued = this.queue
    this.queue = []
    for (const frame of queued) if (this.state === 'open') this.process(frame)
  }

  send(frame: Uint8Array): void {
    if (this.state === 'closed') return
    try {
      this.socket.send(frame)
      this.core.events.messageOut?.(frame.length, 1)
    } catch {
      this.handleClose()
    }
  }

  handleMessage(data: Uint8Array): void {
    if (this.state === 'closed') return
    if (data.length > this.core.limits.maxFrameBytes) {
      this.close(CloseCode.MessageTooBig, ErrorKind.MessageTooBig, `frame of ${data.length} bytes`)
      return
    }
    if (this.state !== 'open') {
      this.queue.push(data)
      this.queuedBytes += data.length
      const l = this.core.limits
      if (this.queue.length > l.maxPreAuthMessages || this.queuedBytes > l.maxPreAuthBytes)
        this.close(
          CloseCode.PreAuthOverflow,
          ErrorKind.PreAuthOverflow,
          'too much sent before authentication',
        )
      return
    }
    this.process(data)
  }

  private process(data: Uint8Array): void {
    const now = this.core.clock.now()
    if (!this.messages.take(1, now) || !this.bytes.take(data.length, now)) {
      this.close(CloseCode.RateLimited, ErrorKind.RateLimited, 'message or byte rate exceeded')
      return
    }
    let m: Message
    try {
      m = decodeMessage(data)
    } catch (e) {
      this.close(
        CloseCode.MalformedFrame,
        ErrorKind.MalformedFrame,
        e instanceof Error ? e.message : 'undecodable',
      )
      return
    }
    this.core.events.messageIn?.(m.type, data.length)
    const room = this.room
    if (!room) return
    switch (m.type) {
      case 'sync-step1': {
        let diff: Uint8Array
        try {
          diff = Y.encodeStateAsUpdate(room.doc, m.stateVector)
        } catch {
          this.close(CloseCode.MalformedFrame, ErrorKind.MalformedFrame, 'undecodable state vector')
          return
        }
        this.send(encodeMessage({ type: 'sync-step2', update: diff }))
        return
      }
      case 'sync-step2':
      case 'sync-update':
        return this.update(room, m.update)
      case 'awareness':
        try {
          room.applyAwareness(m.update, this)
        } catch {
          this.close(CloseCode.MalformedFrame, ErrorKind.MalformedFrame, 'undecodable awareness update')
        }
        return
      case 'query-awareness': {
        const aw = room.awarenessFrame()
        if (aw) this.send(aw)
        return
      }
      case 'hello':
        this.wantsAcks = true
        this.send(encodeMessage({ type: 'hello', version: PROTOCOL_VERSION }))
        this.send(encodeMessage({ type: 'durable-ack', stateVector: room.committed }))
        return
      default:
        this.close(CloseCode.MalformedFrame, ErrorKind.MalformedFrame, `a client does not send ${m.type}`)
    }
  }

  private update(room: Room, update: Uint8Array): void {
    if (isEmptyUpdate(update)) return
    if (this.access !== 'write') {
      // refused: not applied, not stored, not relayed; the socket stays open for reading
      this.core.events.rejected?.(ErrorKind.ReadOnly)
      this.core.logger.info({ spaceId: this.spaceId, conn: this.id }, 'update refused: read-only token')
      this.send(encodeMessage({ type: 'auth-denied', reason: 'read-only' }))
      if (this.wantsAcks)
        this.send(
          encodeMessage({ type: 'error', kind: ErrorKind.ReadOnly, message: 'this token is read-only' }),
        )
      return
    }
    if (room.storedBytes + update.length > this.core.limits.maxDocumentBytes) {
      this.close(CloseCode.DocumentTooLarge, ErrorKind.DocumentTooLarge, 'the space is at its size limit')
      return
    }
    try {
      validateYjsUpdate(update)
      room.applyClientUpdate(update, this)
    } catch (e) {
      const reason = isMergeError(e) ? e.message : 'the update failed to apply'
      this.close(CloseCode.MalformedFrame, ErrorKind.InvalidUpdate, reason)
    }
  }

  /** Closes with a documented code, after telling a hello'd client the error kind; one log line. */
  close(code: number, kind: string, reason: string): void {
    if (this.state === 'closed') return
    if (this.wantsAcks) this.send(encodeMessage({ type: 'error', kind, message: reason }))
    const level = code === CloseCode.GoingAway ? 'info' : 'warn'
    this.core.logger[level](
      { spaceId: this.spaceId, conn: this.id, code, kind },
      `closing connection: ${reason}`,
    )
    if (code !== CloseCode.GoingAway) this.core.events.rejected?.(kind)
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
    this.queue = []
    this.room?.leave(this)
    this.core.forget(this)
  }
}

/**
 * The sync server without a transport: hand it sockets (`connect`) and their frames
 * (`handleMessage`); it authenticates, loads spaces lazily, validates and bounds every input,
 * relays, commits before acknowledging, and unloads idle spaces.
 */
export class SyncCore {
  readonly limits: Limits
  readonly clock: Clock
  readonly logger: Logger
  readonly events: CoreEvents
  readonly authenticate: Authenticate
  private readonly persistence: Persistence
  private readonly fanOut: FanOut | undefined
  private readonly rooms = new Map<string, { room: Room; ready: Promise<Room> }>()
  private readonly connections = new Set<Connection>()
  private closing = false

  constructor(options: SyncCoreOptions) {
    this.limits = { ...defaultLimits, ...options.limits }
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? silentLogger
    this.events = options.events ?? {}
    this.authenticate = options.authenticate
    this.persistence = options.persistence
    this.fanOut = options.fanOut
  }

  get connectionCount(): number {
    return this.connections.size
  }

  get loadedSpaces(): number {
    return this.rooms.size
  }

  /** Takes a new socket for `spaceId`; nothing of the space is sent before the token is accepted. */
  connect(socket: SocketLike, spaceId: string, token: string | null): ConnectionHandle {
    const conn = new Connection(this, socket, spaceId)
    if (this.closing) {
      conn.close(CloseCode.GoingAway, ErrorKind.ShuttingDown, 'the server is shutting down')
      return conn
    }
    if (this.connections.size >= this.limits.maxConnections) {
      conn.close(CloseCode.TryAgainLater, ErrorKind.ServerFull, 'too many connections')
      return conn
    }
    this.connections.add(conn)
    this.events.connectionOpened?.()
    void conn.start(token)
    return conn
  }

  /** @internal */
  forget(conn: Connection): void {
    if (this.connections.delete(conn)) this.events.connectionClosed?.()
  }

  /** @internal The loaded room of a space, loading it once however many sockets ask at once. */
  room(spaceId: string): Promise<Room> {
    const existing = this.rooms.get(spaceId)
    if (existing && !existing.room.closed) return existing.ready
    const room = new Room(spaceId, {
      persistence: this.persistence,
      fanOut: this.fanOut,
      clock: this.clock,
      logger: this.logger,
      limits: this.limits,
      events: this.events,
      onUnload: (r) => {
        if (this.rooms.get(spaceId)?.room === r) this.rooms.delete(spaceId)
      },
    })
    room.onFailure = () => {
      for (const c of [...this.connections])
        if (c.spaceId === spaceId)
          c.close(CloseCode.StorageUnavailable, ErrorKind.StorageUnavailable, 'storage failed')
      room.destroy()
    }
    const ready = room.load().then(
      () => room,
      (e: unknown) => {
        this.events.loadFailed?.(spaceId)
        this.logger.error(
          { spaceId, err: e instanceof Error ? e.message : String(e) },
          'loading the space failed',
        )
        room.destroy()
        throw e
      },
    )
    this.rooms.set(spaceId, { room, ready })
    return ready
  }

  /** Commits everything received so far, in every room. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.rooms.values()].map(({ room }) => room.flush()))
  }

  /** Stop accepting, commit everything, close every socket with 1001, release every space. */
  async shutdown(): Promise<void> {
    this.closing = true
    await this.flushAll()
    for (const c of [...this.connections])
      c.close(CloseCode.GoingAway, ErrorKind.ShuttingDown, 'server shutting down')
    for (const { room } of [...this.rooms.values()]) room.destroy()
  }
}
