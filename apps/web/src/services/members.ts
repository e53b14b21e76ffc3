import type { Member } from '@converge/merge'
import { PROFILE_COLORS } from './profile.js'
import type { Profile } from './types.js'

/** The writes of the member record that `setMember` needs: a space, or a fake in a unit test. */
export interface MemberSpace {
  readonly readOnly: boolean
  members(): Member[]
  setMember(id: string, m: { name: string; color: string }): void
}

/**
 * This person's colour in one space: their own, unless another member of the space has it (a colour
 * is never one already taken, so two people never look alike). When two members hold one colour —
 * they chose it on devices that were offline — the one with the greater id moves, so both sides
 * agree on who does without talking; it takes the first colour of PROFILE_COLORS nobody there holds
 * (its own when every one is taken).
 */
export function colorInSpace(members: readonly Member[], me: Pick<Profile, 'id' | 'color'>): string {
  const mine = me.color.toLowerCase()
  const others = members.filter((m) => m.id !== me.id)
  if (!others.some((m) => m.color === mine && m.id < me.id)) return me.color
  const taken = new Set(others.map((m) => m.color))
  return PROFILE_COLORS.find((c) => !taken.has(c.value.toLowerCase()))?.value ?? me.color
}

/** This person's colour in a space whose member records may not read (never throws). */
export function memberColor(space: MemberSpace, me: Profile): string {
  try {
    return colorInSpace(space.members(), me)
  } catch {
    return me.color
  }
}

/**
 * Records this person in the space (merge PEOPLE-1: name and colour, last-writer-wins per field, and
 * `seenAt`). Nothing is written on a read-only link or by someone who has not chosen a name yet (no
 * "Guest 518" is kept); setMember itself writes only what changed. Never throws: a member record is
 * bookkeeping, not the user's data.
 */
export function recordMember(space: MemberSpace, me: Profile, chosen: boolean): void {
  if (!chosen || space.readOnly) return
  try {
    space.setMember(me.id, { name: me.name, color: me.color })
  } catch {
    /* a document that refuses writes now (a newer schema): others still see presence */
  }
}
