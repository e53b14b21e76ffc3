import { exportSpace, isMergeError, mergeExport, writeExport } from '@converge/merge'
import { type SpaceSession, formatBytes } from '@converge/sync-client'
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { navigate } from '../app/router.js'
import { useServices } from '../app/services.js'
import { MAX_NAME, safeText } from '../app/safe.js'
import { type SpaceViewState, useSpaceView } from '../app/space-view.js'
import { useTooLarge } from '../app/too-large.js'
import type { SpaceRecord } from '../services/types.js'
import { Banner } from './Banner.js'
import { HomeLink } from './HomeLink.js'
import { Cart } from './Cart.js'
import { ErrorBoundary } from './ErrorBoundary.js'
import { type OpenNoteRequest, Notes } from './Notes.js'
import { SpaceSearch } from './notes/Search.js'
import { PresenceList } from './PresenceList.js'
import { RemoveSpaceDialog } from './RemoveSpaceDialog.js'
import { ShareDialog } from './ShareDialog.js'
import { StatusLine } from './StatusLine.js'
import { RemoteActivity } from './LiveAnnouncer.js'
import { FinishTripDialog, TripsDialog } from './trips/Trips.js'
import { tripSummary } from '../app/trips.js'
import { restoredText } from '../app/history.js'
import { HistoryDialog } from './history/History.js'
import { useSpaceCurrency } from '../app/currency.js'
import { isInspectorShortcut } from '../app/inspector.js'
import { SyncInspector } from './inspector/SyncInspector.js'

/** Runs a command on the space; a refusal (read-only, item removed meanwhile…) is shown, not thrown. */
export type Run = (what: string, fn: () => void) => void

export function SpaceScreen({ record }: { readonly record: SpaceRecord }) {
  const { sessions, catalog, newSpaces } = useServices()
  const token = record.writeToken ?? record.readToken ?? null
  const readOnly = !record.writeToken && !!record.readToken
  const [session, setSession] = useState<SpaceSession | null>(null)
  const [openError, setOpenError] = useState<string | null>(null)
  const [importError, setImportError] = useState<string | null>(null)
  // here, not in OpenSpace: a link reset swaps the session (a new token), and the dialog showing the
  // new links must stay open through it
  const [sharing, setSharing] = useState(false)
  const shareDialog = sharing && (
    <ShareDialog record={record} session={session} onClose={() => setSharing(false)} />
  )

  useEffect(() => {
    const lease = sessions.acquire({ spaceId: record.id, engine: record.engine ?? 'yjs', token, readOnly })
    let live = true
    lease.session.then(
      (s) => {
        if (!live) return
        const pending = newSpaces.get(record.id)
        if (pending !== undefined) {
          newSpaces.delete(record.id)
          if (!s.space.readOnly) {
            try {
              if ('merge' in pending) mergeExport(s.space, pending.merge)
              else {
                s.space.initialise(pending.name)
                if (pending.file) writeExport(s.space, pending.file)
              }
            } catch (e) {
              setImportError(e instanceof Error ? e.message : String(e))
            }
          }
        }
        sessions.setActive(record.id)
        setSession(s)
      },
      (e: unknown) => {
        if (live) setOpenError(e instanceof Error ? e.message : String(e))
      },
    )
    return () => {
      live = false
      sessions.setActive(null)
      setSession(null)
      lease.release()
    }
  }, [sessions, newSpaces, record.id, record.engine, token, readOnly])

  useEffect(() => {
    void catalog.touch(record.id)
  }, [catalog, record.id])

  if (openError)
    return (
      <main id="main" className="space" tabIndex={-1}>
        <Banner kind="error" testId="banner-open-error">
          This space could not be opened: {openError}. Reload the page to try again.
        </Banner>
      </main>
    )
  if (!session)
    return (
      <>
        <main id="main" className="center-note" tabIndex={-1}>
          <p className="muted">Opening…</p>
        </main>
        {shareDialog}
      </>
    )
  // the same two children as while opening: the share dialog keeps its place (and its state) when a
  // link reset swaps the session
  return (
    <>
      <OpenSpace
        session={session}
        record={record}
        onShare={() => setSharing(true)}
        importError={importError}
        onDismissImportError={() => setImportError(null)}
      />
      {shareDialog}
    </>
  )
}

function OpenSpace({
  session,
  record,
  onShare,
  importError,
  onDismissImportError,
}: {
  readonly session: SpaceSession
  readonly record: SpaceRecord
  readonly onShare: () => void
  /** WEB-EXPORT-3: a file that could not be merged into this space */
  readonly importError: string | null
  readonly onDismissImportError: () => void
}) {
  const { catalog, registrar, trips, history, profile } = useServices()
  const view = useSpaceView(session)
  const me = useSyncExternalStore(profile.subscribe, profile.getSnapshot).profile
  const [finishing, setFinishing] = useState(false)
  const [showTrips, setShowTrips] = useState(false)
  const [showHistory, setShowHistory] = useState(false)
  /** WEB-INSPECT-1: the sync inspector is open. */
  const [inspecting, setInspecting] = useState(false)
  /** What the space says after a trip or a restore, with what it offers (see the trips, undo). */
  const [notice, setNotice] = useState<{ text: string; offer: 'trips' | 'undo' } | null>(null)
  const [currency] = useSpaceCurrency(session.space)
  // a trip is finished on the server, with the write token of a space registered there (WEB-TRIP-1)
  const writeToken = record.registered && !view.readOnly ? (record.writeToken ?? null) : null
  const readToken = record.registered ? (record.writeToken ?? record.readToken ?? null) : null
  const registerProblems = useSyncExternalStore(registrar.subscribe, registrar.getSnapshot)
  const [actionError, setActionError] = useState<string | null>(null)
  const [removing, setRemoving] = useState(false)
  const [openNote, setOpenNote] = useState<OpenNoteRequest | null>(null)
  const space = session.space
  // BAD-4 in the UI: a name stored before names were bounded is shown cut, without control characters
  const spaceName = safeText(view.name, MAX_NAME)
  const name = spaceName || safeText(record.name, MAX_NAME) || 'Untitled space'

  // the name arrives with the first sync for a space joined from a link: keep the catalog's in step
  useEffect(() => {
    if (spaceName && spaceName !== record.name) void catalog.update(record.id, { name: spaceName })
  }, [catalog, record.id, record.name, spaceName])

  useEffect(() => {
    document.title = `${name} · Converge`
    return () => {
      document.title = 'Converge'
    }
  }, [name])

  // an Undo offered for a restore is for that restore only: any later change of this device ends it
  const offersUndo = notice?.offer === 'undo'
  useEffect(() => {
    if (!offersUndo) return
    return session.space.subscribe((e) => {
      if (e.local) setNotice(null)
    })
  }, [session, offersUndo])

  const run: Run = useCallback((what, fn) => {
    try {
      fn()
      setActionError(null)
    } catch (e) {
      if (!isMergeError(e)) throw e
      setActionError(`Could not ${what}: ${e.message}.`)
    }
  }, [])

  const undo = useCallback(() => run('undo', () => void space.undo()), [run, space])
  const redo = useCallback(() => run('redo', () => void space.redo()), [run, space])

  // Ctrl/Cmd+Z and Ctrl/Cmd+Shift+Z (or Ctrl+Y) undo this device's cart changes, except in the
  // note editor (which has its own undo) and in text fields (native text undo)
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return
      const key = e.key.toLowerCase()
      const isUndo = key === 'z' && !e.shiftKey
      const isRedo = (key === 'z' && e.shiftKey) || (key === 'y' && !e.shiftKey && e.ctrlKey)
      if (!isUndo && !isRedo) return
      const target = e.target instanceof Element ? e.target : null
      if (target?.closest('.cm-editor')) return
      if (target instanceof HTMLTextAreaElement) return
      if (target instanceof HTMLInputElement && target.type === 'text' && !target.dataset.cartUndo) return
      if (view.readOnly) return
      e.preventDefault()
      if (isUndo) undo()
      else redo()
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [undo, redo, view.readOnly])

  // WEB-INSPECT-1: Alt+Shift+I opens and closes the sync inspector, wherever the focus is in the space
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (!isInspectorShortcut(e)) return
      e.preventDefault()
      setInspecting((open) => !open)
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [])

  return (
    <main id="main" className="space" tabIndex={-1} data-testid="space-screen" data-space-id={record.id}>
      {importError && (
        <Banner kind="error" testId="banner-import-error" onDismiss={onDismissImportError}>
          The file could not be added to this space, which is unchanged: {importError}
        </Banner>
      )}
      <div className="space-head">
        <div className="space-title-row">
          <a
            href="/"
            className="back-link"
            onClick={(e) => {
              if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
              e.preventDefault()
              navigate('/')
            }}
          >
            <span aria-hidden="true">←</span> Spaces
          </a>
          <SpaceTitle
            name={name}
            readOnly={view.readOnly}
            onRename={(n) => run('rename the space', () => space.rename(n))}
          />
        </div>
        <div className="space-meta-row">
          <PresenceList presence={view.presence} session={session} view={view} />
          <StatusLine status={view.status} onDetails={() => setInspecting(true)} />
        </div>
      </div>

      <SpaceBanners
        session={session}
        view={view}
        record={record}
        registerProblem={registerProblems.get(record.id) ?? null}
        actionError={actionError}
        onDismissActionError={() => setActionError(null)}
      />

      <div className="toolbar" role="toolbar" aria-label="Space actions">
        <button
          type="button"
          className="button"
          onClick={undo}
          disabled={!view.canUndo || view.readOnly}
          aria-keyshortcuts="Control+Z Meta+Z"
          title="Undo your last cart change (Ctrl+Z)"
        >
          <span aria-hidden="true">↶</span> Undo
        </button>
        <button
          type="button"
          className="button"
          onClick={redo}
          disabled={!view.canRedo || view.readOnly}
          aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z"
          title="Redo (Ctrl+Shift+Z)"
        >
          <span aria-hidden="true">↷</span> Redo
        </button>
        <span className="toolbar-spacer" />
        {readToken && (
          <button
            type="button"
            className="button"
            data-testid="open-trips"
            onClick={() => setShowTrips(true)}
          >
            Trips
          </button>
        )}
        {readToken && (
          <button
            type="button"
            className="button"
            data-testid="open-history"
            onClick={() => setShowHistory(true)}
            title="Earlier versions of this list and its notes, kept by the server"
          >
            History
          </button>
        )}
        <button type="button" className="button" onClick={onShare}>
          Share
        </button>
        <button
          type="button"
          className="button subtle"
          onClick={() => downloadCopy(space, name)}
          title="Download the list and notes as a file you can keep or import elsewhere"
        >
          Download a copy
        </button>
        <button type="button" className="button subtle" onClick={() => setRemoving(true)}>
          Remove from this device
        </button>
      </div>

      <ErrorBoundary name="search" what="The search">
        <SpaceSearch
          items={view.items}
          notes={view.notes}
          onOpenItem={focusCartRow}
          onOpenNote={(id) => setOpenNote((r) => ({ id, n: (r?.n ?? 0) + 1 }))}
        />
      </ErrorBoundary>

      <RemoteActivity session={session} view={view} />
      <div className="cart-notice trip-done" role="status" data-testid="space-notice">
        {notice !== null && (
          <>
            <span className="cart-notice-text">{notice.text}</span>
            {notice.offer === 'trips' ? (
              <button type="button" className="button small" onClick={() => setShowTrips(true)}>
                See trips
              </button>
            ) : (
              <button
                type="button"
                className="button small"
                onClick={() => {
                  setNotice(null)
                  run('undo the restore', () => void space.undo())
                }}
              >
                Undo
              </button>
            )}
            <button
              type="button"
              className="icon-button small"
              aria-label="Dismiss"
              onClick={() => setNotice(null)}
            >
              ×
            </button>
          </>
        )}
      </div>
      <div className="space-columns">
        <ErrorBoundary name="cart" what="This list" card>
          <Cart
            session={session}
            view={view}
            run={run}
            onDoneShopping={writeToken ? () => setFinishing(true) : undefined}
          />
        </ErrorBoundary>
        <ErrorBoundary name="notes" what="The notes" card>
          <Notes session={session} view={view} run={run} openRequest={openNote} />
        </ErrorBoundary>
      </div>

      {finishing && writeToken && (
        <FinishTripDialog
          api={trips}
          spaceId={record.id}
          writeToken={writeToken}
          by={me.name}
          status={view.status}
          currency={currency}
          onClose={() => setFinishing(false)}
          onFinished={(trip) => {
            setFinishing(false)
            setNotice({
              text: `Trip recorded: ${tripSummary(trip, currency)}. The bought items leave the list.`,
              offer: 'trips',
            })
          }}
          onShowTrips={() => {
            setFinishing(false)
            setShowTrips(true)
          }}
        />
      )}
      {showTrips && readToken && (
        <TripsDialog
          api={trips}
          spaceId={record.id}
          token={readToken}
          currency={currency}
          onClose={() => setShowTrips(false)}
        />
      )}
      {showHistory && readToken && (
        <HistoryDialog
          api={history}
          current={space}
          spaceId={record.id}
          token={readToken}
          canRestore={!view.readOnly}
          onClose={() => setShowHistory(false)}
          onRestore={(old, info) => {
            try {
              const summary = space.restoreFrom(old)
              setShowHistory(false)
              setNotice({ text: restoredText(info, summary), offer: 'undo' })
              return summary
            } catch (e) {
              if (!isMergeError(e)) throw e
              return `This version could not be restored: ${e.message}`
            }
          }}
        />
      )}
      {inspecting && <SyncInspector session={session} onClose={() => setInspecting(false)} />}
      {removing && (
        <RemoveSpaceDialog
          space={record}
          onClose={() => setRemoving(false)}
          onRemoved={() => navigate('/')}
        />
      )}
    </main>
  )
}

/**
 * Scrolls to a cart row and gives it the focus (rows are focusable, `li[data-key]`); a row inside the
 * folded "Bought" section unfolds it first.
 */
function focusCartRow(key: string): void {
  const cart = document.querySelector<HTMLElement>('[data-testid="cart"]')
  if (!cart) return
  const find = (): HTMLElement | undefined =>
    [...cart.querySelectorAll<HTMLElement>('li[data-key]')].find((el) => el.dataset.key === key)
  const land = (row: HTMLElement): void => {
    row.scrollIntoView({ block: 'center' })
    row.focus({ preventScroll: true })
  }
  const row = find()
  if (row) return land(row)
  const fold = cart.querySelector<HTMLButtonElement>('.bought-toggle[aria-expanded="false"]')
  if (!fold) return
  fold.click()
  requestAnimationFrame(() => {
    const shown = find()
    if (shown) land(shown)
    else fold.focus()
  })
}

interface BannersProps {
  readonly session: SpaceSession
  readonly view: SpaceViewState
  readonly record: SpaceRecord
  readonly registerProblem: string | null
  readonly actionError: string | null
  readonly onDismissActionError: () => void
}

/** The error kind of a 4413: a change of this device the space could not store (sync-client LARGE-4). */
const SPACE_FULL = 'DocumentTooLarge'

/** What a device whose link was reset still has (SYNC-11). */
const keptOnDevice = (pending: number): string =>
  pending === 0
    ? 'What you see stays on this device.'
    : `What you see stays on this device, with your ${pending} unsent ${pending === 1 ? 'change' : 'changes'}.`

function SpaceBanners({
  session,
  view,
  record,
  registerProblem,
  actionError,
  onDismissActionError,
}: BannersProps) {
  const status = view.status
  const [tooLarge, dismissTooLarge] = useTooLarge(session)
  return (
    <div className="banners">
      {view.schemaTooNew ? (
        <Banner kind="warning" testId="banner-schema">
          This space was saved by a newer version of Converge; it is read-only here. Reload to get the newest
          version of the app to edit it.
        </Banner>
      ) : view.writeRefused ? (
        <Banner kind="warning" testId="banner-read-only">
          You can read but not edit: the server accepts no changes with this link. Changes from others still
          appear here.
        </Banner>
      ) : view.readOnly ? (
        <Banner kind="info" testId="banner-read-only">
          You can read but not edit: you opened this space with a read-only link. Changes from others appear
          here as they happen.
        </Banner>
      ) : null}
      {status.kind === 'revoked' && (
        <Banner
          kind="info"
          role="note"
          testId="banner-revoked"
          action={<HomeLink className="button" label="Go back to your lists" />}
        >
          <strong>This link was reset.</strong> Someone in the space made new share links, so this one no
          longer syncs. Ask someone in the space for the new link and open it here.{' '}
          {keptOnDevice(status.pending)}
        </Banner>
      )}
      {tooLarge && (
        <Banner kind="warning" testId="banner-too-large" onDismiss={dismissTooLarge}>
          This paste is too large for a shared space: {formatBytes(tooLarge.bytes)} of at most{' '}
          {formatBytes(tooLarge.limit)}. Nothing was pasted; everything else keeps syncing.
        </Banner>
      )}
      {status.kind === 'error' && status.error === SPACE_FULL && (
        <Banner kind="error" testId="banner-space-full">
          <strong>This space is full.</strong> The server could not store a change made on this device, so
          this device stopped syncing the space. Everything you see stays here, but your changes from that one
          on reach no one else. To sync again from this device, remove the space from it (its unsynced changes
          go with it) and open the share link again.
        </Banner>
      )}
      {status.kind === 'error' && status.error !== SPACE_FULL && (
        <Banner kind="error" testId="banner-sync-error">
          Not syncing: the server refused this space ({status.error}). It will not try again. Everything you
          see is kept on this device, but your changes do not reach anyone else. Ask for a new share link.
        </Banner>
      )}
      {!record.registered &&
        (registerProblem ? (
          <Banner kind="error" testId="banner-register-error">
            This space was created offline and could not be registered with the server: {registerProblem}. It
            works on this device only.
          </Banner>
        ) : (
          <Banner kind="info" role="note" testId="banner-unregistered">
            Created offline: this space lives on this device and is registered with the server as soon as you
            are online. Share links appear then.
          </Banner>
        ))}
      {actionError && (
        <Banner kind="error" testId="banner-action-error" onDismiss={onDismissActionError}>
          {actionError}
        </Banner>
      )}
    </div>
  )
}

/**
 * The space's name, and "Rename" beside it for anyone who can edit: the name becomes a field, Enter
 * or leaving it saves (one change, one undo step; live for everyone), Escape keeps the old name, and
 * focus comes back to "Rename".
 */
function SpaceTitle({
  name,
  readOnly,
  onRename,
}: {
  readonly name: string
  readonly readOnly: boolean
  readonly onRename: (name: string) => void
}) {
  const [draft, setDraft] = useState<string | null>(null)
  const button = useRef<HTMLButtonElement>(null)
  const field = useRef<HTMLInputElement>(null)
  const editing = draft !== null
  /** Enter (or Escape) ended this edit already: the blur of the field going away must not save again. */
  const ended = useRef(false)
  useEffect(() => {
    if (editing) field.current?.select()
  }, [editing])
  const finish = (save: boolean): void => {
    if (ended.current) return
    ended.current = true
    const next = (draft ?? '').trim()
    if (save && next !== '' && next !== name) onRename(next)
    setDraft(null)
    requestAnimationFrame(() => button.current?.focus())
  }
  if (editing)
    return (
      <input
        ref={field}
        className="input space-title-input"
        aria-label="Name of this space"
        value={draft}
        maxLength={MAX_NAME}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={() => finish(true)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault()
            finish(true)
          } else if (e.key === 'Escape') {
            e.preventDefault()
            finish(false)
          }
        }}
      />
    )
  return (
    <>
      <h1 className="space-title" data-testid="space-name">
        {name}
      </h1>
      {!readOnly && (
        <button
          ref={button}
          type="button"
          className="button small subtle"
          aria-label={`Rename ${name}`}
          onClick={() => {
            ended.current = false
            setDraft(name)
          }}
        >
          Rename
        </button>
      )}
    </>
  )
}

/** EXPORT-1: saves the space as `<name>.converge.json` (the cart and notes readable, its state beside). */
function downloadCopy(space: SpaceSession['space'], name: string): void {
  const file = exportSpace(space)
  const blob = new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = `${name.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'space'}.converge.json`
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
