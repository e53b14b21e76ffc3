import type { EditorView } from '@codemirror/view'
import type { Note } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { type RefObject, useEffect, useId, useRef, useState } from 'react'
import { checklistProgress, displayLine } from '../app/notes-checklist.js'
import { onlyOtherPerson } from '../app/notes-presence.js'
import { MAX_TITLE, formatWhen, safeText } from '../app/safe.js'
import type { SpaceViewState } from '../app/space-view.js'
import { ErrorBoundary } from './ErrorBoundary.js'
import { NoteEditor } from './NoteEditor.js'
import { Notice } from './Notice.js'
import type { Run } from './SpaceScreen.js'
import { startChecklistHere } from './notes/checklist.js'
import './notes/notes.css'

// every value read from the document is shown tolerantly (BAD-4 in the UI, app/safe.ts)
const titleOf = (n: Note): string => safeText(n.title, MAX_TITLE).trim() || 'Untitled note'
const isPinned = (n: Note): boolean => typeof n.pinnedAt === 'number'

/** The first line of a body, cut to 80 characters. */
const snippet = (body: unknown): string => {
  if (typeof body !== 'string') return ''
  const start = body.trimStart()
  const end = start.indexOf('\n')
  return safeText(displayLine((end < 0 ? start : start.slice(0, end)).trimEnd()), 81)
}

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform)

/** A note to open, asked for from outside (the space's search); `n` makes each request new. */
export interface OpenNoteRequest {
  readonly id: string
  readonly n: number
}

interface NotesProps {
  readonly session: SpaceSession
  readonly view: SpaceViewState
  readonly run: Run
  readonly openRequest?: OpenNoteRequest | null
}

type FocusTarget = 'list' | 'body' | { readonly item: string }

export function Notes({ session, view, run, openRequest = null }: NotesProps) {
  const space = session.space
  const { notes, trash, readOnly } = view
  const [selected, setSelected] = useState<string | null>(null)
  const [showTrash, setShowTrash] = useState(false)
  const [focusTitle, setFocusTitle] = useState(false)
  /** Said after a note went to the trash, with the way to take it back (never silent). */
  const [trashed, setTrashed] = useState<{ id: string; title: string } | null>(null)
  /**
   * The note whose being in the trash closes its editor: trashed here (Trash, an undo) or discarded
   * after someone else trashed it. A note open here that is in the trash for any other reason was
   * trashed by someone else: its editor stays, with a notice.
   */
  const [closedTrashed, setClosedTrashed] = useState<string | null>(null)
  const [focusAfter, setFocusAfter] = useState<FocusTarget | null>(null)
  const undoRef = useRef<HTMLButtonElement>(null)
  const sectionRef = useRef<HTMLElement>(null)
  const editorRef = useRef<EditorView | null>(null)

  const selectedNote = selected === null ? undefined : notes.find((n) => n.id === selected)
  const remoteTrashed =
    !selectedNote && selected !== null && selected !== closedTrashed && !showTrash
      ? trash.find((n) => n.id === selected)
      : undefined
  const current = selectedNote ?? remoteTrashed ?? notes[0] ?? null

  // `selected` always names the note shown, so that a change to it (trashed elsewhere) is noticed
  useEffect(() => {
    if (!showTrash && current && current.id !== selected) setSelected(current.id)
  }, [showTrash, current, selected])

  // the open note trashed by a change of this device (an undo of its creation too) closes the editor;
  // typing into a note someone else trashed is a change of this device as well, and keeps it open
  const open = useRef<{ id: string; trashed: boolean } | null>(null)
  const currentId = current?.id ?? null
  useEffect(() => {
    open.current =
      currentId === null ? null : { id: currentId, trashed: space.note(currentId)?.trashed ?? false }
  }, [space, currentId])
  useEffect(
    () =>
      space.subscribe((e) => {
        const shown = open.current
        if (shown === null) return
        const trashedNow = space.note(shown.id)?.trashed ?? false
        if (e.local && trashedNow && !shown.trashed) setClosedTrashed(shown.id)
        open.current = { id: shown.id, trashed: trashedNow }
      }),
    [space],
  )
  // a note closed that way and since restored (by anyone) may show the notice again
  useEffect(() => {
    if (closedTrashed !== null && !trash.some((n) => n.id === closedTrashed)) setClosedTrashed(null)
  }, [closedTrashed, trash])

  useEffect(() => {
    // focus lands on the Undo of what was just done, not on the page body
    if (trashed) undoRef.current?.focus()
  }, [trashed])

  useEffect(() => {
    if (!focusAfter) return
    setFocusAfter(null)
    const root = sectionRef.current
    if (!root) return
    if (focusAfter === 'body') {
      if (editorRef.current) editorRef.current.focus()
      else root.querySelector<HTMLElement>('.cm-content')?.focus()
      return
    }
    const item =
      typeof focusAfter === 'object'
        ? root.querySelector<HTMLElement>(
            `[data-testid="note-item"][data-note-id="${CSS.escape(focusAfter.item)}"]`,
          )
        : null
    // after a note closes: the note now open in the list, else "New note" — never the page body
    const target =
      item ??
      root.querySelector<HTMLElement>('[data-testid="note-item"][aria-current="true"]') ??
      root.querySelector<HTMLElement>('[data-testid="new-note"]:not(:disabled)') ??
      root.querySelector<HTMLElement>('#notes-heading')
    target?.focus()
  }, [focusAfter])

  // the space's search opens a note
  useEffect(() => {
    if (!openRequest) return
    setShowTrash(false)
    setSelected(openRequest.id)
    setFocusAfter('body')
  }, [openRequest])

  const select = (id: string): void => {
    setSelected(id)
  }

  const trashNote = (note: Note): void => {
    run('move the note to the trash', () => {
      setClosedTrashed(note.id)
      space.trashNote(note.id)
      setTrashed({ id: note.id, title: titleOf(note) })
    })
  }
  const restoreTrashed = (): void => {
    if (!trashed) return
    const { id } = trashed
    run('restore the note', () => {
      space.restoreNote(id)
      setSelected(id)
      setTrashed(null)
      setFocusAfter({ item: id })
    })
  }

  const keepRemoteTrashed = (note: Note): void => {
    run('keep the note', () => {
      space.restoreNote(note.id)
      setFocusAfter('body')
    })
  }
  const discardRemoteTrashed = (note: Note): void => {
    setClosedTrashed(note.id)
    setSelected(null)
    setFocusAfter('list')
  }

  const create = (): void => {
    run('create a note', () => {
      const id = space.createNote({ title: '' })
      setSelected(id)
      setShowTrash(false)
      setFocusTitle(true)
    })
  }

  const togglePin = (note: Note): void => {
    if (isPinned(note)) run('unpin the note', () => space.unpinNote(note.id))
    else run('pin the note', () => space.pinNote(note.id))
  }

  return (
    <section ref={sectionRef} className="card notes" aria-labelledby="notes-heading" data-testid="notes">
      <div className="section-head">
        <h2 id="notes-heading" className="section-title" tabIndex={-1}>
          {showTrash ? 'Trash' : 'Notes'}
        </h2>
        <span className="count" aria-hidden="true">
          {showTrash ? trash.length : notes.length}
        </span>
        <span className="toolbar-spacer" />
        <button
          type="button"
          className="button small"
          aria-pressed={showTrash}
          onClick={() => setShowTrash((t) => !t)}
        >
          {showTrash ? 'Back to notes' : `Trash (${trash.length})`}
        </button>
        {!showTrash && (
          <button
            type="button"
            className="button small primary"
            data-testid="new-note"
            onClick={create}
            disabled={readOnly}
          >
            New note
          </button>
        )}
      </div>

      <Notice
        testId="notes-notice"
        text={trashed ? `Moved “${trashed.title}” to the trash.` : null}
        onUndo={trashed && !readOnly ? restoreTrashed : undefined}
        undoRef={undoRef}
        onDismiss={() => {
          setTrashed(null)
          setFocusAfter('list')
        }}
      />

      {showTrash ? (
        <ErrorBoundary name="trash" what="The trash">
          <TrashList trash={trash} readOnly={readOnly} run={run} session={session} />
        </ErrorBoundary>
      ) : !current ? (
        <p className="empty" data-testid="notes-empty">
          No notes yet.{readOnly ? '' : ' Create one for recipes, plans or anything to share.'}
        </p>
      ) : (
        <div className="notes-layout">
          <ErrorBoundary name="note-list" what="The list of notes">
            <NoteList notes={notes} current={current.id} onSelect={select} />
          </ErrorBoundary>
          <ErrorBoundary name="note-editor" what="This note" resetKey={current.id}>
            <NoteDetail
              key={current.id}
              note={current}
              session={session}
              readOnly={readOnly}
              run={run}
              focusTitle={focusTitle}
              onFocused={() => setFocusTitle(false)}
              onTrash={() => trashNote(current)}
              onTogglePin={() => togglePin(current)}
              editorRef={editorRef}
              trashedBy={
                remoteTrashed === current ? (onlyOtherPerson(view.presence) ?? 'Someone else') : null
              }
              onKeep={() => keepRemoteTrashed(current)}
              onDiscard={() => discardRemoteTrashed(current)}
            />
          </ErrorBoundary>
        </div>
      )}
    </section>
  )
}

/** A push pin, drawn in the text colour (no emoji: not every system has a font for it). */
function PinIcon() {
  return (
    <svg className="pin-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M10.6 1.3a.75.75 0 0 0-1.2.3L8.6 3.9 5.5 6.2 3.6 6a.75.75 0 0 0-.6 1.3l2.6 2.6-3.3 3.3a.6.6 0 0 0 .8.9l3.3-3.3 2.6 2.6a.75.75 0 0 0 1.3-.6l-.2-1.9 2.3-3.1 2.3-.8a.75.75 0 0 0 .3-1.2z"
      />
    </svg>
  )
}

function NoteList({
  notes,
  current,
  onSelect,
}: {
  readonly notes: readonly Note[]
  readonly current: string | null
  readonly onSelect: (id: string) => void
}) {
  const pinnedId = useId()
  const othersId = useId()
  const pinned = notes.filter(isPinned)
  const others = notes.filter((n) => !isPinned(n))
  const item = (n: Note) => {
    const progress = checklistProgress(n.body)
    return (
      <li key={n.id}>
        <button
          type="button"
          className="note-item"
          aria-current={current === n.id ? 'true' : undefined}
          data-testid="note-item"
          data-note-id={n.id}
          onClick={() => onSelect(n.id)}
        >
          <span className="note-item-title">
            {isPinned(n) && (
              <span className="note-pin-marker" data-testid="note-pin-marker">
                <PinIcon />
                <span className="visually-hidden">Pinned: </span>
              </span>
            )}
            {titleOf(n)}
          </span>
          <span className="note-item-snippet">{snippet(n.body) || formatWhen(n.createdAt)}</span>
          {progress.total > 0 && (
            <span
              className={
                progress.done === progress.total ? 'note-item-progress all-done' : 'note-item-progress'
              }
              data-testid="note-progress"
            >
              {progress.done}/{progress.total} done
            </span>
          )}
        </button>
      </li>
    )
  }
  if (pinned.length === 0)
    return (
      <div className="note-lists">
        <ul className="note-list" aria-label="Notes, newest first">
          {notes.map(item)}
        </ul>
      </div>
    )
  return (
    <div className="note-lists">
      <h3 className="note-group" id={pinnedId}>
        Pinned
      </h3>
      <ul className="note-list" aria-labelledby={pinnedId} data-testid="pinned-notes">
        {pinned.map(item)}
      </ul>
      {others.length > 0 && (
        <>
          <h3 className="note-group" id={othersId}>
            Other notes
          </h3>
          <ul className="note-list" aria-labelledby={othersId}>
            {others.map(item)}
          </ul>
        </>
      )}
    </div>
  )
}

function NoteDetail({
  note,
  session,
  readOnly,
  run,
  focusTitle,
  onFocused,
  onTrash,
  onTogglePin,
  editorRef,
  trashedBy,
  onKeep,
  onDiscard,
}: {
  readonly note: Note
  readonly session: SpaceSession
  readonly readOnly: boolean
  readonly run: Run
  readonly focusTitle: boolean
  readonly onFocused: () => void
  readonly onTrash: () => void
  readonly onTogglePin: () => void
  readonly editorRef: RefObject<EditorView | null>
  /** Someone else moved this note to the trash while it was open here: who (or "Someone else"). */
  readonly trashedBy: string | null
  readonly onKeep: () => void
  readonly onDiscard: () => void
}) {
  const space = session.space
  // the title is edited locally and written on Enter or when the field loses focus (one change, one undo step)
  const [draft, setDraft] = useState<string | null>(null)
  const titleRef = useRef<HTMLInputElement>(null)
  const pinned = isPinned(note)

  useEffect(() => {
    if (focusTitle) {
      titleRef.current?.focus()
      onFocused()
    }
  }, [focusTitle, onFocused])

  const commit = (): void => {
    if (draft !== null && draft !== note.title) run('rename the note', () => space.renameNote(note.id, draft))
    setDraft(null)
  }

  return (
    <article className="note-detail" aria-label={`Note: ${titleOf(note)}`} data-testid="note-detail">
      <div className="note-trashed-notice" role="status" data-testid="note-trashed-notice">
        {trashedBy !== null && (
          <>
            <span className="note-trashed-text">
              {trashedBy} moved this note to the trash.{' '}
              {readOnly ? 'It stays open here until you close it.' : 'Your text is still here.'}
            </span>
            <span className="note-trashed-actions">
              {!readOnly && (
                <button type="button" className="button small primary" onClick={onKeep}>
                  Keep it
                </button>
              )}
              <button type="button" className="button small" onClick={onDiscard}>
                {readOnly ? 'Close' : 'Discard'}
              </button>
            </span>
          </>
        )}
      </div>
      <div className="note-detail-head">
        {/* before the title, so Tab goes title → body */}
        <button
          type="button"
          className="button small note-pin"
          aria-pressed={pinned}
          disabled={readOnly || trashedBy !== null}
          title={pinned ? 'Unpin: back among the other notes' : 'Pin to the top of the list'}
          onClick={onTogglePin}
        >
          <PinIcon /> {pinned ? 'Pinned' : 'Pin'}
        </button>
        <label className="field grow">
          <span className="visually-hidden">Note title</span>
          <input
            ref={titleRef}
            className="input title-input"
            aria-label="Note title"
            placeholder="Untitled note"
            value={draft ?? note.title}
            maxLength={200}
            readOnly={readOnly}
            onFocus={() => setDraft(note.title)}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={commit}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault()
                commit()
                e.currentTarget.closest('.note-detail')?.querySelector<HTMLElement>('.cm-content')?.focus()
              } else if (e.key === 'Escape') {
                setDraft(note.title)
              }
            }}
          />
        </label>
      </div>
      <NoteEditor
        session={session}
        noteId={note.id}
        readOnly={readOnly}
        label={`Text of ${titleOf(note)}`}
        viewRef={editorRef}
      />
      {/* after the body, so Tab goes title → body, never title → Trash */}
      <div className="note-detail-foot">
        {!readOnly && (
          <>
            <button
              type="button"
              className="button small"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => {
                if (editorRef.current) startChecklistHere(editorRef.current)
              }}
            >
              <span aria-hidden="true">☑</span> Checklist
            </button>
            <span className="note-hint">{IS_MAC ? '⌘' : 'Ctrl'}+Enter checks a checklist line</span>
          </>
        )}
        <span className="toolbar-spacer" />
        <button
          type="button"
          className="button small danger-text"
          disabled={readOnly || trashedBy !== null}
          aria-label={`Move ${titleOf(note)} to trash`}
          onClick={onTrash}
        >
          Trash
        </button>
      </div>
    </article>
  )
}

function TrashList({
  trash,
  readOnly,
  run,
  session,
}: {
  readonly trash: readonly Note[]
  readonly readOnly: boolean
  readonly run: Run
  readonly session: SpaceSession
}) {
  if (trash.length === 0)
    return (
      <p className="empty" data-testid="trash-empty">
        The trash is empty.
      </p>
    )
  return (
    <ul className="trash-list" aria-label="Notes in the trash" data-testid="trash-list">
      {trash.map((n) => (
        <li key={n.id} className="trash-item" data-testid="trash-item">
          <div className="trash-text">
            <span className="note-item-title">{titleOf(n)}</span>
            <span className="note-item-snippet">
              {snippet(n.body) || 'Empty'}
              {n.trashedAt !== null && ` · trashed ${formatWhen(n.trashedAt)}`}
            </span>
          </div>
          <button
            type="button"
            className="button small"
            disabled={readOnly}
            aria-label={`Restore ${titleOf(n)}`}
            onClick={() => run('restore the note', () => session.space.restoreNote(n.id))}
          >
            Restore
          </button>
        </li>
      ))}
    </ul>
  )
}
