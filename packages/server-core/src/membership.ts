/**
 * Membership: who is in a room, the presence (awareness) ids each member owns, and when an empty
 * room unloads (SPEC.md MEMBER-1, MEMBER-2, CORE-5, CORE-8, PRESENCE-1…3, PRESENCE-6).
 *
 * Every presence id in the room has one owner: the connection here that first published a state for
 * it (up to PRESENCE_MAX_IDS_PER_CONNECTION each), or another instance, whose connection it is
 * (its state came over fan-out). Only the owner sets or removes it; an owner that leaves takes its
 * ids' states with it. A state refused only because the id's owner is still here (a client back
 * before the server noticed its old socket close) waits, and is applied once the owner lets go.
 * `presence.ts` decides what is well formed; this file, who may set what.
 */
import { Origin } from '@converge/merge/validate'
import * as awarenessProtocol from 'y-protocols/awareness'
import type { Scheduler, Timer } from './ports.js'
import { type AwarenessEntry, PRESENCE_MAX_IDS_PER_CONNECTION, encodeAwarenessEntries } from './presence.js'

/** What a room needs of a connection. */
export interface RoomMember {
  readonly id: number
  /** Whether the member said hello and so receives durable acks and error messages. */
  readonly wantsAcks: boolean
  send(frame: Uint8Array): void
  /** Awareness client ids this member owns (removed when it leaves); membership keeps it. */
  readonly awarenessIds: Set<number>
  /** The link generation of its token, if it named one (REVOKE-2). */
  readonly generation?: number | undefined
  /** Links below `generation` are revoked: a member with an older token closes (LinkRevoked). */
  revoke?(generation: number): void
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

/** What an awareness update may apply: the entries kept, and how many were refused and why. */
export interface Admission {
  readonly kept: AwarenessEntry[]
  /** Entries that would have changed an id another connection or instance owns. */
  readonly notOwned: number
  /** Entries that would have claimed an id beyond the member's PRESENCE_MAX_IDS_PER_CONNECTION. */
  readonly tooMany: number
}

export class Membership {
  private readonly all = new Set<RoomMember>()
  /** The owner of each presence id claimed by a member here. */
  private readonly owners = new Map<number, RoomMember>()
  /** Presence ids whose state came from another instance (owned there). */
  private readonly foreign = new Set<number>()
  /** Per owned id, the first other member that asked for it, with the last state it sent (PRESENCE-2). */
  private readonly waiting = new Map<number, { member: RoomMember; entry: AwarenessEntry }>()
  /** The ids each member waits for (within its PRESENCE_MAX_IDS_PER_CONNECTION). */
  private readonly waitingOf = new Map<RoomMember, Set<number>>()
  /** Ids let go of since the last `settle()`: a member waiting for one may take it. */
  private freed: number[] = []
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
    for (const id of this.waitingOf.get(member) ?? []) this.waiting.delete(id)
    this.waitingOf.delete(member)
    if (member.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(this.deps.awareness, [...member.awarenessIds], member)
    // and the claims whose state had already gone (timed out): nobody owns them any more
    for (const id of member.awarenessIds) this.release(member, id)
    this.settle()
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

  /**
   * Which entries of a member's (valid) awareness update it may apply (PRESENCE-1, PRESENCE-3): those
   * for ids it owns, and those that claim an id nobody owns — a state, not a removal, within its
   * PRESENCE_MAX_IDS_PER_CONNECTION. Never the room's own id. The others are dropped; they are
   * counted only when they would have changed something (a stock y-websocket client echoes every
   * state it receives, with its clock: that is no attack, and would change nothing).
   */
  admit(member: RoomMember, entries: readonly AwarenessEntry[]): Admission {
    const kept: AwarenessEntry[] = []
    const claims = new Set<number>()
    let notOwned = 0
    let tooMany = 0
    const waits = (): ReadonlySet<number> | undefined => this.waitingOf.get(member)
    const room = (): number =>
      PRESENCE_MAX_IDS_PER_CONNECTION - member.awarenessIds.size - claims.size - (waits()?.size ?? 0)
    for (const entry of entries) {
      const id = entry.clientId
      const owner = this.owners.get(id)
      if (owner === member) kept.push(entry)
      else if (id === this.deps.awareness.clientID) {
        if (this.wouldChange(entry)) notOwned++
      } else if (owner !== undefined || this.foreign.has(id)) {
        if (!this.wouldChange(entry)) continue // an echo of what the room holds
        notOwned++
        this.wait(member, entry, claims.size)
      } else if (entry.state === null) {
        // a removal of an id nobody owns: nothing of anyone's to remove, and no claim
        this.unwait(member, id)
      } else if (claims.has(id)) kept.push(entry)
      else if (waits()?.has(id) || room() > 0) {
        this.unwait(member, id)
        claims.add(id)
        kept.push(entry)
      } else if (this.wouldChange(entry)) tooMany++
    }
    return { kept, notOwned, tooMany }
  }

  /**
   * Applies what waits for the ids let go of since the last call (PRESENCE-2): the room calls it
   * after relaying each awareness change, so the removal goes out before the new owner's state.
   */
  settle(): void {
    while (this.freed.length > 0) {
      const id = this.freed.shift()!
      const w = this.waiting.get(id)
      if (!w || this.owners.has(id) || this.foreign.has(id)) continue
      this.unwait(w.member, id)
      if (this.all.has(w.member))
        awarenessProtocol.applyAwarenessUpdate(
          this.deps.awareness,
          encodeAwarenessEntries([w.entry]),
          w.member,
        )
    }
  }

  /**
   * A member asks for an id someone else owns: the first one waits for it, with its latest state —
   * within its PRESENCE_MAX_IDS_PER_CONNECTION, counting what it owns and `claiming` now.
   */
  private wait(member: RoomMember, entry: AwarenessEntry, claiming: number): void {
    const id = entry.clientId
    const w = this.waiting.get(id)
    if (w && w.member !== member) return
    if (entry.state === null) return this.unwait(member, id)
    let waits = this.waitingOf.get(member)
    if (!w) {
      if (member.awarenessIds.size + claiming + (waits?.size ?? 0) >= PRESENCE_MAX_IDS_PER_CONNECTION) return
      if (!waits) this.waitingOf.set(member, (waits = new Set()))
      waits.add(id)
    }
    this.waiting.set(id, { member, entry })
  }

  private unwait(member: RoomMember, id: number): void {
    if (this.waiting.get(id)?.member !== member) return
    this.waiting.delete(id)
    const waits = this.waitingOf.get(member)
    waits?.delete(id)
    if (waits?.size === 0) this.waitingOf.delete(member)
  }

  /**
   * Which entries of another instance's awareness update this room takes (PRESENCE-6): every one but
   * those for ids a member here owns (and the room's own id).
   */
  admitForeign(entries: readonly AwarenessEntry[]): { kept: AwarenessEntry[]; notOwned: number } {
    const kept: AwarenessEntry[] = []
    let notOwned = 0
    for (const entry of entries) {
      if (!this.owners.has(entry.clientId) && entry.clientId !== this.deps.awareness.clientID)
        kept.push(entry)
      else if (this.wouldChange(entry)) notOwned++
    }
    return { kept, notOwned }
  }

  /**
   * An awareness change, applied: ids a member set (`added`, and `updated` — a client that comes
   * back to a room still loaded arrives as `updated`, y-protocols keeping the clock of a removed
   * state) are its own; those it removed no longer are (PRESENCE-2). Ids set over fan-out are
   * another instance's until removed — by it, or by y-protocols' timeout when it stops renewing
   * them. A timeout of a member's state leaves its claim: the connection is still here.
   */
  noteAwareness(
    added: readonly number[],
    updated: readonly number[],
    removed: readonly number[],
    origin: unknown,
  ): void {
    if (isRoomMember(origin)) {
      for (const id of added) this.claim(origin, id)
      for (const id of updated) this.claim(origin, id)
      for (const id of removed) this.release(origin, id)
    } else if (origin === Origin.FanOut) {
      for (const id of added) this.foreign.add(id)
      for (const id of updated) this.foreign.add(id)
      for (const id of removed) this.unforeign(id)
    } else for (const id of removed) this.unforeign(id)
  }

  private unforeign(id: number): void {
    if (this.foreign.delete(id)) this.freed.push(id)
  }

  /** Whether y-protocols would apply an entry: a higher clock, or a removal of a present state at its clock. */
  private wouldChange(entry: AwarenessEntry): boolean {
    const { awareness } = this.deps
    const clock = awareness.meta.get(entry.clientId)?.clock ?? 0
    return (
      clock < entry.clock ||
      (clock === entry.clock && entry.state === null && awareness.states.has(entry.clientId))
    )
  }

  private claim(member: RoomMember, id: number): void {
    this.owners.set(id, member)
    this.foreign.delete(id)
    member.awarenessIds.add(id)
  }

  private release(member: RoomMember, id: number): void {
    if (this.owners.get(id) === member) {
      this.owners.delete(id)
      this.freed.push(id)
    }
    member.awarenessIds.delete(id)
  }

  stop(): void {
    this.stopped = true
    this.idleTimer?.cancel()
    this.idleTimer = null
  }
}
