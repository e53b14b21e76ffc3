import { decodeMessage, encodeMessage } from '@converge/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { ClockRanges } from './durable.js'
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
/** The origin of what a compaction re-reads from shared storage: applied and relayed, already stored. */
const CATCH_UP = Symbol('catch-up')

const isEmptyUpdate = (u: Uint8Array): boolean => u.length === 2 && u[0] === 0 && u[1] === 0

/** An update waiting to be committed, with the clock ranges it stores and the member who sent it. */
interface PendingUpdate {
  readonly update: Uint8Array
  readonly ranges: readonly (readonly [client: number, from: number, to: number])[]
  readonly from: RoomMember | null
}

/** Relayed updates of one turn are merged into one frame, flushed early past this many bytes. */
const RELAY_BATCH_BYTES = 256 * 1024
/**
 * A commit's ack goes at once to the members whose updates it holds (their "saved" waits on it); the
 * others get the latest ack at most this often — each commit would otherwise cost a frame per member.
 */
const ACK_OTHERS_EVERY_MS = 100

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** One update for a list of them (merged when there are several). */
const mergeAll = (updates: Uint8Array[]): Uint8Array =>
  updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)

type Ranges = PendingUpdate['ranges']

const rangesBetween = (before: Map<number, number>, after: Map<number, number>): Ranges =>
  [...after].flatMap(([client, to]) => {
    const from = before.get(client) ?? 0
    return to > from ? [[client, from, to] as const] : []
  })

/** Whether `sv` has a clock past `mine` for some client (the peer holds something this side lacks). */
const isAhead = (sv: Map<number, number>, mine: Map<number, number>): boolean => {
  for (const [client, clock] of sv) if (clock > (mine.get(client) ?? 0)) return true
  return false
}

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
  /** What is committed to storage (by this instance or, as their acks tell, by others): what acks cover. */
  private readonly durable = new ClockRanges()
  /** What is committed or queued for commit: a client update beyond it must be stored. */
  private readonly covered = new ClockRanges()
  private committedStateVector: Uint8Array = this.durable.encode()
  /** The durable-ack message of `committedStateVector`, encoded once for every socket and instance. */
  private ackFrame: Uint8Array = encodeMessage({
    type: 'durable-ack',
    stateVector: this.committedStateVector,
  })
  /** The change the client update being applied made to the document (set by onDocUpdate). */
  private change: { update: Uint8Array; before: Map<number, number>; after: Map<number, number> } | null =
    null
  private pending: PendingUpdate[] = []
  /** Updates applied this turn, with their origins, relayed together when the turn ends. */
  private relayQueue: { update: Uint8Array; origin: unknown }[] = []
  private relayBytes = 0
  private relayScheduled = false
  /** The last ack sent to each member, so the periodic ack skips those already up to date. */
  private readonly ackSent = new WeakMap<RoomMember, Uint8Array>()
  private ackTimer: { cancel(): void } | null = null
  private pendingBytes = 0
  private flushing: Promise<void> | null = null
  private flushScheduled = false
  private lastSeq = 0
  private updatesSinceCompaction = 0
  private bytesSinceCompaction = 0
  private hadCorruptRecords = false
  private idleTimer: { cancel(): void } | null = null
  private unsubscribeFanOut: (() => void) | null = null
  /** Fan-out messages that arrived while the stored state was loading, applied once it is. */
  private early: Uint8Array[] | null = []
  private resyncWanted = false
  private failed = false
  closed = false

  constructor(
    readonly spaceId: string,
    private readonly deps: RoomDeps,
  ) {
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.onAwarenessUpdate)
  }

  /**
   * Loads the stored state. Throws (StorageError) rather than ever serving an empty document in its place.
   * Subscribes to fan-out first and applies what arrives meanwhile after the stored state, so an update
   * another instance relays during the load is not missed; then asks the other instances for what it
   * lacks (a state-vector exchange).
   */
  async load(): Promise<void> {
    const started = this.deps.clock.now()
    this.unsubscribeFanOut =
      this.deps.fanOut?.subscribe(this.spaceId, {
        message: (frame) => (this.early ? this.early.push(frame) : this.onFanOut(frame)),
        resync: () => (this.early ? (this.resyncWanted = true) : this.resync()),
      }) ?? null
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
    const loaded = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    this.durable.raise(loaded)
    this.covered.raise(loaded)
    this.recordCommitted()
    this.doc.on('update', this.onDocUpdate)
    const early = this.early ?? []
    this.early = null
    for (const frame of early) this.onFanOut(frame)
    if (this.resyncWanted) this.resync()
    this.deps.events.spaceLoaded?.(this.spaceId, this.deps.clock.now() - started)
  }

  /** The state vector of everything known to be committed: what durable acks and sync-step1 carry. */
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

  /**
   * Applies a validated client update: relayed to the others at the end of the turn, acknowledged once
   * committed. What is stored is what the update adds beyond the committed-or-queued state — also when
   * the document already held it, because another instance relayed it and may not have committed it.
   */
  applyClientUpdate(update: Uint8Array, from: RoomMember): void {
    this.change = null
    Y.applyUpdate(this.doc, update, from)
    const change = this.takeChange()
    // one instance on its own storage: the document only holds what is committed or queued
    if (!this.deps.fanOut && !this.deps.persistence.shared) {
      if (change) this.enqueue(change.update, rangesBetween(change.before, change.after), from)
      return
    }
    const meta = Y.parseUpdateMeta(update)
    const docAheadOfCovered = [...meta.to.keys()].some(
      (client) =>
        (change?.before.get(client) ?? Y.getState(this.doc.store, client)) > this.covered.clock(client),
    )
    if (change && !docAheadOfCovered)
      this.enqueue(change.update, rangesBetween(change.before, change.after), from)
    else if (!this.covered.covers(meta)) this.enqueue(update, rangesBetween(meta.from, meta.to), from)
    else if (change) this.enqueue(change.update, [], from)
  }

  private takeChange(): typeof this.change {
    const change = this.change
    this.change = null
    return change
  }

  private enqueue(update: Uint8Array, ranges: Ranges, from: RoomMember): void {
    this.pending.push({ update, ranges, from })
    for (const [client, from, to] of ranges) this.covered.add(client, from, to)
    this.pendingBytes += update.length
    this.storedBytes += update.length
    this.scheduleFlush()
  }

  private readonly onDocUpdate = (
    update: Uint8Array,
    origin: unknown,
    _doc: Y.Doc,
    tr: { beforeState: Map<number, number>; afterState: Map<number, number> },
  ): void => {
    this.relayQueue.push({ update, origin })
    this.relayBytes += update.length
    if (this.relayBytes >= RELAY_BATCH_BYTES) this.relay()
    else if (!this.relayScheduled) {
      this.relayScheduled = true
      nextTurn(() => this.relay())
    }
    if (origin !== FANOUT && origin !== CATCH_UP)
      this.change = { update, before: tr.beforeState, after: tr.afterState }
  }

  /**
   * Sends the turn's updates: one merged frame, encoded once, to every member that sent none of them;
   * to a member that did, the others' updates only (nothing is echoed); to the other instances, what
   * did not come from them.
   */
  private relay(): void {
    this.relayScheduled = false
    const queue = this.relayQueue
    this.relayQueue = []
    this.relayBytes = 0
    if (queue.length === 0 || this.closed) return
    const own = queue.filter((e) => e.origin !== FANOUT && e.origin !== CATCH_UP)
    if (own.length > 0 && this.deps.fanOut)
      this.deps.fanOut.publish(
        this.spaceId,
        encodeMessage({ type: 'sync-update', update: mergeAll(own.map((e) => e.update)) }),
      )
    const writers = new Set<unknown>(queue.map((e) => e.origin))
    const frame = encodeMessage({ type: 'sync-update', update: mergeAll(queue.map((e) => e.update)) })
    for (const m of this.members) {
      if (!writers.has(m)) {
        m.send(frame)
        continue
      }
      const others = queue.filter((e) => e.origin !== m).map((e) => e.update)
      if (others.length > 0) m.send(encodeMessage({ type: 'sync-update', update: mergeAll(others) }))
    }
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
    try {
      const m = decodeMessage(frame)
      switch (m.type) {
        case 'sync-update':
        case 'sync-step2':
          Y.applyUpdate(this.doc, m.update, FANOUT)
          return
        case 'awareness':
          awarenessProtocol.applyAwarenessUpdate(this.awareness, m.update, FANOUT)
          return
        case 'sync-step1':
          return this.answerPeer(Y.decodeStateVector(m.stateVector))
        case 'durable-ack':
          return this.raiseDurable(Y.decodeStateVector(m.stateVector))
        default:
          return
      }
    } catch (e) {
      this.deps.logger.warn({ spaceId: this.spaceId, err: String(e) }, 'undecodable fan-out frame dropped')
    }
  }

  /**
   * Another instance sent its state vector (it loaded the space, or recovered from a fan-out gap):
   * send what it lacks and what is committed, and ask back when it holds something this side lacks.
   */
  private answerPeer(theirs: Map<number, number>): void {
    const fanOut = this.deps.fanOut
    if (!fanOut) return
    const diff = Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(theirs))
    if (!isEmptyUpdate(diff))
      fanOut.publish(this.spaceId, encodeMessage({ type: 'sync-step2', update: diff }))
    fanOut.publish(this.spaceId, this.ackFrame)
    const mine = Y.encodeStateVector(this.doc)
    if (isAhead(theirs, Y.decodeStateVector(mine)))
      fanOut.publish(this.spaceId, encodeMessage({ type: 'sync-step1', stateVector: mine }))
  }

  /**
   * The subscription is live (first time, or again after a gap in which messages may have been lost):
   * ask the others for what this side lacks, and push this side's deletions and presence, so no update
   * is missed for good.
   */
  private resync(): void {
    const fanOut = this.deps.fanOut
    if (!fanOut || this.closed) return
    const sv = Y.encodeStateVector(this.doc)
    fanOut.publish(this.spaceId, encodeMessage({ type: 'sync-step1', stateVector: sv }))
    const deletions = Y.encodeStateAsUpdate(this.doc, sv)
    if (!isEmptyUpdate(deletions))
      fanOut.publish(this.spaceId, encodeMessage({ type: 'sync-step2', update: deletions }))
    const aw = this.awarenessFrame()
    if (aw) fanOut.publish(this.spaceId, aw)
  }

  /** Another instance committed: what it committed is durable here too. */
  private raiseDurable(stateVector: Map<number, number>): void {
    this.covered.raise(stateVector)
    if (this.durable.raise(stateVector)) this.acknowledge()
  }

  /**
   * Sends the committed state vector: at once to `now` (the members whose updates were just
   * committed), and to every other hello'd member within ACK_OTHERS_EVERY_MS.
   */
  private acknowledge(now: Iterable<RoomMember | null> = []): void {
    this.recordCommitted()
    for (const m of now) if (m && m.wantsAcks && this.members.has(m)) this.sendAck(m, this.ackFrame)
    this.ackTimer ??= this.deps.clock.setTimeout(() => {
      this.ackTimer = null
      for (const m of this.members) if (m.wantsAcks) this.sendAck(m, this.ackFrame)
    }, ACK_OTHERS_EVERY_MS)
  }

  private recordCommitted(): void {
    const sv = this.durable.encode()
    if (sameBytes(sv, this.committedStateVector)) return
    this.committedStateVector = sv
    this.ackFrame = encodeMessage({ type: 'durable-ack', stateVector: sv })
  }

  private sendAck(m: RoomMember, ack: Uint8Array): void {
    const last = this.ackSent.get(m)
    if (last === ack) return
    this.ackSent.set(m, ack)
    m.send(ack)
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
    const started = this.deps.clock.now()
    this.flushing = (async () => {
      try {
        this.lastSeq = await this.deps.persistence.append(
          this.spaceId,
          batch.map((p) => p.update),
        )
      } catch (e) {
        this.fail(e)
        return
      }
      this.deps.events.committed?.(this.spaceId, batch.length, bytes, this.deps.clock.now() - started)
      for (const { ranges } of batch)
        for (const [client, from, to] of ranges) this.durable.add(client, from, to)
      this.updatesSinceCompaction += batch.length
      this.bytesSinceCompaction += bytes
      this.acknowledge(new Set(batch.map((p) => p.from)))
      this.deps.fanOut?.publish(this.spaceId, this.ackFrame)
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

  /**
   * Replaces the log with a snapshot of the document. When other instances write the same space
   * (`persistence.shared`), the document may lack updates they committed: it first re-reads storage
   * and merges it, and compacts only through what it read — never dropping an update it has not seen.
   */
  private async compact(): Promise<void> {
    const shared = this.deps.persistence.shared === true
    try {
      let throughSeq = this.lastSeq
      if (shared) {
        const stored = await this.deps.persistence.load(this.spaceId)
        if (stored.snapshot) Y.applyUpdate(this.doc, stored.snapshot, CATCH_UP)
        for (const u of stored.updates) Y.applyUpdate(this.doc, u, CATCH_UP)
        throughSeq = stored.lastSeq
      }
      const snapshot = Y.encodeStateAsUpdate(this.doc)
      const holds = Y.decodeStateVector(Y.encodeStateVector(this.doc))
      await this.deps.persistence.compact(this.spaceId, snapshot, throughSeq)
      // the snapshot stores all the document held; with other writers, a later compaction of theirs
      // may replace it without what only this instance held, so only their own acks count there
      if (!shared) {
        this.covered.raise(holds)
        if (this.durable.raise(holds)) this.acknowledge()
      }
      this.storedBytes = snapshot.length + this.pendingBytes
      this.deps.events.compacted?.(this.spaceId, snapshot.length)
    } catch (e) {
      // a failed compaction loses nothing: the log is still there; try again after more updates
      this.deps.logger.warn({ spaceId: this.spaceId, err: String(e) }, 'compaction failed')
      return
    }
    this.updatesSinceCompaction = 0
    this.bytesSinceCompaction = 0
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
    this.ackTimer?.cancel()
    this.unsubscribeFanOut?.()
    this.doc.off('update', this.onDocUpdate)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.doc.destroy()
    this.deps.onUnload(this)
  }
}
