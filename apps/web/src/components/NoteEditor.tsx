import { defaultKeymap } from '@codemirror/commands'
import { Compartment, EditorState, Transaction } from '@codemirror/state'
import { EditorView, keymap, placeholder } from '@codemirror/view'
import { YjsEngine } from '@converge/merge'
import { type SpaceSession, spaceSizeOf, utf8Length } from '@converge/sync-client'
import { type RefObject, useEffect, useRef } from 'react'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import { reportTooLarge } from '../app/too-large.js'
import { lightColor } from '../services/profile.js'
import { type AwarenessUser, isHexColor } from '../services/sessions.js'
import { checklist, checklistKeymap } from './notes/checklist.js'
import { spaceBinding } from './notes/space-binding.js'

interface NoteEditorProps {
  readonly session: SpaceSession
  readonly noteId: string
  readonly readOnly: boolean
  readonly label: string
  /** Set to this editor's view while it is open (for the note's "Checklist" button). */
  readonly viewRef?: RefObject<EditorView | null>
}

const theme = EditorView.theme({
  '&': { fontSize: '1rem' },
  '.cm-scroller': { fontFamily: 'var(--font)' },
  '.cm-content': { fontFamily: 'inherit', padding: '12px 0', minHeight: '10rem', caretColor: 'var(--text)' },
  '.cm-line': { padding: '0 14px', lineHeight: '1.6' },
  '&.cm-focused': { outline: 'none' },
  '.cm-placeholder': { color: 'var(--muted)' },
})

const isUint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const isId = (v: unknown): boolean =>
  v === null ||
  v === undefined ||
  (typeof v === 'object' &&
    isUint((v as { client?: unknown }).client) &&
    isUint((v as { clock?: unknown }).clock))

/**
 * A peer's cursor position, as a Y.RelativePosition that resolves inside `ytext` — or null. Made
 * from checked parts only: Yjs throws on a position that names nothing, and would create a root type
 * in this document for a name it does not have.
 */
function safePosition(json: unknown, ytext: Y.Text): Y.RelativePosition | null {
  if (typeof json !== 'object' || json === null) return null
  const { type, tname, item, assoc } = json as Record<string, unknown>
  if (!isId(type) || !isId(item)) return null
  if (tname !== null && tname !== undefined && typeof tname !== 'string') return null
  if (assoc !== undefined && assoc !== null && !Number.isSafeInteger(assoc)) return null
  const doc = ytext.doc
  if (!doc) return null
  const rpos = Y.createRelativePositionFromJSON(json)
  if (rpos.item === null && rpos.tname !== null && !doc.share.has(rpos.tname)) return null
  try {
    const abs = Y.createAbsolutePositionFromRelativePosition(rpos, doc)
    return abs && abs.type === ytext ? rpos : null
  } catch {
    return null
  }
}

type AwarenessEvent = 'change' | 'update'
type Listener = (...args: never[]) => void

/**
 * The awareness y-codemirror.next's remote cursors read, made safe. It writes `user.color` and
 * `user.colorLight` into `style` attribute text and resolves `cursor.anchor` / `cursor.head` against
 * the document, so a colour like `red;} …` would inject CSS and a malformed position would throw
 * inside the editor's update. It sees only the people `session.presence()` vouches for — a checked
 * `#rrggbb` colour (sync-client PRES-3), with `colorLight` made from it — and only cursors that
 * resolve inside this note; this tab's own state, and everything it writes, pass straight through.
 */
function remoteCursorAwareness(session: SpaceSession, ytext: Y.Text) {
  const awareness = session.awareness
  return {
    doc: awareness.doc,
    get clientID() {
      return awareness.clientID
    },
    getLocalState: () => awareness.getLocalState(),
    setLocalStateField: (field: string, value: unknown) => awareness.setLocalStateField(field, value),
    on: (name: AwarenessEvent, fn: Listener) => awareness.on(name, fn),
    off: (name: AwarenessEvent, fn: Listener) => awareness.off(name, fn),
    getStates: () => {
      const out = new Map<
        number,
        { user: AwarenessUser; cursor: { anchor: Y.RelativePosition; head: Y.RelativePosition } }
      >()
      const people = new Map(session.presence().map((p) => [p.clientId, p]))
      for (const [clientId, state] of awareness.getStates()) {
        const person = people.get(clientId)
        if (clientId === awareness.clientID || !person || !isHexColor(person.color)) continue
        const cursor = (state as { cursor?: { anchor?: unknown; head?: unknown } | null }).cursor
        const anchor = cursor ? safePosition(cursor.anchor, ytext) : null
        const head = cursor ? safePosition(cursor.head, ytext) : null
        if (!anchor || !head) continue
        const user = { name: person.name, color: person.color, colorLight: lightColor(person.color) }
        out.set(clientId, { user, cursor: { anchor, head } })
      }
      return out
    },
  }
}

/**
 * sync-client LARGE-3: an edit of this device (a paste, a drop, typing) that the space could not
 * store is not made — the transaction is dropped before y-codemirror.next writes it to the Y.Text —
 * and the space screen says why. Changes from others (no user event) always pass.
 */
function sizeGuard(session: SpaceSession) {
  return EditorState.transactionFilter.of((tr) => {
    if (!tr.docChanged || tr.annotation(Transaction.userEvent) === undefined) return tr
    let units = 0
    tr.changes.iterChanges((_fromA, _toA, _fromB, _toB, text) => (units += text.length))
    if (units === 0) return tr
    const size = spaceSizeOf(session)
    // a UTF-16 unit is at most 3 bytes of UTF-8: the exact count only when that bound does not fit
    if (size.check(units * 3) === null) return tr
    let bytes = 0
    tr.changes.iterChanges((_fromA, _toA, _fromB, _toB, text) => (bytes += utf8Length(text.toString())))
    const refused = size.check(bytes)
    if (refused === null) return tr
    reportTooLarge(session, refused)
    return []
  })
}

/**
 * The note body: CodeMirror 6 bound to the note's Y.Text by y-codemirror.next, with remote cursors
 * from awareness (checked first: `remoteCursorAwareness`) and an undo manager that only touches this
 * editor's own changes — or, on an Automerge space, bound through merge's `Space` (`spaceBinding`),
 * with the same remote cursors and the space's undo.
 */
export function NoteEditor({ session, noteId, readOnly, label, viewRef }: NoteEditorProps) {
  const parent = useRef<HTMLDivElement>(null)
  const labelRef = useRef(label)
  labelRef.current = label
  const view = useRef<EditorView | null>(null)
  const labelling = useRef(new Compartment())

  useEffect(() => {
    const engine = session.space.engine
    if (!parent.current) return
    // Yjs: y-codemirror.next on the note's Y.Text; any other engine (Automerge): through the space (WEB-NOTE-5)
    const ytext = engine instanceof YjsEngine ? engine.ytext(noteId) : null
    const undoManager = ytext ? new Y.UndoManager(ytext) : null
    const binding = ytext
      ? [
          keymap.of([...checklistKeymap, ...yUndoManagerKeymap, ...defaultKeymap]),
          yCollab(ytext, remoteCursorAwareness(session, ytext), { undoManager: undoManager! }),
        ]
      : [spaceBinding(session, noteId), keymap.of([...checklistKeymap, ...defaultKeymap])]
    const editor = new EditorView({
      parent: parent.current,
      state: EditorState.create({
        doc: ytext ? ytext.toJSON() : (session.space.note(noteId)?.body ?? ''),
        extensions: [
          EditorView.lineWrapping,
          placeholder(readOnly ? 'This note is empty.' : 'Write here…'),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          labelling.current.of(
            EditorView.contentAttributes.of({ 'aria-label': labelRef.current, 'data-testid': 'note-body' }),
          ),
          theme,
          checklist(),
          sizeGuard(session),
          binding,
        ],
      }),
    })
    view.current = editor
    if (viewRef) viewRef.current = editor
    return () => {
      view.current = null
      if (viewRef?.current === editor) viewRef.current = null
      editor.destroy()
      undoManager?.destroy()
    }
  }, [session, noteId, readOnly, viewRef])

  // a renamed note renames its editor for screen readers too
  useEffect(() => {
    view.current?.dispatch({
      effects: labelling.current.reconfigure(
        EditorView.contentAttributes.of({ 'aria-label': label, 'data-testid': 'note-body' }),
      ),
    })
  }, [label])

  return <div ref={parent} className={readOnly ? 'editor read-only' : 'editor'} />
}
