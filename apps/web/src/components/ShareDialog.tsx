import { useRef, useState } from 'react'
import { useServices } from '../app/services.js'
import { shareLink } from '../services/tokens.js'
import type { SpaceRecord } from '../services/types.js'
import { Dialog } from './Dialog.js'

/** Copies text: the Clipboard API where allowed, else the selected text field. */
async function copy(text: string, field: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    if (!field) return false
    field.focus()
    field.select()
    try {
      return document.execCommand('copy')
    } catch {
      return false
    }
  }
}

interface LinkRowProps {
  readonly label: string
  readonly kind: string
  readonly url: string
  readonly first?: boolean
}

function LinkRow({ label, kind, url, first }: LinkRowProps) {
  const ref = useRef<HTMLInputElement>(null)
  const [note, setNote] = useState('')
  return (
    <div className="share-row">
      <label className="field grow">
        <span className="field-label">{label}</span>
        <input
          ref={ref}
          className="input mono"
          value={url}
          readOnly
          data-testid={`share-link-${kind}`}
          onFocus={(e) => e.currentTarget.select()}
        />
      </label>
      <button
        type="button"
        className="button primary"
        aria-label={`Copy ${kind} link`}
        autoFocus={first}
        onClick={() =>
          void copy(url, ref.current).then((ok) =>
            setNote(ok ? 'Copied' : 'Copy failed: the link is selected, copy it by hand'),
          )
        }
      >
        Copy link
      </button>
      <span className="copy-note" role="status" aria-live="polite">
        {note}
      </span>
    </div>
  )
}

/** Share links: read-write and read-only, with the token in the URL fragment. */
export function ShareDialog({
  record,
  onClose,
}: {
  readonly record: SpaceRecord
  readonly onClose: () => void
}) {
  const { origin } = useServices()
  const none = !record.writeToken && !record.readToken
  return (
    <Dialog
      title="Share this space"
      description="Anyone with a link can open the space. The key is in the part after “#”, which is never sent to the server in a page request."
      testId="share-dialog"
      onClose={onClose}
    >
      <div className="stack">
        {record.writeToken && (
          <LinkRow
            label="Can edit"
            kind="read-write"
            url={shareLink(origin, record.id, record.writeToken)}
            first
          />
        )}
        {record.readToken && (
          <LinkRow
            label="Can only read"
            kind="read-only"
            url={shareLink(origin, record.id, record.readToken)}
            first={!record.writeToken}
          />
        )}
        {record.writeToken && !record.readToken && (
          <p className="hint">
            A read-only link is not available on this device: you joined with an edit link. Ask the person who
            created the space for one.
          </p>
        )}
        {none && (
          <p className="hint">
            {record.registered
              ? 'This device has no key for this space.'
              : 'Share links appear once this space is registered with the server (when you are online).'}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  )
}
