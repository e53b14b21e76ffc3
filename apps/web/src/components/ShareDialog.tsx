import type { SpaceSession } from '@converge/sync-client'
import { useEffect, useRef, useState } from 'react'
import { useServices } from '../app/services.js'
import { useSpaceView } from '../app/space-view.js'
import { shareLink } from '../services/tokens.js'
import type { SpaceRecord } from '../services/types.js'
import { Dialog } from './Dialog.js'
import { MemberList } from './People.js'
import { QrCode } from './QrCode.js'

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

/** The system share sheet (phones, some desktops), where the browser has one. */
const canShare = (): boolean => typeof navigator !== 'undefined' && typeof navigator.share === 'function'

function LinkRow({ label, kind, url, first }: LinkRowProps) {
  const ref = useRef<HTMLInputElement>(null)
  const [note, setNote] = useState('')
  const [showQr, setShowQr] = useState(false)
  const share = async (): Promise<void> => {
    try {
      await navigator.share({ title: 'A Converge space', url })
    } catch (e) {
      // closing the share sheet is not a failure
      if (!(e instanceof DOMException && e.name === 'AbortError'))
        setNote('Sharing failed: copy the link instead')
    }
  }
  return (
    <>
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
        {canShare() && (
          <button
            type="button"
            className="button"
            aria-label={`Share ${kind} link`}
            onClick={() => void share()}
          >
            Share…
          </button>
        )}
        <button
          type="button"
          className="button subtle"
          aria-expanded={showQr}
          aria-label={`QR code of the ${kind} link`}
          onClick={() => setShowQr((v) => !v)}
        >
          QR code
        </button>
        <span className="copy-note" role="status" aria-live="polite">
          {note}
        </span>
      </div>
      {showQr && (
        <div className="qr-row">
          <QrCode
            text={url}
            label={`QR code of the ${kind} link: point a phone's camera at it to open the space`}
          />
          <p className="hint">Point a phone’s camera at it to open the space there.</p>
        </div>
      )}
    </>
  )
}

/** What the reset says after it ran, in plain words. */
const resetFailure = (status: number | null, message: string): string => {
  if (status === null)
    return 'Could not reach the server, so nothing was reset. Try again when you are online.'
  if (status === 401)
    return 'The edit link on this device was reset already, by someone else: ask them for the new link.'
  if (status === 429) return `Too many resets from this network for now. ${message}.`
  return `The links were not reset: ${message}.`
}

/**
 * "Reset share links", with a confirm step: new links for the space, the old ones invalid at once
 * for everyone (PROTOCOL.md §P5.10). The new tokens go into this device's catalog, which swaps the
 * open session for one with the new write token (SpaceScreen), and the dialog shows the new links.
 */
function ResetLinks({ record }: { readonly record: SpaceRecord }) {
  const { api, catalog } = useServices()
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null)
  const cancelRef = useRef<HTMLButtonElement>(null)
  const startRef = useRef<HTMLButtonElement>(null)
  const writeToken = record.writeToken
  const wasConfirming = useRef(false)
  useEffect(() => {
    // focus follows the step: into the confirmation, and back to the button that opened it
    if (confirming) cancelRef.current?.focus()
    else if (wasConfirming.current) startRef.current?.focus()
    wasConfirming.current = confirming
  }, [confirming])
  if (!writeToken) return null
  const cancel = (): void => setConfirming(false)
  const reset = async (): Promise<void> => {
    setBusy(true)
    const r = await api.resetLinks(record.id, writeToken)
    if (r.ok) {
      await catalog.update(record.id, { writeToken: r.writeToken, readToken: r.readToken })
      setNote({
        ok: true,
        text: 'New links are ready. The old ones no longer work: send these to everyone who should keep access.',
      })
    } else setNote({ ok: false, text: resetFailure(r.status, r.message) })
    setBusy(false)
    setConfirming(false)
  }
  return (
    <div className="reset-links" data-testid="reset-links">
      {confirming ? (
        <div className="reset-confirm" role="group" aria-labelledby="reset-links-question">
          <p id="reset-links-question" className="reset-question">
            <strong>Reset the share links?</strong> Everyone with the old links loses access until you send
            them the new ones — open tabs stop syncing at once. What they already have stays on their devices.
          </p>
          <div className="dialog-actions">
            <button ref={cancelRef} type="button" className="button" onClick={cancel} disabled={busy}>
              Keep the links
            </button>
            <button
              type="button"
              className="button danger"
              disabled={busy}
              onClick={() => void reset()}
              data-testid="reset-links-confirm"
            >
              {busy ? 'Resetting…' : 'Reset links'}
            </button>
          </div>
        </div>
      ) : (
        <div className="share-row">
          <p className="hint">
            A link went to someone it should not have? Reset the links: the old ones stop working for
            everyone.
          </p>
          <button
            ref={startRef}
            type="button"
            className="button subtle"
            onClick={() => {
              setNote(null)
              setConfirming(true)
            }}
          >
            Reset share links…
          </button>
        </div>
      )}
      <p
        className={note?.ok === false ? 'reset-note reset-note-error' : 'reset-note'}
        role="status"
        aria-live="polite"
        data-testid="reset-links-note"
      >
        {note?.text ?? ''}
      </p>
    </div>
  )
}

/** The space's people, live (records and presence change while the dialog is open). */
function SessionMembers({ session }: { readonly session: SpaceSession }) {
  return <MemberList space={session.space} presence={useSpaceView(session).presence} />
}

/** Share links: read-write and read-only, with the token in the URL fragment; who is in the space. */
export function ShareDialog({
  record,
  session,
  onClose,
}: {
  readonly record: SpaceRecord
  /** the open space, for its member list (none while it opens) */
  readonly session?: SpaceSession | null
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
            url={shareLink(origin, record.id, record.writeToken, record.engine)}
            first
          />
        )}
        {record.readToken && (
          <LinkRow
            label="Can only read"
            kind="read-only"
            url={shareLink(origin, record.id, record.readToken, record.engine)}
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
        {session && <SessionMembers session={session} />}
        {record.registered && <ResetLinks record={record} />}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  )
}
