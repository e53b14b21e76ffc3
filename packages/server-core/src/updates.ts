/** Small helpers over updates and version vectors, shared by the parts of a room. */
import * as Y from 'yjs'
import type { ClockRange } from './clock-ranges.js'
import { concatUpdates } from './concat-updates.js'
import type { VersionVector } from './document.js'

export type { DocChange } from './document.js'

/** The update that changes nothing (no structs, no deletions), as Yjs encodes it. */
export const isEmptyUpdate = (u: Uint8Array): boolean => u.length === 2 && u[0] === 0 && u[1] === 0

/**
 * One update for a list of them: the update itself when there is one, their blocks side by side when
 * their clients are disjoint (RELAY-5, `concatUpdates`), else merged by Yjs.
 */
export const mergeAll = (updates: readonly Uint8Array[]): Uint8Array =>
  updates.length === 1 ? updates[0]! : (concatUpdates(updates) ?? Y.mergeUpdates([...updates]))

/** The clock ranges between two version vectors: what a transaction added, per writer. */
export const rangesBetween = (before: VersionVector, after: VersionVector): ClockRange[] => {
  const ranges: ClockRange[] = []
  for (const [client, to] of after) {
    const from = before.get(client) ?? 0
    if (to > from) ranges.push([client, from, to])
  }
  return ranges
}

/** Whether `theirs` has a clock past `mine` for some client (the peer holds something this side lacks). */
export const isAhead = (theirs: VersionVector, mine: VersionVector): boolean => {
  for (const [client, clock] of theirs) if (clock > (mine.get(client) ?? 0)) return true
  return false
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])
