import { type RestoreSummary, type Space, loadEngine, openSpace } from '@converge/merge'
import type { HistoryApi, VersionInfo } from '@converge/sync-client'
import { useEffect, useState } from 'react'
import { formatCount, safeText } from '../../app/safe.js'
import { versionLabel } from '../../app/history.js'
import { Dialog } from '../Dialog.js'
import './history.css'

interface Props {
  readonly api: HistoryApi
  readonly spaceId: string
  readonly token: string
  /** Whether this device may restore (an edit link, a writable space). */
  readonly canRestore: boolean
  readonly onClose: () => void
  /** Restores `old` into the open space (RESTORE-1…6); what it did, or an error to show. */
  readonly onRestore: (old: Space, info: VersionInfo) => RestoreSummary | string
}

type Preview =
  | { readonly kind: 'loading'; readonly info: VersionInfo }
  | { readonly kind: 'shown'; readonly info: VersionInfo; readonly space: Space }
  | { readonly kind: 'failed'; readonly info: VersionInfo; readonly message: string }

/**
 * WEB-HISTORY-1…3: the versions the server keeps of this space, newest first ("Tue 1 Dec, 18:04 —
 * Sam, 12 changes"); one opened is shown read-only, and "Restore this version" brings it back as a
 * new change of this device — synced like any edit, one Undo away.
 */
export function HistoryDialog({ api, spaceId, token, canRestore, onClose, onRestore }: Props) {
  const [versions, setVersions] = useState<readonly VersionInfo[] | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const [preview, setPreview] = useState<Preview | null>(null)

  useEffect(() => {
    let live = true
    void api.versions(spaceId, token).then((r) => {
      if (!live) return
      if (r.ok) setVersions(r.versions)
      else
        setProblem(
          r.status === null
            ? 'The versions are kept on the server, which cannot be reached right now.'
            : r.message,
        )
    })
    return () => {
      live = false
    }
  }, [api, spaceId, token])

  // the preview's read-only space is released when another is opened or the dialog closes
  useEffect(() => () => void (preview?.kind === 'shown' && preview.space.destroy()), [preview])

  const open = async (info: VersionInfo): Promise<void> => {
    setPreview({ kind: 'loading', info })
    const r = await api.version(spaceId, info.id, token)
    if (!r.ok) return setPreview({ kind: 'failed', info, message: r.message })
    try {
      await loadEngine(r.version.engine)
      const space = openSpace({ engine: r.version.engine, spaceId, state: r.version.state, readOnly: true })
      setPreview({ kind: 'shown', info, space })
    } catch (e) {
      setPreview({ kind: 'failed', info, message: e instanceof Error ? e.message : String(e) })
    }
  }

  if (preview)
    return (
      <Dialog title={versionLabel(preview.info)} testId="history-dialog" onClose={onClose}>
        {preview.kind === 'loading' && (
          <p className="muted" role="status">
            Loading this version…
          </p>
        )}
        {preview.kind === 'failed' && (
          <p className="trip-problem" role="alert">
            This version could not be opened: {preview.message}
          </p>
        )}
        {preview.kind === 'shown' && <VersionPreview space={preview.space} />}
        {preview.kind === 'shown' && canRestore && (
          <p className="muted small">
            Restoring makes the list and notes look like this again, for everyone, as a new change: nothing in
            between is lost, and Undo takes it back.
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setPreview(null)}>
            Back to versions
          </button>
          {preview.kind === 'shown' && canRestore && (
            <button
              type="button"
              className="button primary"
              data-testid="restore-version"
              onClick={() => {
                const outcome = onRestore(preview.space, preview.info)
                if (typeof outcome === 'string') setProblem(outcome)
              }}
            >
              Restore this version
            </button>
          )}
        </div>
        {problem && (
          <p className="trip-problem" role="alert">
            {problem}
          </p>
        )}
      </Dialog>
    )

  return (
    <Dialog title="History" testId="history-dialog" onClose={onClose}>
      {problem && (
        <p className="trip-problem" role="alert">
          {problem}
        </p>
      )}
      {!problem && versions === null && (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
      {versions !== null && versions.length === 0 && (
        <div className="empty" data-testid="history-empty">
          <p className="empty-title">No versions yet.</p>
          <p className="muted small">
            The server keeps a version of this space after each burst of changes. Come back after the next
            shop.
          </p>
        </div>
      )}
      {versions !== null && versions.length > 0 && (
        <ul className="version-list" data-testid="version-list">
          {versions.map((v) => (
            <li key={v.id}>
              <button
                type="button"
                className="version-button"
                data-testid="version"
                onClick={() => void open(v)}
              >
                {versionLabel(v)}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  )
}

/** What a version holds: its list (with quantities and ticks) and its notes' titles. */
function VersionPreview({ space }: { readonly space: Space }) {
  const items = space.items()
  const notes = space.notes()
  return (
    <div className="version-preview" data-testid="version-preview">
      <h3 className="version-preview-head">List ({formatCount(items.length)})</h3>
      {items.length === 0 ? (
        <p className="muted small">The list was empty.</p>
      ) : (
        <ul className="trip-lines" data-testid="version-items">
          {items.map((i) => (
            <li key={i.key} data-name={i.name}>
              <span>
                {i.checked ? '✓ ' : ''}
                {safeText(i.name, 200)}
              </span>
              <span className="muted">{i.quantity > 1 ? `×${formatCount(i.quantity)}` : ''}</span>
            </li>
          ))}
        </ul>
      )}
      <h3 className="version-preview-head">Notes ({formatCount(notes.length)})</h3>
      {notes.length === 0 ? (
        <p className="muted small">No notes.</p>
      ) : (
        <ul className="trip-lines" data-testid="version-notes">
          {notes.map((n) => (
            <li key={n.id}>
              <span>{safeText(n.title, 200) || 'Untitled note'}</span>
              <span className="muted small">{safeText(n.body.split('\n')[0] ?? '', 60)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
