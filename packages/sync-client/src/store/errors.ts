/**
 * Every failure of the IndexedDB store surfaces as a `StoreError` with a `kind` the UI can branch on.
 *
 * - `Unavailable`: no IndexedDB (private mode, old browser, Node without a fake), opening failed or was
 *   blocked by another tab, or the browser force-closed the connection (storage cleared).
 * - `QuotaExceeded`: a write hit the storage quota; the transaction was aborted, earlier data is intact.
 * - `VersionChange`: another tab upgraded the database (or the database on disk is newer than this code);
 *   this connection is closed and the tab must reload.
 * - `Corrupt`: a catalog record that does not parse (update-log corruption is reported via `onCorrupt`
 *   and skipped instead, so one bad record never makes a space unopenable).
 * - `Failed`: anything else; the original error is in `cause`.
 */
export type StoreErrorKind = 'Unavailable' | 'QuotaExceeded' | 'VersionChange' | 'Corrupt' | 'Failed'

export class StoreError extends Error {
  override readonly name = 'StoreError'
  readonly kind: StoreErrorKind

  constructor(kind: StoreErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
  }
}

export const isStoreError = (e: unknown, kind?: StoreErrorKind): e is StoreError =>
  e instanceof StoreError && (kind === undefined || e.kind === kind)

const QUOTA_NAMES = new Set(['QuotaExceededError', 'NS_ERROR_DOM_QUOTA_REACHED'])

/** True if `e` (or something in its `cause` chain) is a storage-quota DOMException. */
export function isQuotaError(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur !== null && cur !== undefined && depth < 5; depth++) {
    if (typeof cur !== 'object') return false
    const name = (cur as { name?: unknown }).name
    if (typeof name === 'string' && QUOTA_NAMES.has(name)) return true
    cur = (cur as { cause?: unknown }).cause
  }
  return false
}
