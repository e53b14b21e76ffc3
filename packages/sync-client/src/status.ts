import type { Space } from '@converge/merge'
import { ErrorKind } from '@converge/protocol'
import { ackCovers } from './engine-codec.js'

/**
 * The sync status (SPEC.md, "Status"): derived, never timed. "Saved to the server" means the server's
 * durable ack covers every change this replica holds. What the app *shows* is this, calmed
 * (`CalmStatus`, SYNC-12): a change younger than a second does not turn "saved" into "syncing".
 */
export type SyncStatus =
  /** The browser says it is offline (`navigator.onLine`). */
  | { readonly kind: 'offline'; readonly pending: number }
  /**
   * SYNC-13: the browser is online but the server cannot be reached — the last attempt failed, or the
   * server stopped answering (liveness) — and the connection keeps trying with backoff.
   */
  | { readonly kind: 'unreachable'; readonly pending: number }
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
  /** The browser says it is online (default true). */
  readonly online?: boolean
  /** Attempts that failed since the last successful sync: 0 while the first one is under way. */
  readonly attempt?: number
  /** The server's committed state vector covers everything in the local document. */
  readonly covered: boolean
  /** Local changes stored in IndexedDB that the server has not confirmed. */
  readonly pending: number
  /** A permanent connection error (bad token, …): the client stopped trying. */
  readonly error: string | null
}

export const deriveStatus = ({
  connected,
  online = true,
  attempt = 1,
  covered,
  pending,
  error,
}: StatusInput): SyncStatus => {
  if (error === ErrorKind.LinkRevoked) return { kind: 'revoked', pending }
  if (error) return { kind: 'error', error, pending }
  if (!online) return { kind: 'offline', pending }
  // SYNC-13: not connected while the browser is online — the server is out of reach once an attempt
  // failed; the first attempt under way is syncing
  if (!connected) return attempt > 0 ? { kind: 'unreachable', pending } : { kind: 'syncing', pending }
  return covered ? { kind: 'saved' } : { kind: 'syncing', pending }
}

/** Whether the server's committed vector covers every change of `space` (PROTOCOL.md §P4.1, §P8.2). */
export const isCovered = (space: Space, acked: Uint8Array | null): boolean => ackCovers(space, acked)

/** What the leader tab knows of its connection (a `ConnectionState`; null: none, local only). */
export interface ConnectionView {
  readonly connected: boolean
  readonly acked: Uint8Array | null
  readonly error: { readonly kind: string } | null
  /** Failed attempts since the last successful sync. */
  readonly attempt?: number
  /** Whether the browser says it is online. */
  readonly online?: boolean
}

/**
 * The leader's status (SYNC-1, SYNC-2, SYNC-7): from its connection, its document and the stored
 * count of unconfirmed changes. The stored count trails the server's ack by the write queue, so what
 * the server confirmed is never pending, even while its ack is still on the way to IndexedDB.
 */
export const leaderStatus = (
  space: Space,
  connection: ConnectionView | null,
  storedPending: number,
): SyncStatus => {
  const covered = isCovered(space, connection?.acked ?? null)
  return deriveStatus({
    connected: connection?.connected ?? false,
    // no connection at all (local only, or not yet registered): nothing is trying, so it reads offline
    online: connection ? (connection.online ?? true) : false,
    attempt: connection?.attempt ?? 1,
    covered,
    pending: covered ? 0 : storedPending,
    error: connection?.error?.kind ?? null,
  })
}

/** What a device whose link was reset says (SYNC-11). */
export const REVOKED_TEXT = 'This link was reset. Ask someone in the space for the new link.'

/**
 * The words of the status line (SYNC-2, SYNC-13): never a count of changes — a keystroke is a change
 * to the engine, not to the person typing — only whether something is waiting, and where it is kept.
 */
export const statusText = (s: SyncStatus): string => {
  switch (s.kind) {
    case 'saved':
      return 'all changes saved to the server'
    case 'syncing':
      return 'syncing…'
    case 'offline':
      return s.pending === 0 ? 'offline — no unsynced changes' : 'offline — changes saved on this device'
    case 'unreachable':
      return s.pending === 0
        ? "can't reach the server — trying again"
        : "can't reach the server — changes saved here"
    case 'error':
      return `not syncing — ${s.error}`
    case 'revoked':
      return REVOKED_TEXT
  }
}

export const sameStatus = (a: SyncStatus, b: SyncStatus): boolean => JSON.stringify(a) === JSON.stringify(b)

/** SYNC-12: how long a change may wait before "saved" turns into "syncing" (and a drop shows). */
export const CALM_MS = 1000

/**
 * SYNC-12: the status as shown, calm. The derived status (SYNC-1) turns "syncing" for every keystroke
 * until its ack arrives, tens of milliseconds later; shown as it is, the line would flicker. From
 * "saved", a turn to `syncing` or `unreachable` (a socket dropping and coming back at once) is shown
 * only once it has lasted `CALM_MS`; if "saved" comes back first, nothing was shown. Every other turn
 * — to saved, offline, an error, a reset link, or between two unsettled kinds — is shown at once.
 * Timed on the injected `Timers`, so tests step it.
 */
export class CalmStatus {
  private shownValue: SyncStatus | null = null
  private latest: SyncStatus | null = null
  private timer: unknown = null

  constructor(
    private readonly timers: {
      setTimeout(fn: () => void, ms: number): unknown
      clearTimeout(h: unknown): void
    },
    private readonly onShow: (s: SyncStatus) => void,
    private readonly calmMs = CALM_MS,
  ) {}

  /** What is shown now (null before the first status). */
  get shown(): SyncStatus | null {
    return this.shownValue
  }

  /** The derived status changed (or was derived again). */
  set(s: SyncStatus): void {
    this.latest = s
    const shown = this.shownValue
    const unsettled = s.kind === 'syncing' || s.kind === 'unreachable'
    if (shown !== null && shown.kind === 'saved' && unsettled) {
      this.timer ??= this.timers.setTimeout(() => {
        this.timer = null
        if (this.latest) this.show(this.latest)
      }, this.calmMs)
      return
    }
    this.show(s)
  }

  private show(s: SyncStatus): void {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer)
      this.timer = null
    }
    if (this.shownValue !== null && sameStatus(this.shownValue, s)) return
    this.shownValue = s
    this.onShow(s)
  }

  destroy(): void {
    this.timers.clearTimeout(this.timer)
    this.timer = null
  }
}
