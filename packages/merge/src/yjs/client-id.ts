/**
 * The Yjs client id of a replica: FNV-1a of its replica id, spread over all 32 bits like Yjs's own
 * random ids. A replica's tie-breaks are reproducible, and a validator can tell whether the writer of
 * a struct is the replica a single-writer register belongs to (BAD-7).
 */
export const clientIdOf = (replicaId: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < replicaId.length; i++) h = Math.imul(h ^ replicaId.charCodeAt(i), 0x01000193)
  return h >>> 0
}
