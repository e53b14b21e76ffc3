/**
 * Durable acks: where it is decided that a change is saved, and who is told when (PROTOCOL.md
 * [P4.1](../../PROTOCOL.md#p4-durable-confirmation), P4.6; SPEC.md ACK-1…ACK-4).
 *
 * A change counts as saved on the server once the persistence has committed it: its `append`
 * resolved on this instance (how and when that commit happens is `commit-pipeline.ts`), another
 * instance said it committed it (its ack over fan-out), or it was read back from storage — never
 * because the document merely holds it. The members that said hello are told: those whose updates
 * the commit held at once, the others within `ACK_OTHERS_EVERY_MS`; the other instances hear of each
 * commit made here as soon as it is made.
 *
 * What they are told is a durable ack: the version vector of everything committed (a Yjs state
 * vector, or an Automerge version vector: document.ts); a client's change
 * is saved when this vector covers it. The ack message is encoded once per change of the vector and
 * the same bytes go to every member and instance. The members that wrote nothing in a commit wait
 * for the timer because one frame per member per commit would otherwise dominate a busy room.
 */
import { encodeMessage } from '@converge/protocol'
import { type ClockRange, ClockRanges } from './clock-ranges.js'
import type { VersionVector } from './document.js'
import type { CoreEvents } from './events.js'
import type { Clock, Scheduler, Timer } from './ports.js'
import { sameBytes } from './updates.js'

/** How often the members that wrote nothing in a commit hear of it, at most. */
export const ACK_OTHERS_EVERY_MS = 100

/** What acks need of a member. */
export interface AckReceiver {
  /** Whether the member said hello, and so receives durable acks (P4.2: stock clients never do). */
  readonly wantsAcks: boolean
  send(frame: Uint8Array): void
}

export interface DurableAcksDeps {
  readonly scheduler: Scheduler
  /** LAG-2: reading the time, for how long a commit waits for its acks. */
  readonly clock?: Clock
  readonly events?: Pick<CoreEvents, 'ackLag'>
  /** The members of the room now. */
  readonly members: ReadonlySet<AckReceiver>
  /** How the engine's version vector travels (document.ts). */
  readonly encodeVector?: (vector: VersionVector) => Uint8Array
}

export class DurableAcks {
  private readonly committed: ClockRanges
  private vector: Uint8Array
  private ack: Uint8Array
  /** The last ack sent to each member, so none gets the same one twice. */
  private readonly sent = new WeakMap<AckReceiver, Uint8Array>()
  /** Told each time the committed vector grows (READ-2: a read waiting for a version). */
  private readonly advanced = new Set<() => void>()
  private timer: Timer | null = null
  /** LAG-2: when the oldest commit the members still wait to hear of was made (null: none waits). */
  private waitingSince: number | null = null

  constructor(private readonly deps: DurableAcksDeps) {
    this.committed = new ClockRanges(deps.encodeVector)
    this.vector = this.committed.encode()
    this.ack = encodeMessage({ type: 'durable-ack', stateVector: this.vector })
  }

  /** The state vector of everything known to be committed: what acks and the room's sync-step1 carry. */
  get stateVector(): Uint8Array {
    return this.vector
  }

  /** The durable-ack message of `stateVector`, encoded once (also what the room publishes to other instances). */
  get frame(): Uint8Array {
    return this.ack
  }

  /**
   * This instance committed `ranges`: what they add to the prefix is saved. `writers` (the members
   * whose updates the commit held) get the ack at once; every other hello'd member within
   * ACK_OTHERS_EVERY_MS.
   */
  commit(ranges: Iterable<ClockRange>, writers: Iterable<AckReceiver | null>): void {
    this.committed.addAll(ranges)
    this.update()
    const now = this.deps.clock?.now() ?? 0
    this.waitingSince ??= now
    for (const m of writers)
      if (m && m.wantsAcks && this.deps.members.has(m) && this.send(m))
        this.deps.events?.ackLag?.('writer', (this.deps.clock?.now() ?? 0) - now)
    this.announce()
  }

  /**
   * Everything below `stateVector` is committed: the stored state just loaded, a snapshot this
   * instance wrote, or another instance's ack. Members hear of it within ACK_OTHERS_EVERY_MS.
   * Returns whether it added anything.
   */
  raise(stateVector: VersionVector): boolean {
    if (!this.committed.raise(stateVector)) return false
    this.update()
    this.announce()
    return true
  }

  /** Sends the current ack to `member` now (it just said hello), unless it has it already; whether it did. */
  send(member: AckReceiver): boolean {
    if (this.sent.get(member) === this.ack) return false
    this.sent.set(member, this.ack)
    member.send(this.ack)
    return true
  }

  /** Calls `listener` each time the committed vector grows; returns how to stop. */
  onAdvance(listener: () => void): () => void {
    this.advanced.add(listener)
    return () => this.advanced.delete(listener)
  }

  stop(): void {
    this.timer?.cancel()
    this.timer = null
    for (const l of [...this.advanced]) l()
    this.advanced.clear()
  }

  private update(): void {
    const sv = this.committed.encode()
    if (sameBytes(sv, this.vector)) return
    this.vector = sv
    this.ack = encodeMessage({ type: 'durable-ack', stateVector: sv })
    for (const l of [...this.advanced]) l()
  }

  private announce(): void {
    this.timer ??= this.deps.scheduler.setTimeout(() => {
      this.timer = null
      const since = this.waitingSince
      this.waitingSince = null
      const lag = since === null ? null : (this.deps.clock?.now() ?? 0) - since
      for (const m of this.deps.members)
        if (m.wantsAcks && this.send(m) && lag !== null) this.deps.events?.ackLag?.('member', lag)
    }, ACK_OTHERS_EVERY_MS)
  }
}
