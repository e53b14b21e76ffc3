/**
 * A room: one space loaded on this instance. It owns the space's document (a Yjs or an Automerge one,
 * behind the document port) and awareness, and composes the parts that each hold one idea (SPEC.md,
 * the table of parts at the top):
 *
 * | part | file | decides |
 * | --- | --- | --- |
 * | document | document.ts | what an engine's updates and version vectors are (Yjs, Automerge) |
 * | load | room-load.ts | reading the stored records into the document; a corrupt one is skipped |
 * | membership | membership.ts | who is in the room, their presence ids, when an empty room unloads |
 * | presence | presence.ts | what a presence state may hold; the gate awareness passes; the awareness frame |
 * | relay | relay.ts | who receives each update and presence change, batched per turn |
 * | commit pipeline | commit-pipeline.ts | what a client update must store, one commit per turn, failure |
 * | durable acks | durable-acks.ts | what may be called saved, and who hears it when |
 * | compaction | compaction.ts | when the log becomes a snapshot |
 * | fan-out link | fanout-link.ts | staying in step with the same room on other instances |
 * | revocation | revocation.ts | the room's link generation, and which members it closes |
 * | sync answers | sync-answer.ts | the answer to a sync-step1, encoded once per version |
 * | struct budget | memory.ts | how many structs the document may grow to, its memory, whether an update fits |
 * | convergence probe | probe.ts | whether a replica at this version holds this state; the repair when not |
 * | history | history.ts | when a version of the space is saved, and which versions are kept |
 *
 * Every room works through its own queue, so a slow room never stalls another.
 */
import { Origin } from '@converge/merge/validate'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { CommitPipeline } from './commit-pipeline.js'
import { Compaction } from './compaction.js'
import type { DocChange, PreparedUpdate, SpaceDocument, Writer } from './document.js'
import { DurableAcks } from './durable-acks.js'
import type { CoreEvents } from './events.js'
import { FanOutLink } from './fanout-link.js'
import { HISTORY_BEFORE_WRITE_MAX_MS, History, type HistorySettings } from './history.js'
import type { Limits } from './limits.js'
import { Membership, type RoomMember } from './membership.js'
import { type Growth, type SpaceMemory, StructBudget, admitGrowth, estimateHeap } from './memory.js'
import type { Clock, FanOut, Logger, Persistence, Scheduler, SpaceEngine } from './ports.js'
import { PresenceGate, type PresenceOutcome, awarenessFrameOf, fullAwarenessFrame } from './presence.js'
import { ConvergenceProbe, type DigestVerdict } from './probe.js'
import { Relay } from './relay.js'
import { LinkRevocation } from './revocation.js'
import { loadStored } from './room-load.js'
import { SyncAnswers } from './sync-answer.js'
import { YjsDocument } from './yjs-document.js'

export type { RoomMember } from './membership.js'
export type { Growth } from './memory.js'
export { linkRevokedFrame } from './revocation.js'

export interface RoomDeps {
  readonly persistence: Persistence
  /** This instance's fan-out (a private in-memory one when the instance is alone). */
  readonly fanOut: FanOut
  readonly clock: Clock
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly limits: Limits
  readonly events: CoreEvents
  /** The room has gone (unloaded, failed or shut down): the core forgets it. */
  readonly onUnload: (room: Room) => void
  /** A commit failed: the core closes the space's connections with 4503 and destroys the room. */
  readonly onFailure: (room: Room) => void
  /** MEM-3: the room's share of the process's memory budget (memory.ts). */
  readonly memory?: SpaceMemory
  /** HIST-1…8: where and when versions of the space are saved; none without it. */
  readonly history?: HistorySettings | null
}

/** Changes that came from another instance or were read back from shared storage: stored elsewhere. */
const isForeign = (origin: unknown): boolean => origin === Origin.FanOut || origin === Origin.CatchUp

export class Room {
  // presence is y-protocols' awareness on either engine; it needs a Y.Doc only for its own client id
  // (a guid of our own: Yjs's default is a random uuid, 31 crypto calls)
  private readonly presenceDoc = new Y.Doc({ gc: true, guid: 'presence' })
  readonly awareness = new awarenessProtocol.Awareness(this.presenceDoc)
  private readonly membership: Membership
  private readonly presence: PresenceGate
  private readonly acks: DurableAcks
  private readonly relay: Relay
  private readonly link: FanOutLink
  private readonly compaction: Compaction
  private readonly pipeline: CommitPipeline
  private readonly answers: SyncAnswers
  private readonly structs: StructBudget
  private readonly revocation: LinkRevocation
  private readonly history: History | null
  private readonly probe: ConvergenceProbe
  /** What the client update being applied changed in the document (set by the doc's update handler). */
  private change: DocChange | null = null
  closed = false
  private loaded = false

  constructor(
    readonly spaceId: string,
    /** The space's document (document.ts): empty until `load`. */
    readonly document: SpaceDocument,
    private readonly deps: RoomDeps,
  ) {
    const { document: doc, awareness } = this
    const { scheduler, logger, events } = deps
    this.membership = new Membership({
      awareness,
      scheduler,
      idleUnloadMs: deps.limits.idleUnloadMs,
      onIdle: () => void this.unload(),
    })
    this.presence = new PresenceGate({
      spaceId,
      awareness,
      membership: this.membership,
      clock: deps.clock,
      logger,
      events,
      engine: doc.engine,
    })
    const members = this.membership.members
    this.acks = new DurableAcks({
      scheduler,
      members,
      encodeVector: (v) => doc.encodeVector(v),
      clock: deps.clock,
      events,
    })
    this.revocation = new LinkRevocation(members)
    this.link = new FanOutLink({
      spaceId,
      fanOut: deps.fanOut,
      doc,
      applyPresence: (update) => this.presence.fromInstance(update),
      logger,
      peerCommitted: (sv) => this.pipeline.committed(sv),
      ackFrame: () => this.acks.frame,
      awarenessFrame: () => this.awarenessFrame(),
      linkRevoked: (generation) => this.raiseLinkGeneration(generation),
      generationFrame: () => this.revocation.frame,
      peerDigest: (vector, hash) => this.peerDigest(vector, hash),
      clock: deps.clock,
      events,
    })
    this.probe = new ConvergenceProbe({
      doc,
      scheduler,
      publish: (f) => this.link.publish(f),
      instanceProbeMs: deps.limits.probeAfterChangeMs,
    })
    this.relay = new Relay({
      scheduler,
      clock: deps.clock,
      events,
      members,
      publish: (f) => this.link.publish(f),
      isForeign,
      merge: (updates) => doc.merge(updates),
    })
    const history = deps.history
      ? new History({
          spaceId,
          settings: deps.history,
          clock: deps.clock,
          scheduler,
          logger,
          awareness,
          settled: () => this.settled,
          whenCommitted: () => this.whenCommitted(),
          snapshot: () => doc.snapshot(),
        })
      : null
    this.history = history
    this.compaction = new Compaction({
      spaceId,
      doc,
      persistence: deps.persistence,
      limits: deps.limits,
      logger,
      events,
    })
    this.pipeline = new CommitPipeline({
      spaceId,
      doc,
      persistence: deps.persistence,
      scheduler,
      clock: deps.clock,
      logger,
      events,
      acks: this.acks,
      compaction: this.compaction,
      announce: (ack) => this.link.publish(ack),
      onFailure: () => deps.onFailure(this),
      ...(history ? { recorded: (updates, from) => history.recorded(updates, from) } : {}),
    })
    this.answers = new SyncAnswers(doc)
    this.structs = new StructBudget(doc, deps.limits.maxStructsPerSpace)
    awareness.setLocalState(null)
    awareness.on('update', this.onAwarenessUpdate)
  }

  /**
   * Loads the stored state (room-load.ts: throws rather than ever serving an empty document in its
   * place, CORE-2). The fan-out link subscribes first and applies what arrives meanwhile after the
   * stored state; a space with a record that does not decode is never compacted (COMMIT-4).
   */
  async load(): Promise<void> {
    const { deps, spaceId, document: doc } = this
    const started = deps.clock.now()
    this.link.open()
    const { persistence, logger, memory } = deps
    const { stored, corrupt } = await loadStored({ spaceId, doc, persistence, logger, memory })
    this.compaction.loaded(stored, corrupt)
    this.pipeline.loaded(stored)
    this.structs.recount()
    deps.memory?.set(this.spaceId, this.heapEstimate)
    this.loaded = true
    doc.onChange(this.onDocUpdate)
    this.link.ready()
    deps.events.spaceLoaded?.(this.spaceId, deps.clock.now() - started)
  }

  /** The space's engine (REG-10): how its updates and vectors are read. */
  get engine(): SpaceEngine {
    return this.document.engine
  }

  /** A Yjs space's document, for tests and tools; throws on another engine. */
  get doc(): Y.Doc {
    if (this.document instanceof YjsDocument) return this.document.doc
    throw new Error(`space ${this.spaceId} is not a Yjs space`)
  }

  /** The version vector of everything known to be committed: what durable acks and sync-step1 carry. */
  get committed(): Uint8Array {
    return this.acks.stateVector
  }

  /** Bytes stored for the space (and queued for storage), for the document-size limit. */
  get storedBytes(): number {
    return this.pipeline.storedBytes
  }

  /** MEM-1: the estimated heap of this space as loaded. */
  get heapEstimate(): number {
    return estimateHeap({ ...this.structs.size, storedBytes: this.pipeline.storedBytes })
  }

  /** Nobody is in the room: it may be unloaded early when memory is short. */
  get idle(): boolean {
    return this.loaded && !this.closed && this.membership.members.size === 0
  }

  /**
   * READ-2: resolves true once everything committed covers `vector` (a version vector read with
   * `document.decodeVector`), false when `timeoutMs` passed first or the room closed. Holds one
   * listener and one timer while it waits.
   */
  whenCovers(vector: ReadonlyMap<Writer, number>, timeoutMs: number): Promise<boolean> {
    const covered = (): boolean => {
      const have = this.document.decodeVector(this.acks.stateVector)
      for (const [w, n] of vector) if ((have.get(w) ?? 0) < n) return false
      return true
    }
    if (covered()) return Promise.resolve(true)
    if (this.closed || timeoutMs <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      const done = (result: boolean): void => {
        stop()
        timer.cancel()
        resolve(result)
      }
      const stop = this.acks.onAdvance(() => {
        if (covered()) done(true)
        else if (this.closed) done(false)
      })
      const timer = this.deps.scheduler.setTimeout(() => done(false), timeoutMs)
    })
  }

  /** WRITE-3: whether everything the document holds is committed — nothing is in flight. */
  get settled(): boolean {
    const committed = this.document.decodeVector(this.acks.stateVector)
    for (const [w, n] of this.document.decodeVector(this.document.stateVector()))
      if ((committed.get(w) ?? 0) < n) return false
    return true
  }

  /**
   * COMMIT-5: resolves once what the document holds now is committed (the commit in flight and what
   * is queued), so an answer sent then holds nothing that is not durable yet.
   */
  whenCommitted(): Promise<void> {
    return this.pipeline.settled()
  }

  /** ANSWER-1: the sync-step2 frame for `stateVector`, shared while the document is unchanged. Throws when it does not decode. */
  answer(stateVector: Uint8Array): Uint8Array {
    return this.answers.frameFor(stateVector)
  }

  /** How many sync-step1 answers were encoded rather than shared (ANSWER-1). */
  get answersEncoded(): number {
    return this.answers.encodings
  }

  /** MEM-2, MEM-3: whether a validated update of this size may be applied. */
  admits(summary: { structs: number; deletions: number }): Growth {
    return admitGrowth(summary, this.structs, this.deps.memory)
  }

  /**
   * A member joins. REVOKE-2 (revocation.ts): one whose token is older than the room's link
   * generation is closed instead (false); a newer one raises the generation, closing the older ones.
   */
  join(member: RoomMember): boolean {
    if (!this.revocation.admits(member)) return false
    this.membership.join(member)
    this.revocation.joined(member)
    return true
  }

  /** REVOKE-2: the newest link generation this room has seen; members of an older one are closed. */
  get linkGeneration(): number {
    return this.revocation.generation
  }

  /** REVOKE-1, REVOKE-2: links below `generation` are revoked (revocation.ts). Returns how many closed. */
  raiseLinkGeneration(generation: number): number {
    return this.revocation.raise(generation)
  }

  leave(member: RoomMember): void {
    this.membership.leave(member)
  }

  /** Starts the idle countdown when nobody is in the room (a socket that closed while it loaded). */
  releaseIfUnused(): void {
    if (!this.closed) this.membership.releaseIfUnused()
  }

  /** Sends `member` the current durable ack (it said hello). */
  sendAck(member: RoomMember): void {
    this.acks.send(member)
  }

  /**
   * Applies a client update validated by `document.prepare`: relayed to the others when the turn
   * ends, stored by the commit pipeline, acknowledged once committed.
   */
  applyClientUpdate(update: Uint8Array, prepared: PreparedUpdate, from: RoomMember, growth = 0): void {
    const docWasAhead = this.pipeline.docHoldsUncovered()
    this.change = null
    this.history?.sent(from)
    prepared.apply(from)
    const change = this.change as DocChange | null
    this.change = null
    this.pipeline.accept(update, change, from, docWasAhead)
    this.structs.grew(growth, this.document.writers())
    this.deps.memory?.set(this.spaceId, this.heapEstimate)
  }

  /**
   * WRITE-1, WRITE-2: a change the server made itself (origin e.g. `server:trip`), validated as a
   * client's would be (merge BAD-1…7: throws MergeError and changes nothing), committed before it
   * touches the document, then applied, relayed to every member and acknowledged like any other.
   * Resolves with the committed version after it, or null when it could not be stored (the room
   * then closes as after any failed commit: 4503, the clients resend and reload). The changes pending
   * a version are saved as one first (HIST-9).
   */
  async commitServerChange(update: Uint8Array, origin: string): Promise<Uint8Array | null> {
    // HIST-9: what the members made before the server's change is a version of its own — waited
    // for at most HISTORY_BEFORE_WRITE_MAX_MS: a slow history store never holds the change (HIST-6)
    if (this.history) await this.boundedSaveNow(this.history)
    const prepared = this.document.prepare(update)
    const growth = this.admits(prepared.summary)
    if (!growth.ok) throw new Error(`the change does not fit the space (${growth.why})`)
    const stored = await this.pipeline.commitFirst(update, () => {
      this.change = null
      this.document.applyTrusted(update, origin)
      const change = this.change as DocChange | null
      this.change = null
      return change
    })
    if (!stored) return null
    this.structs.grew(growth.structs, this.document.writers())
    this.deps.memory?.set(this.spaceId, this.heapEstimate)
    return this.acks.stateVector
  }

  /** HIST-9: `history.saveNow()`, or HISTORY_BEFORE_WRITE_MAX_MS, whichever ends first. */
  private boundedSaveNow(history: History): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.scheduler.setTimeout(resolve, HISTORY_BEFORE_WRITE_MAX_MS)
      void history.saveNow().then(() => {
        timer.cancel()
        resolve()
      })
    })
  }

  /**
   * A member's awareness update, through the presence gate (PRESENCE-1…5): only well-formed states
   * for ids it owns are applied and relayed. Throws when the update does not decode; `close` means
   * it sent too many invalid ones.
   */
  applyAwareness(update: Uint8Array, from: RoomMember): PresenceOutcome {
    return this.presence.fromMember(update, from)
  }

  /** Every presence state in the room as one awareness message, or null when there is none. */
  awarenessFrame(): Uint8Array | null {
    return fullAwarenessFrame(this.awareness)
  }

  /** PROBE-4: a client's digest against the room's state. Throws when its vector does not decode. */
  clientDigest(vector: Uint8Array, hash: Uint8Array): DigestVerdict {
    return this.probe.compare(vector, hash)
  }

  /** PROBE-5: what repairs a divergence with a peer: this side's whole state, and a request for theirs. */
  repairFrames(): Uint8Array[] {
    return this.probe.repairFrames()
  }

  /** PROBE-6: another instance's digest; a divergence is counted, logged and repaired over fan-out. */
  private peerDigest(vector: Uint8Array, hash: Uint8Array): void {
    if (this.probe.compare(vector, hash) !== 'diverged') return
    this.deps.events.divergence?.('instance', this.spaceId)
    this.deps.logger.warn(
      { spaceId: this.spaceId },
      'divergence: another instance at this version holds another state; repairing with a full exchange',
    )
    for (const f of this.probe.repairFrames()) this.link.publish(f)
  }

  /** Commits everything queued; resolves when all updates received so far are committed (or failed). */
  flush(): Promise<void> {
    return this.pipeline.flush()
  }

  /**
   * Commits what is queued and saves a version of what is pending (HIST-3), then releases the
   * document — unless someone joined meanwhile.
   */
  async unload(): Promise<void> {
    if (this.closed || this.membership.members.size > 0) return
    await this.flush()
    if (this.history) {
      await this.history.saveNow()
      // a member may have come, written and gone while the version was saved: that is committed and
      // kept too (a no-op otherwise)
      await this.flush()
      await this.history.saveNow()
    }
    if (this.membership.members.size > 0) return
    this.destroy()
    this.deps.events.spaceUnloaded?.(this.spaceId)
  }

  /**
   * HIST-3: saves a version of the changes not in one yet (the core shuts down), before the document
   * is destroyed. Never rejects: a failing history store is logged.
   */
  async saveVersion(): Promise<void> {
    if (!this.closed) await this.history?.saveNow()
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.history?.stop()
    this.membership.stop()
    this.acks.stop()
    this.relay.stop()
    this.probe.stop()
    this.link.close()
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.presenceDoc.destroy()
    this.document.destroy()
    this.deps.onUnload(this)
  }

  private readonly onDocUpdate = (change: DocChange, origin: unknown): void => {
    if (this.closed) return
    this.relay.add(change.update, origin)
    this.answers.changed()
    this.probe.changed()
    if (isForeign(origin)) {
      this.structs.markStale()
      this.pipeline.foreign(change)
    } else this.change = change
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    this.membership.noteAwareness(added, updated, removed, origin)
    this.relay.presence(awarenessFrameOf(this.awareness, [...added, ...updated, ...removed]), origin)
    this.membership.settle() // after the removal went out: a member waiting for a freed id takes it
  }
}
