/**
 * Membership: who is in a room, the presence (awareness) ids each member controls, and when an empty
 * room unloads (SPEC.md MEMBER-1, MEMBER-2, CORE-5, CORE-8).
 */
import * as awarenessProtocol from 'y-protocols/awareness'
import type { Scheduler, Timer } from './ports.js'

/** What a room needs of a connection. */
export interface RoomMember {
  readonly id: number
  /** Whether the member said hello and so receives durable acks and error messages. */
  readonly wantsAcks: boolean
  send(frame: Uint8Array): void
  /** Awareness client ids this member controls (removed when it leaves). */
  readonly awarenessIds: Set<number>
}

/** Whether a change's origin is a member (a connection), rather than fan-out, storage or the room itself. */
export const isRoomMember = (origin: unknown): origin is RoomMember =>
  origin !== null && typeof origin === 'object' && 'awarenessIds' in origin

export interface MembershipDeps {
  readonly awareness: awarenessProtocol.Awareness
  readonly scheduler: Scheduler
  /** How long a room with no member stays loaded. */
  readonly idleUnloadMs: number
  /** The idle time passed with nobody in the room. */
  readonly onIdle: () => void
}

export class Membership {
  private readonly all = new Set<RoomMember>()
  private idleTimer: Timer | null = null
  private stopped = false

  constructor(private readonly deps: MembershipDeps) {}

  get members(): ReadonlySet<RoomMember> {
    return this.all
  }

  join(member: RoomMember): void {
    this.idleTimer?.cancel()
    this.idleTimer = null
    this.all.add(member)
  }

  /** A member leaves: its presence goes with it (the others see it removed), and an empty room starts its idle countdown. */
  leave(member: RoomMember): void {
    if (!this.all.delete(member)) return
    if (member.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(this.deps.awareness, [...member.awarenessIds], member)
    this.releaseIfUnused()
  }

  /** Starts the idle countdown when nobody is in the room (also for a socket that closed while the room loaded). */
  releaseIfUnused(): void {
    if (this.all.size === 0 && !this.stopped && !this.idleTimer)
      this.idleTimer = this.deps.scheduler.setTimeout(() => {
        this.idleTimer = null
        this.deps.onIdle()
      }, this.deps.idleUnloadMs)
  }

  /** An awareness change: the ids a member added become its own, those it removed no longer are. */
  noteAwareness(added: readonly number[], removed: readonly number[], origin: unknown): void {
    if (!isRoomMember(origin)) return
    for (const id of added) origin.awarenessIds.add(id)
    for (const id of removed) origin.awarenessIds.delete(id)
  }

  stop(): void {
    this.stopped = true
    this.idleTimer?.cancel()
    this.idleTimer = null
  }
}
