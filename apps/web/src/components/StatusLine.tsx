import { CalmStatus, type SyncStatus, statusText } from '@converge/sync-client'
import { useEffect, useRef, useState } from 'react'

/**
 * The status as shown: calm (sync-client SYNC-12) — a change acknowledged within a second never turns
 * "saved" into "syncing", so typing does not make the line flicker.
 */
function useCalmStatus(status: SyncStatus): SyncStatus {
  const [shown, setShown] = useState(status)
  const calm = useRef<CalmStatus | null>(null)
  useEffect(() => {
    const c = new CalmStatus(
      {
        setTimeout: (fn, ms) => window.setTimeout(fn, ms),
        clearTimeout: (h) => window.clearTimeout(h as number),
      },
      setShown,
    )
    calm.current = c
    return () => {
      c.destroy()
      calm.current = null
    }
  }, [])
  useEffect(() => {
    calm.current?.set(status)
  }, [status])
  return shown
}

/**
 * Whether this device's changes reached the server. The words and `data-status` are the calm status;
 * `data-synced` is exact ("true" only while the server's durable ack covers every change here), for
 * tests that must know a change is on the server. The pill keeps one width, so the header never shifts.
 */
export function StatusLine({ status }: { readonly status: SyncStatus }) {
  const shown = useCalmStatus(status)
  const text = statusText(shown)
  return (
    <p
      className={`status status-${shown.kind}`}
      role="status"
      aria-live="polite"
      title={text}
      data-testid="sync-status"
      data-status={shown.kind}
      data-synced={status.kind === 'saved' ? 'true' : 'false'}
    >
      <span className="status-dot" aria-hidden="true" />
      <span className="status-text">{text}</span>
    </p>
  )
}
