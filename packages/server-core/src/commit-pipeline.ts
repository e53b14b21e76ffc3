/**
 * The commit pipeline: how a client's change gets committed to the persistence (PROTOCOL.md P4.1,
 * P4.4, P4.5; SPEC.md COMMIT-1…COMMIT-4, CORE-3, CORE-7, CORE-9). When it then counts as saved, and
 * who is told, is decided in `durable-acks.ts`.
 *
 * 1. **What a client update must store** (`accept`): what it adds beyond what is committed or
 *    queued (*covered*). Usually that is exactly what it changed in the document, read from the
 *    transaction's before and after state, with no decoding. The document can hold more than is
 *    covered — an update another instance relayed but may never commit, or what a compaction read
 *    back from shared storage — and then a client update that brings the same structs is stored
 *    all the same, so a client resending to this instance what its first instance never committed
 *    gets it saved here.
 * 2. **One group commit per turn**: what is queued in one event-loop turn is appended as one batch
 *    when the turn ends; one commit is in flight at a time, and what arrives meanwhile goes in the
 *    next one together.
 * 3. **Saved**: when `append` resolves, its ranges are committed — `DurableAcks` acks the writers at
 *    once and everyone else soon after, and the room publishes the new ack to the other instances.
 * 4. **Failure**: a failed append acknowledges nothing more, ever, for this room: the room is
 *    closed (its members get 4503 and resend after reconnecting).
 */
import { type ClockRange, ClockRanges } from './clock-ranges.js'
import type { Compaction } from './compaction.js'
import type { DurableAcks } from './durable-acks.js'
import type { DocChange, SpaceDocument, VersionVector, Writer } from './document.js'
import type { CoreEvents } from './events.js'
import type { RoomMember } from './membership.js'
import type { Clock, Logger, Persistence, Scheduler, StoredSpace } from './ports.js'
import { rangesBetween } from './updates.js'

/** An update waiting to be committed, with the clock ranges it stores and the member who sent it. */
interface PendingUpdate {
  readonly update: Uint8Array
  readonly ranges: readonly ClockRange[]
  readonly from: RoomMember | null
  /** LAG-1: when it was received (it is applied and queued in the same turn). */
  readonly at: number
}

export interface CommitPipelineDeps {
  readonly spaceId: string
  readonly doc: SpaceDocument
  readonly persistence: Persistence
  readonly scheduler: Scheduler
  readonly clock: Clock
  readonly logger: Logger
  readonly events: CoreEvents
  readonly acks: DurableAcks
  readonly compaction: Compaction
  /** After every commit: tells the other instances (fan-out) the new durable ack. */
  readonly announce: (ackFrame: Uint8Array) => void
  /** A commit failed: the room must close. Called once. */
  readonly onFailure: () => void
  /**
   * HIST-1, HIST-4: after every commit, how many updates it stored and who sent them (null: a change
   * the server made itself) — what the room's version history counts.
   */
  readonly recorded?: (updates: number, from: ReadonlySet<RoomMember | null>) => void
}

export class CommitPipeline {
  /** What is committed or queued for commit: what a client update need not store again. */
  private readonly covered: ClockRanges
  /** Clients of which the document holds structs beyond `covered` (put there by fan-out or catch-up). */
  private readonly uncovered = new Set<Writer>()
  private pending: PendingUpdate[] = []
  private pendingBytes = 0
  private bytes = 0
  private lastSeq = 0
  private scheduled = false
  private flushing: Promise<void> | null = null
  private failed = false

  constructor(private readonly deps: CommitPipelineDeps) {
    this.covered = new ClockRanges((v) => deps.doc.encodeVector(v))
  }

  /** Bytes stored for the space plus those queued, for the document-size limit (P5.5). */
  get storedBytes(): number {
    return this.bytes
  }

  /** The stored state is in the document: all of it is committed. */
  loaded(stored: StoredSpace): void {
    this.lastSeq = stored.lastSeq
    this.bytes = stored.bytes
    const { doc } = this.deps
    this.committed(doc.decodeVector(doc.stateVector()))
  }

  /** Everything below `stateVector` is committed (the stored state, another instance's ack, a snapshot). */
  committed(stateVector: VersionVector): void {
    this.covered.raise(stateVector)
    this.deps.acks.raise(stateVector)
  }

  /**
   * Whether the document holds anything neither committed nor queued. Asked before a client update
   * is applied; false on one instance with its own storage, where only client updates reach the
   * document.
   */
  docHoldsUncovered(): boolean {
    for (const client of this.uncovered)
      if (this.deps.doc.clock(client) <= this.covered.clock(client)) this.uncovered.delete(client)
    return this.uncovered.size > 0
  }

  /** A transaction from another instance or from shared storage changed the document (stored elsewhere). */
  foreign(change: DocChange): void {
    for (const [client, to] of change.after)
      if (to > (change.before.get(client) ?? 0) && to > this.covered.clock(client)) this.uncovered.add(client)
  }

  /**
   * A validated client update was applied: `change` is what it changed in the document (null when
   * nothing), `docWasAhead` what `docHoldsUncovered()` said before. Queues what must be stored.
   */
  accept(update: Uint8Array, change: DocChange | null, from: RoomMember, docWasAhead: boolean): void {
    // the usual case: the document held only what is covered, so what the update changed is exactly
    // what it adds beyond it
    if (change && !docWasAhead)
      return this.enqueue(change.update, rangesBetween(change.before, change.after), from)
    // the document held more than is covered, or the update changed nothing: decode its clock ranges
    const meta = this.deps.doc.rangesOf(update)
    const aheadHere = [...meta.to.keys()].some(
      (client) => (change?.before.get(client) ?? this.deps.doc.clock(client)) > this.covered.clock(client),
    )
    if (change && !aheadHere) this.enqueue(change.update, rangesBetween(change.before, change.after), from)
    else if (!this.covered.covers(meta)) this.enqueue(update, rangesBetween(meta.from, meta.to), from)
    else if (change) this.enqueue(change.update, [], from)
  }

  private enqueue(update: Uint8Array, ranges: readonly ClockRange[], from: RoomMember): void {
    this.pending.push({ update, ranges, from, at: this.deps.clock.now() })
    this.covered.addAll(ranges)
    this.pendingBytes += update.length
    this.bytes += update.length
    if (this.scheduled) return
    this.scheduled = true
    // one commit per turn: everything queued in this turn goes in one transaction
    this.deps.scheduler.nextTurn(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  /**
   * Resolves once the commit in flight and what is queued are committed (or failed): what a joiner
   * is sent was durable first (COMMIT-5). Bounded: under a steady stream of writes it gives up after
   * `rounds` commits rather than wait for a quiet moment that may never come.
   */
  async settled(rounds = 3): Promise<void> {
    for (let i = 0; i < rounds && !this.failed && (this.pending.length > 0 || this.flushing); i++)
      await this.flush()
  }

  /** Commits everything queued; resolves when all updates accepted so far are committed (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.pending.length === 0 || this.failed) return
    const batch = this.pending
    const bytes = this.pendingBytes
    this.pending = []
    this.pendingBytes = 0
    this.flushing = this.commit(batch, bytes)
    try {
      await this.flushing
    } finally {
      this.flushing = null
    }
  }

  /**
   * WRITE-2: commits a change the server made itself before it touches the document — nothing of it
   * is relayed, or held by anyone, before it is durable. It takes its turn among the group commits
   * (none runs beside it, so no compaction can snapshot a document that lacks it over its position);
   * once stored, `apply` puts it in the document (relayed with the turn, like any change) and its
   * ranges count as committed. Resolves false, having applied nothing, when the pipeline has failed
   * or the append fails (which fails the pipeline, as any commit failure does: the room closes).
   */
  async commitFirst(update: Uint8Array, apply: () => DocChange | null): Promise<boolean> {
    while (this.flushing) await this.flushing
    if (this.failed) return false
    const { deps } = this
    let stored = false
    this.flushing = (async () => {
      const started = deps.clock.now()
      try {
        this.lastSeq = await deps.persistence.append(deps.spaceId, [update])
      } catch (e) {
        this.fail(e)
        return
      }
      stored = true
      this.bytes += update.length
      deps.events.committed?.(deps.spaceId, 1, update.length, deps.clock.now() - started)
      deps.compaction.appended(1, update.length)
      let change: DocChange | null
      try {
        change = apply()
      } catch (e) {
        // stored but not in the document: the room must not compact over it, so it closes and reloads
        this.fail(e)
        return
      }
      const ranges = change ? rangesBetween(change.before, change.after) : []
      this.covered.addAll(ranges)
      deps.acks.commit(ranges, new Set())
      if (change) deps.recorded?.(1, new Set([null]))
      deps.announce(deps.acks.frame)
    })()
    try {
      await this.flushing
    } finally {
      this.flushing = null
    }
    return stored
  }

  private async commit(batch: readonly PendingUpdate[], bytes: number): Promise<void> {
    const { deps } = this
    const started = deps.clock.now()
    try {
      this.lastSeq = await deps.persistence.append(
        deps.spaceId,
        batch.map((p) => p.update),
      )
    } catch (e) {
      this.fail(e)
      return
    }
    const done = deps.clock.now()
    deps.events.committed?.(deps.spaceId, batch.length, bytes, done - started)
    // LAG-1: each update from its receipt to its commit
    if (deps.events.commitLag) for (const p of batch) deps.events.commitLag(done - p.at)
    deps.compaction.appended(batch.length, bytes)
    const writers = new Set(batch.map((p) => p.from))
    deps.acks.commit(
      batch.flatMap((p) => p.ranges),
      writers,
    )
    deps.recorded?.(batch.length, writers)
    deps.announce(deps.acks.frame)
    if (this.pending.length === 0 && deps.compaction.due) await this.compact()
  }

  private async compact(): Promise<void> {
    const done = await this.deps.compaction.run(this.lastSeq)
    if (!done) return
    this.bytes = done.bytes + this.pendingBytes
    // the snapshot stores all the document held; with other writers, a later compaction of theirs may
    // replace it without what only this instance held, so only their own acks count there
    if (!done.shared) this.committed(done.holds)
  }

  private fail(e: unknown): void {
    this.failed = true
    this.deps.events.commitFailed?.(this.deps.spaceId)
    this.deps.logger.error(
      { spaceId: this.deps.spaceId, err: e instanceof Error ? e.message : String(e) },
      'commit failed: closing the space',
    )
    this.deps.onFailure()
  }
}
