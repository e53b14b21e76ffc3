import type { Note } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { useEffect, useRef, useState } from 'react'
import { MAX_TITLE, formatWhen, safeText } from '../app/safe.js'
import type { SpaceViewState } from '../app/space-view.js'
import { ErrorBoundary } from './ErrorBoundary.js'
import { NoteEditor } from './NoteEditor.js'
import { Notice } from './Notice.js'
import type { Run } from './SpaceScreen.js'

// every value read from the document is shown tolerantly (BAD-4 in the UI, app/safe.ts)
const titleOf = (n: Note): string => safeText(n.title, MAX_TITLE).trim() || 'Untitled note'

/** The first line of a body, cut to 80 characters. */
const snippet = (body: unknown): string => {
  if (typeof body !== 'string') return ''
  const start = body.trimStart()
  const end = start.indexOf('\n')
  return safeText((end < 0 ? start : start.slice(0, end)).trimEnd(), 81)
}

interface NotesProps {
  readonly session: SpaceSession
  readonly view: SpaceViewState
  readonly run: Run
}

export function Notes({ session, view, run }: NotesProps) {
  const space = session.space
  const { notes, trash, readOnly } = view
  const [selected, setSelected] = useState<string | null>(null)
  const [showTrash, setShowTrash] = useState(false)
  const [focusTitle, setFocusTitle] = useState(false)
  /** Said after a note went to the trash, with the way to take it back (never silent). */
  const [trashed, setTrashed] = useState<{ id: string; title: string } | null>(null)
  const undoRef = useRef<HTMLButtonElement>(null)
  const current = notes.find((n) => n.id === selected) ?? notes[0] ?? null

  const trashNote = (note: Note): void => {
    run('move the note to the trash', () => {
      space.trashNote(note.id)
      setTrashed({ id: note.id, title: titleOf(note) })
    })
  }
  useEffect(() => {
    // focus lands on the Undo of what was just done, not on the page body
    if (trashed) undoRef.current?.focus()
  }, [trashed])
  const restoreTrashed = (): void => {
    if (!trashed) return
    const { id } = trashed
    run('restore the note', () => {
      space.restoreNote(id)
      setSelected(id)
      setTrashed(null)
    })
  }

  const create = (): void => {
    run('create a note', () => {
      const id = space.createNote({ title: '' })
      setSelected(id)
      setShowTrash(false)
      setFocusTitle(true)
    })
  }

  return (
    <section className="card notes" aria-labelledby="notes-heading" data-testid="notes">
      <div className="section-head">
        <h2 id="notes-heading" className="section-title">
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
          <button type="button" className="button small primary" onClick={create} disabled={readOnly}>
            New note
          </button>
        )}
      </div>

      <Notice
        testId="notes-notice"
        text={trashed ? `Moved “${trashed.title}” to the trash.` : null}
        onUndo={trashed && !readOnly ? restoreTrashed : undefined}
        undoRef={undoRef}
        onDismiss={() => setTrashed(null)}
      />

      {showTrash ? (
        <ErrorBoundary name="trash" what="The trash">
          <TrashList trash={trash} readOnly={readOnly} run={run} session={session} />
        </ErrorBoundary>
      ) : notes.length === 0 ? (
        <p className="empty" data-testid="notes-empty">
          No notes yet.{readOnly ? '' : ' Create one for recipes, plans or anything to share.'}
        </p>
      ) : (
        <div className="notes-layout">
          <ErrorBoundary name="note-list" what="The list of notes">
            <NoteList notes={notes} current={current?.id ?? null} onSelect={setSelected} />
          </ErrorBoundary>
          {current && (
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
              />
            </ErrorBoundary>
          )}
        </div>
      )}
    </section>
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
  return (
    <ul className="note-list" aria-label="Notes, newest first">
      {notes.map((n) => (
        <li key={n.id}>
          <button
            type="button"
            className="note-item"
            aria-current={current === n.id ? 'true' : undefined}
            data-testid="note-item"
            onClick={() => onSelect(n.id)}
          >
            <span className="note-item-title">{titleOf(n)}</span>
            <span className="note-item-snippet">{snippet(n.body) || formatWhen(n.createdAt)}</span>
          </button>
        </li>
      ))}
    </ul>
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
}: {
  readonly note: Note
  readonly session: SpaceSession
  readonly readOnly: boolean
  readonly run: Run
  readonly focusTitle: boolean
  readonly onFocused: () => void
  readonly onTrash: () => void
}) {
  const space = session.space
  // the title is edited locally and written on Enter or when the field loses focus (one change, one undo step)
  const [draft, setDraft] = useState<string | null>(null)
  const titleRef = useRef<HTMLInputElement>(null)

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
      <div className="note-detail-head">
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
      <NoteEditor session={session} noteId={note.id} readOnly={readOnly} label={`Text of ${titleOf(note)}`} />
      {/* after the body, so Tab goes title → body, never title → Trash */}
      <div className="note-detail-foot">
        <button
          type="button"
          className="button small danger-text"
          disabled={readOnly}
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
