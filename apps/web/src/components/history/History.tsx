import { type RestoreSummary, type Space, loadEngine, openSpace } from '@converge/merge'
import type { HistoryApi, VersionInfo } from '@converge/sync-client'
import { useEffect, useState } from 'react'
import { formatCount, safeText } from '../../app/safe.js'
import { type VersionDiff, versionDiff, versionLabel } from '../../app/history.js'
import { Dialog } from '../Dialog.js'
import './history.css'

interface Props {
  readonly api: HistoryApi
  /** The open space, as this device shows it now: the preview says what restoring would change. */
  readonly current: Space
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
 * WEB-HISTORY-1…4: the versions the server keeps of this space, newest first ("Tue 1 Dec, 18:04 —
 * Sam, 12 changes"); one opened is shown read-only, and "Restore this version" brings it back as a
 * new change of this device — synced like any edit, one Undo away.
 */
export function HistoryDialog({ api, current, spaceId, token, canRestore, onClose, onRestore }: Props) {
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
        {preview.kind === 'shown' && (
          <VersionPreview
            space={preview.space}
            diff={versionDiff(
              { items: current.items(), notes: current.notes() },
              { items: preview.space.items(), notes: preview.space.notes() },
            )}
          />
        )}
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

/**
 * What a version holds: its list (with quantities and ticks) and its notes' titles, each marked by
 * what restoring it would do against the list now (WEB-HISTORY-4).
 */
function VersionPreview({ space, diff }: { readonly space: Space; readonly diff: VersionDiff }) {
  const items = space.items()
  const notes = space.notes()
  const names = (list: readonly string[]): string => list.map((n) => safeText(n, 80)).join(', ')
  return (
    <div className="version-preview" data-testid="version-preview">
      <p className="version-diff-summary" data-testid="version-diff-summary">
        {diff.summary}
      </p>
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
                {diff.lines.has(i.key) && (
                  <span className="version-mark" data-testid="version-mark">
                    {diff.lines.get(i.key)}
                  </span>
                )}
              </span>
              <span className="muted">{i.quantity > 1 ? `×${formatCount(i.quantity)}` : ''}</span>
            </li>
          ))}
        </ul>
      )}
      {diff.off.length > 0 && (
        <p className="muted small" data-testid="version-off">
          On the list now but not in this version, so restoring takes {diff.off.length === 1 ? 'it' : 'them'}{' '}
          off: {names(diff.off)}.
        </p>
      )}
      <h3 className="version-preview-head">Notes ({formatCount(notes.length)})</h3>
      {notes.length === 0 ? (
        <p className="muted small">No notes.</p>
      ) : (
        <ul className="trip-lines" data-testid="version-notes">
          {notes.map((n) => (
            <li key={n.id}>
              <span>
                {safeText(n.title, 200) || 'Untitled note'}
                {diff.notes.has(n.id) && (
                  <span className="version-mark" data-testid="version-mark">
                    {diff.notes.get(n.id)}
                  </span>
                )}
              </span>
              <span className="muted small">{safeText(n.body.split('\n')[0] ?? '', 60)}</span>
            </li>
          ))}
        </ul>
      )}
      {diff.toTrash.length > 0 && (
        <p className="muted small" data-testid="version-to-trash">
          Not in this version, so restoring puts {diff.toTrash.length === 1 ? 'it' : 'them'} in the trash
          (from where {diff.toTrash.length === 1 ? 'it' : 'they'} can be brought back): {names(diff.toTrash)}.
        </p>
      )}
    </div>
  )
}
