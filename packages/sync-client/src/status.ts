/**
 * The sync status the app shows (SPEC.md, "Consistency the user can see"): derived, never timed.
 * "Saved to the server" means the server's durable ack covers every change this replica holds.
 */
export type SyncStatus =
  | { readonly kind: 'offline'; readonly pending: number }
  | { readonly kind: 'syncing'; readonly pending: number }
  | { readonly kind: 'saved' }
  | { readonly kind: 'error'; readonly error: string; readonly pending: number }

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
  if (error) return { kind: 'error', error, pending }
  if (!connected) return { kind: 'offline', pending }
  return covered ? { kind: 'saved' } : { kind: 'syncing', pending }
}

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
  }
}

export const sameStatus = (a: SyncStatus, b: SyncStatus): boolean => JSON.stringify(a) === JSON.stringify(b)
