import { type Message, decodeMessage, encodeMessage } from '@converge/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { CoreEvents } from './events.js'
import type { Limits } from './limits.js'
import type { Clock, FanOut, Logger, Persistence } from './ports.js'

/** What a room needs of a connection. */
export interface RoomMember {
  readonly id: number
  /** Whether the member said hello and so receives durable acks and error messages. */
  readonly wantsAcks: boolean
  send(frame: Uint8Array): void
  /** Awareness client ids this member controls (removed when it leaves). */
  readonly awarenessIds: Set<number>
}

/** After the current event-loop turn (Node's setImmediate; a timer elsewhere). */
const nextTurn: (fn: () => void) => void =
  (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate ?? ((fn) => setTimeout(fn, 0))

/** The origin of an update from fan-out: applied and relayed, never stored again (stored by its instance). */
const FANOUT = Symbol('fanout')

export interface RoomDeps {
  readonly persistence: Persistence
  readonly fanOut: FanOut | undefined
  readonly clock: Clock
  readonly logger: Logger
  readonly limits: Limits
  readonly events: CoreEvents
  /** Called once the room has unloaded, so the core forgets it. */
  readonly onUnload: (room: Room) => void
}

/**
 * One loaded space: its Y.Doc, awareness, members, and the write queue that commits updates before
 * they are acknowledged as durable. Every room works through its own queue, so a slow room never
 * stalls another.
 */
export class Room {
  readonly doc = new Y.Doc({ gc: true })
  readonly awareness = new awarenessProtocol.Awareness(this.doc)
  readonly members = new Set<RoomMember>()
  /** Bytes stored for the space (grows with every append, reset by compaction). */
  storedBytes = 0
  private committedStateVector: Uint8Array = Y.encodeStateVector(this.doc)
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private flushing: Promise<void> | null = null
  private flushScheduled = false
  private lastSeq = 0
  private updatesSinceCompaction = 0
  private bytesSinceCompaction = 0
  private hadCorruptRecords = false
  private idleTimer: { cancel(): void } | null = null
  private unsubscribeFanOut: (() => void) | null = null
  private failed = false
  closed = false

  constructor(
    readonly spaceId: string,
    private readonly deps: RoomDeps,
  ) {
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.onAwarenessUpdate)
  }

  /** Loads the stored state. Throws (StorageError) rather than ever serving an empty document in its place. */
  async load(): Promise<void> {
    const started = this.deps.clock.now()
    const stored = await this.deps.persistence.load(this.spaceId)
    const all = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates
    for (const [i, update] of all.entries()) {
      try {
        Y.applyUpdate(this.doc, update, 'load')
      } catch (e) {
        // keep going: the record stays in storage (compaction is disabled for this room) for repair
        this.hadCorruptRecords = true
        this.deps.logger.error(
          { spaceId: this.spaceId, record: i, err: e instanceof Error ? e.message : String(e) },
          'a stored update does not decode; skipped, compaction disabled for this space',
        )
      }
    }
    this.lastSeq = stored.lastSeq
    this.storedBytes = stored.bytes
    this.updatesSinceCompaction = stored.updates.length
    this.bytesSinceCompaction = stored.bytes - (stored.snapshot?.length ?? 0)
    this.committedStateVector = Y.encodeStateVector(this.doc)
    this.doc.on('update', this.onDocUpdate)
    this.unsubscribeFanOut = this.deps.fanOut?.subscribe(this.spaceId, this.onFanOut) ?? null
    this.deps.events.spaceLoaded?.(this.spaceId, this.deps.clock.now() - started)
  }

  get committed(): Uint8Array {
    return this.committedStateVector
  }

  join(member: RoomMember): void {
    this.idleTimer?.cancel()
    this.idleTimer = null
    this.members.add(member)
  }

  /** Starts the idle countdown when nobody is in the room (a socket that closed while it loaded). */
  releaseIfUnused(): void {
    if (this.members.size === 0 && !this.closed && !this.idleTimer)
      this.idleTimer = this.deps.clock.setTimeout(() => void this.unload(), this.deps.limits.idleUnloadMs)
  }

  leave(member: RoomMember): void {
    if (!this.members.delete(member)) return
    if (member.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(this.awareness, [...member.awarenessIds], member)
    this.releaseIfUnused()
  }

  /** Applies a validated client update: relayed to the others now, acknowledged once committed. */
  applyClientUpdate(update: Uint8Array, from: RoomMember): void {
    Y.applyUpdate(this.doc, update, from)
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    const frame = encodeMessage({ type: 'sync-update', update })
    for (const m of this.members) if (m !== origin) m.send(frame)
    if (origin === FANOUT) return
    this.deps.fanOut?.publish(this.spaceId, frame)
    this.pending.push(update)
    this.pendingBytes += update.length
    this.storedBytes += update.length
    this.scheduleFlush()
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...added, ...updated, ...removed]
    if (origin !== null && typeof origin === 'object' && 'awarenessIds' in origin) {
      const ids = (origin as RoomMember).awarenessIds
      for (const id of added) ids.add(id)
      for (const id of removed) ids.delete(id)
    }
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)
    const frame = encodeMessage({ type: 'awareness', update })
    for (const m of this.members) m.send(frame)
    if (origin !== FANOUT) this.deps.fanOut?.publish(this.spaceId, frame)
  }

  private readonly onFanOut = (frame: Uint8Array): void => {
    // frames from fan-out were validated by the instance that took them from a client
    let m: Message
    try {
      m = decodeMessage(frame)
    } catch (e) {
      this.deps.logger.warn({ spaceId: this.spaceId, err: String(e) }, 'undecodable fan-out frame dropped')
      return
    }
    if (m.type === 'sync-update') Y.applyUpdate(this.doc, m.update, FANOUT)
    else if (m.type === 'awareness') awarenessProtocol.applyAwarenessUpdate(this.awareness, m.update, FANOUT)
  }

  applyAwareness(update: Uint8Array, from: RoomMember): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, from)
  }

  awarenessFrame(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()]
    if (ids.length === 0) return null
    return encodeMessage({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids),
    })
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    // one commit per event-loop turn: everything that arrived in this turn goes in one transaction
    nextTurn(() => {
      this.flushScheduled = false
      void this.flush()
    })
  }

  /** Commits everything pending; resolves when all updates received so far are durable (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.pending.length === 0 || this.failed) return
    const batch = this.pending
    const bytes = this.pendingBytes
    this.pending = []
    this.pendingBytes = 0
    const stateVector = Y.encodeStateVector(this.doc)
    const started = this.deps.clock.now()
    this.flushing = (async () => {
      try {
        this.lastSeq = await this.deps.persistence.append(this.spaceId, batch)
      } catch (e) {
        this.fail(e)
        return
      }
      this.deps.events.committed?.(this.spaceId, batch.length, bytes, this.deps.clock.now() - started)
      this.committedStateVector = stateVector
      this.updatesSinceCompaction += batch.length
      this.bytesSinceCompaction += bytes
      const ack = encodeMessage({ type: 'durable-ack', stateVector })
      for (const m of this.members) if (m.wantsAcks) m.send(ack)
      if (
        this.pending.length === 0 &&
        !this.hadCorruptRecords &&
        (this.updatesSinceCompaction >= this.deps.limits.compactEveryUpdates ||
          this.bytesSinceCompaction >= this.deps.limits.compactEveryBytes)
      )
        await this.compact()
    })()
    try {
      await this.flushing
    } finally {
      this.flushing = null
    }
  }

  private async compact(): Promise<void> {
    const snapshot = Y.encodeStateAsUpdate(this.doc)
    try {
      await this.deps.persistence.compact(this.spaceId, snapshot, this.lastSeq)
    } catch (e) {
      // a failed compaction loses nothing: the log is still there; try again after more updates
      this.deps.logger.warn({ spaceId: this.spaceId, err: String(e) }, 'compaction failed')
      return
    }
    this.storedBytes = snapshot.length + this.pendingBytes
    this.updatesSinceCompaction = 0
    this.bytesSinceCompaction = 0
    this.deps.events.compacted?.(this.spaceId, snapshot.length)
  }

  /** Storage failed: nothing more is acknowledged; members reconnect and resend what they hold. */
  private fail(e: unknown): void {
    this.failed = true
    this.deps.events.commitFailed?.(this.spaceId)
    this.deps.logger.error(
      { spaceId: this.spaceId, err: e instanceof Error ? e.message : String(e) },
      'commit failed: closing the space',
    )
    this.onFailure?.()
  }

  /** Set by the core: closes the members with StorageUnavailable and forgets the room. */
  onFailure: (() => void) | null = null

  /** Commits what is pending, then releases the document. */
  async unload(): Promise<void> {
    if (this.closed || this.members.size > 0) return
    await this.flush()
    if (this.members.size > 0) return
    this.destroy()
    this.deps.events.spaceUnloaded?.(this.spaceId)
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.idleTimer?.cancel()
    this.unsubscribeFanOut?.()
    this.doc.off('update', this.onDocUpdate)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.doc.destroy()
    this.deps.onUnload(this)
  }
}
