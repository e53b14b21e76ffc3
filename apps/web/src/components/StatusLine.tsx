import { CalmStatus, type SyncStatus, statusText } from '@converge/sync-client'
import { useEffect, useId, useRef, useState } from 'react'
import { INSPECTOR_SHORTCUT } from '../app/inspector.js'
import './inspector/inspector.css'

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

/** WEB-INSPECT-4: a sentence more than the line, in the popover. */
const explain = (s: SyncStatus): string => {
  switch (s.kind) {
    case 'saved':
      return 'The server has confirmed every change on this device.'
    case 'syncing':
      return 'Changes are on their way to the server, or it has not confirmed them yet.'
    case 'offline':
      return s.pending === 0
        ? 'The browser is offline. Nothing is waiting to be sent.'
        : 'The browser is offline. Changes made here are kept on this device and sent once online.'
    case 'unreachable':
      return s.pending === 0
        ? 'The server does not answer; this device keeps trying.'
        : 'The server does not answer; changes made here are kept on this device until it does.'
    case 'error':
      return 'This device stopped syncing this space and will not try again.'
    case 'revoked':
      return 'This link no longer syncs. What you see stays on this device.'
  }
}

/**
 * Whether this device's changes reached the server. The words and `data-status` are the calm status;
 * `data-synced` is exact ("true" only while the server's durable ack covers every change here), for
 * tests that must know a change is on the server. The pill keeps one width, so the header never shifts.
 *
 * WEB-INSPECT-4: the pill is a button; it opens a small popover with the status in words and "Sync
 * details" (the sync inspector, `onDetails`). Escape, a click outside or leaving it closes it. The
 * status is announced politely (the live region around the button).
 */
export function StatusLine({
  status,
  onDetails,
}: {
  readonly status: SyncStatus
  /** Opens the sync inspector (WEB-INSPECT-1). */
  readonly onDetails?: () => void
}) {
  const shown = useCalmStatus(status)
  const text = statusText(shown)
  const [open, setOpen] = useState(false)
  const popoverId = useId()
  const wrap = useRef<HTMLDivElement>(null)
  const button = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (!open) return
    const onPointer = (e: PointerEvent): void => {
      if (e.target instanceof Node && !wrap.current?.contains(e.target)) setOpen(false)
    }
    document.addEventListener('pointerdown', onPointer)
    return () => document.removeEventListener('pointerdown', onPointer)
  }, [open])

  return (
    <div
      ref={wrap}
      className="status-line"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation()
          setOpen(false)
          button.current?.focus()
        }
      }}
      onBlur={(e) => {
        if (open && !(e.relatedTarget instanceof Node && wrap.current?.contains(e.relatedTarget)))
          setOpen(false)
      }}
    >
      <div className="status-live" role="status" aria-live="polite">
        <button
          ref={button}
          type="button"
          className={`status status-${shown.kind}`}
          title={text}
          aria-expanded={open}
          aria-controls={open ? popoverId : undefined}
          data-testid="sync-status"
          data-status={shown.kind}
          data-synced={status.kind === 'saved' ? 'true' : 'false'}
          onClick={() => setOpen((o) => !o)}
        >
          <span className="status-dot" aria-hidden="true" />
          <span className="status-text">{text}</span>
        </button>
      </div>
      {open && (
        <div
          id={popoverId}
          className="status-popover"
          role="group"
          aria-label="Sync status"
          data-testid="status-popover"
        >
          <p className="status-popover-text">{text}</p>
          <p className="muted small">{explain(shown)}</p>
          {onDetails && (
            <button
              type="button"
              className="button small"
              aria-keyshortcuts={INSPECTOR_SHORTCUT}
              title={`Sync details (${INSPECTOR_SHORTCUT})`}
              onClick={() => {
                setOpen(false)
                // the inspector gives the focus back to where it was when it opened: the status line
                button.current?.focus()
                onDetails()
              }}
            >
              Sync details
            </button>
          )}
        </div>
      )}
    </div>
  )
}
