import { type SyncStatus, statusText } from '@converge/sync-client'

/** Whether this device's changes reached the server: derived from the session, never from a timer. */
export function StatusLine({ status }: { readonly status: SyncStatus }) {
  return (
    <p
      className={`status status-${status.kind}`}
      role="status"
      aria-live="polite"
      data-testid="sync-status"
      data-status={status.kind}
    >
      <span className="status-dot" aria-hidden="true" />
      <span>{statusText(status)}</span>
    </p>
  )
}
