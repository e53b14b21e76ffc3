/**
 * Link revocation: the one link generation a room holds, and who is closed for it (PROTOCOL.md
 * §P5.10; SPEC.md REVOKE-1…REVOKE-3).
 *
 * A room's generation is the newest it has seen: of a member's token, of a reset on this instance
 * (`SyncCore.revokeLinks`), or of a notice another instance published on the fan-out. A member whose
 * token names an older generation is closed (`RoomMember.revoke`, LinkRevoked): as it joins, before
 * anything of the space is sent, or as soon as the generation rises past it. A notice of an older
 * generation changes nothing. The room tells the generation, once it is past 0, to every instance
 * that (re)joins the space (`frame`, sent by the fan-out link), so an instance that missed the
 * notice catches up (REVOKE-3).
 */
import { ErrorKind, encodeMessage } from '@converge/protocol'
import type { RoomMember } from './membership.js'

/**
 * PROTOCOL.md §P5.10: what an instance publishes on the fan-out when a space's links below
 * `generation` are revoked — an `error` of kind LinkRevoked whose text is the generation (an
 * instance of protocol version 1 ignores an `error` from the fan-out).
 */
export const linkRevokedFrame = (generation: number): Uint8Array =>
  encodeMessage({ type: 'error', kind: ErrorKind.LinkRevoked, message: String(generation) })

/** What revocation needs of a member. */
export type RevocableMember = Pick<RoomMember, 'generation' | 'revoke'>

export class LinkRevocation {
  /**
   * REVOKE-2: the newest link generation this room has seen — of a member's token, a reset here or
   * one another instance announced. Members of an older one are closed.
   */
  private current = 0

  /** The members of the room now. */
  constructor(private readonly members: ReadonlySet<RevocableMember>) {}

  get generation(): number {
    return this.current
  }

  /** The room's generation as the fan-out notice, or null while it is 0 (REVOKE-3). */
  get frame(): Uint8Array | null {
    return this.current > 0 ? linkRevokedFrame(this.current) : null
  }

  /**
   * A member is about to join. REVOKE-2: one whose token is older than the room's generation is
   * closed instead (false: it must not join).
   */
  admits(member: RevocableMember): boolean {
    const g = member.generation
    if (g !== undefined && g < this.current) {
      member.revoke?.(this.current)
      return false
    }
    return true
  }

  /** A member joined: a newer token raises the generation, closing the members older than it. */
  joined(member: RevocableMember): void {
    const g = member.generation
    if (g !== undefined && g > this.current) this.raise(g)
  }

  /**
   * REVOKE-1, REVOKE-2: links of this space below `generation` are revoked — closes the members of
   * an older one; the room remembers it and tells instances that (re)join. Returns how many closed.
   */
  raise(generation: number): number {
    if (generation <= this.current) return 0
    this.current = generation
    let closed = 0
    for (const m of [...this.members])
      if (m.generation !== undefined && m.generation < generation) {
        m.revoke?.(generation)
        closed++
      }
    return closed
  }
}
