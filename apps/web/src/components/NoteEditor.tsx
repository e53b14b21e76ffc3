import { defaultKeymap } from '@codemirror/commands'
import { Compartment, EditorState } from '@codemirror/state'
import { EditorView, keymap, placeholder } from '@codemirror/view'
import { YjsEngine } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { useEffect, useRef } from 'react'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'

interface NoteEditorProps {
  readonly session: SpaceSession
  readonly noteId: string
  readonly readOnly: boolean
  readonly label: string
}

const theme = EditorView.theme({
  '&': { fontSize: '1rem' },
  '.cm-scroller': { fontFamily: 'var(--font)' },
  '.cm-content': { fontFamily: 'inherit', padding: '12px 0', minHeight: '10rem', caretColor: 'var(--text)' },
  '.cm-line': { padding: '0 14px', lineHeight: '1.6' },
  '&.cm-focused': { outline: 'none' },
  '.cm-placeholder': { color: 'var(--muted)' },
})

/**
 * The note body: CodeMirror 6 bound to the note's Y.Text by y-codemirror.next, with remote cursors
 * from awareness and an undo manager that only touches this editor's own changes.
 */
export function NoteEditor({ session, noteId, readOnly, label }: NoteEditorProps) {
  const parent = useRef<HTMLDivElement>(null)
  const labelRef = useRef(label)
  labelRef.current = label
  const view = useRef<EditorView | null>(null)
  const labelling = useRef(new Compartment())

  useEffect(() => {
    const engine = session.space.engine
    if (!parent.current || !(engine instanceof YjsEngine)) return
    const ytext = engine.ytext(noteId)
    const undoManager = new Y.UndoManager(ytext)
    const editor = new EditorView({
      parent: parent.current,
      state: EditorState.create({
        doc: ytext.toJSON(),
        extensions: [
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          EditorView.lineWrapping,
          placeholder(readOnly ? 'This note is empty.' : 'Write here…'),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          labelling.current.of(
            EditorView.contentAttributes.of({ 'aria-label': labelRef.current, 'data-testid': 'note-body' }),
          ),
          theme,
          yCollab(ytext, session.awareness, { undoManager }),
        ],
      }),
    })
    view.current = editor
    return () => {
      view.current = null
      editor.destroy()
      undoManager.destroy()
    }
  }, [session, noteId, readOnly])

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
