import { ErrorKind } from '@converge/protocol'
import * as Y from 'yjs'

/**
 * The sync status the app shows (SPEC.md, "Status"): derived, never timed. "Saved to the server"
 * means the server's durable ack covers every change this replica holds.
 */
export type SyncStatus =
  | { readonly kind: 'offline'; readonly pending: number }
  | { readonly kind: 'syncing'; readonly pending: number }
  | { readonly kind: 'saved' }
  | { readonly kind: 'error'; readonly error: string; readonly pending: number }
  /**
   * SYNC-11: the link this device holds was reset by someone in the space (close 4410). It does not
   * try again; what it holds stays on the device. `pending`: local changes the server never confirmed.
   */
  | { readonly kind: 'revoked'; readonly pending: number }

export interface StatusInput {
  /** The socket is open and the first sync exchange is done. */
  readonly connected: boolean
  /** The server's committed state vector covers everything in the local document. */
  readonly covered: boolean
  /** Local changes stored in IndexedDB that the server has not confirmed. */
  readonly pending: number
  /** A permanent connection error (bad token, …): the client stopped trying. */
  readonly error: string | null
}

export const deriveStatus = ({ connected, covered, pending, error }: StatusInput): SyncStatus => {
  if (error === ErrorKind.LinkRevoked) return { kind: 'revoked', pending }
  if (error) return { kind: 'error', error, pending }
  if (!connected) return { kind: 'offline', pending }
  return covered ? { kind: 'saved' } : { kind: 'syncing', pending }
}

/** Whether the server's committed state vector covers every change in `doc` (PROTOCOL.md §P4.1). */
export const isCovered = (doc: Y.Doc, acked: Uint8Array | null): boolean => {
  if (!acked) return false
  const server = Y.decodeStateVector(acked)
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc)))
    if ((server.get(client) ?? 0) < clock) return false
  return true
}

/** What the leader tab knows of its connection (a `ConnectionState`; null: none, local only). */
export interface ConnectionView {
  readonly connected: boolean
  readonly acked: Uint8Array | null
  readonly error: { readonly kind: string } | null
}

/**
 * The leader's status (SYNC-1, SYNC-2, SYNC-7): from its connection, its document and the stored
 * count of unconfirmed changes. The stored count trails the server's ack by the write queue, so what
 * the server confirmed is never pending, even while its ack is still on the way to IndexedDB.
 */
export const leaderStatus = (
  doc: Y.Doc,
  connection: ConnectionView | null,
  storedPending: number,
): SyncStatus => {
  const covered = isCovered(doc, connection?.acked ?? null)
  return deriveStatus({
    connected: connection?.connected ?? false,
    covered,
    pending: covered ? 0 : storedPending,
    error: connection?.error?.kind ?? null,
  })
}

/** What a device whose link was reset says (SYNC-11). */
export const REVOKED_TEXT = 'This link was reset. Ask someone in the space for the new link.'

export const statusText = (s: SyncStatus): string => {
  switch (s.kind) {
    case 'saved':
      return 'all changes saved to the server'
    case 'syncing':
      return 'syncing'
    case 'offline':
      return s.pending === 0
        ? 'offline — no unsynced changes'
        : `offline — ${s.pending} ${s.pending === 1 ? 'change' : 'changes'} saved on this device`
    case 'error':
      return `not syncing — ${s.error}`
    case 'revoked':
      return REVOKED_TEXT
  }
}

export const sameStatus = (a: SyncStatus, b: SyncStatus): boolean => JSON.stringify(a) === JSON.stringify(b)
