/**
 * A note body bound to merge's `Space` API (WEB-NOTE-5): what the editor uses on a space whose engine
 * has no CodeMirror binding of its own (Automerge). Yjs spaces keep y-codemirror.next.
 *
 * - Edits made in the editor become `space.editNote` calls, one change event per transaction, last
 *   change first so the earlier positions stay right.
 * - A change to the space from anywhere else (another device, another tab, undo) is read as the
 *   difference between the body and the editor's text — one replaced range, found from both ends —
 *   and dispatched without a user event (so the size guard lets it through); the selection maps over
 *   it as over any change.
 * - This tab's cursor goes into presence as the engine's anchors (`{ anchor, head }`, Automerge cursor
 *   strings, which the server checks: server-core PRESENCE-4); the people `session.presence()` vouches
 *   for get a caret and a selection, in their colour, wherever their anchors resolve in this note.
 * - Undo and redo are the space's (merge UNDO-1…3: only this person's own changes), a run of typing
 *   at a time: editor transactions less than `TYPING_RUN_MS` apart are one step, as y-codemirror's
 *   undo manager groups them on Yjs.
 */
import { type Extension, RangeSetBuilder, StateEffect, StateField, Transaction } from '@codemirror/state'
import { Decoration, type DecorationSet, EditorView, ViewPlugin, WidgetType } from '@codemirror/view'
import type { TextAnchor } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { isHexColor } from '../../services/sessions.js'
import { lightColor } from '../../services/profile.js'

/** Editor transactions closer together than this are one undo step. */
export const TYPING_RUN_MS = 500

/** Transactions this binding dispatches: the space's own changes, never written back to it. */
const fromSpace = Transaction.remote

/** The one range `[from, to)` of `before` that became `insert` in `after` (found from both ends). */
export function replacedRange(
  before: string,
  after: string,
): { from: number; to: number; insert: string } | null {
  if (before === after) return null
  let start = 0
  const max = Math.min(before.length, after.length)
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++
  let end = 0
  while (
    end < max - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  )
    end++
  // never split a surrogate pair: widen to the whole character
  const isLow = (s: string, i: number): boolean =>
    i > 0 && i < s.length && (s.charCodeAt(i) & 0xfc00) === 0xdc00
  while (start > 0 && (isLow(before, start) || isLow(after, start))) start--
  while (end > 0 && (isLow(before, before.length - end) || isLow(after, after.length - end))) end--
  return { from: start, to: before.length - end, insert: after.slice(start, after.length - end) }
}

interface RemoteCursor {
  readonly clientId: number
  readonly name: string
  readonly color: string
  readonly anchor: number
  readonly head: number
}

const setCursors = StateEffect.define<readonly RemoteCursor[]>()

class Caret extends WidgetType {
  constructor(
    readonly name: string,
    readonly color: string,
  ) {
    super()
  }
  override eq(other: Caret): boolean {
    return other.name === this.name && other.color === this.color
  }
  toDOM(): HTMLElement {
    const caret = document.createElement('span')
    caret.className = 'cm-remote-caret'
    caret.setAttribute('aria-hidden', 'true') // others' names are in the presence list, not the text
    caret.style.borderLeftColor = this.color // a checked #rrggbb (isHexColor)
    const label = document.createElement('span')
    label.className = 'cm-remote-caret-name'
    label.style.backgroundColor = this.color
    label.textContent = this.name
    caret.append(label)
    return caret
  }
}

const cursorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(decorations, tr) {
    for (const e of tr.effects)
      if (e.is(setCursors)) {
        const length = tr.state.doc.length
        const ranges: { from: number; to: number; deco: Decoration }[] = []
        for (const c of e.value) {
          const head = Math.min(c.head, length)
          const anchor = Math.min(c.anchor, length)
          const [from, to] = anchor < head ? [anchor, head] : [head, anchor]
          if (from < to)
            ranges.push({
              from,
              to,
              deco: Decoration.mark({ attributes: { style: `background-color: ${lightColor(c.color)}` } }),
            })
          ranges.push({
            from: head,
            to: head,
            deco: Decoration.widget({ widget: new Caret(c.name, c.color), side: 1 }),
          })
        }
        ranges.sort((a, b) => a.from - b.from || a.to - b.to)
        const builder = new RangeSetBuilder<Decoration>()
        for (const r of ranges) builder.add(r.from, r.to, r.deco)
        return builder.finish()
      }
    return decorations.map(tr.changes)
  },
  provide: (f) => EditorView.decorations.from(f),
})

const cursorTheme = EditorView.baseTheme({
  '.cm-remote-caret': {
    position: 'relative',
    borderLeft: '2px solid',
    marginLeft: '-1px',
    marginRight: '-1px',
  },
  '.cm-remote-caret-name': {
    position: 'absolute',
    top: '-1.3em',
    left: '-2px',
    fontSize: '0.75em',
    color: '#fff',
    padding: '0 4px',
    borderRadius: '3px',
    whiteSpace: 'nowrap',
    pointerEvents: 'none',
  },
})

const anchorValue = (a: TextAnchor): unknown => a.value

/** The binding of one note's body to the space of `session`. */
export function spaceBinding(session: SpaceSession, noteId: string): Extension {
  const { space, awareness } = session
  const engine = space.engine
  /** How many of the space's undo steps each run of typing took, newest last; the same for redo. */
  const undoRuns: number[] = []
  const redoRuns: number[] = []
  let lastEdit = -Infinity
  const plugin = ViewPlugin.define((view) => {
    const body = (): string => space.note(noteId)?.body ?? ''
    /** The editor's text differs from the body: the space changed elsewhere; bring the editor along. */
    const follow = (): void => {
      const r = replacedRange(view.state.doc.toString(), body())
      if (r) view.dispatch({ changes: r, annotations: fromSpace.of(true) })
    }
    const showCursors = (): void => {
      const people = new Map(session.presence().map((p) => [p.clientId, p]))
      const cursors: RemoteCursor[] = []
      for (const [clientId, state] of awareness.getStates()) {
        const person = people.get(clientId)
        if (clientId === awareness.clientID || !person || !isHexColor(person.color)) continue
        const cursor = (state as { cursor?: { anchor?: unknown; head?: unknown } | null }).cursor
        if (!cursor) continue
        const at = (value: unknown): number | null =>
          engine.resolve(noteId, { engine: engine.kind, value }, 'start')
        const anchor = at(cursor.anchor)
        const head = at(cursor.head)
        if (anchor === null || head === null) continue
        cursors.push({ clientId, name: person.name, color: person.color, anchor, head })
      }
      view.dispatch({ effects: setCursors.of(cursors) })
    }
    // the space and presence change while the editor updates too (its own edit, its own cursor): the
    // editor follows once that update is over, in one step however many changes came meanwhile
    let scheduled = false
    let writing = false
    let destroyed = false
    const refresh = (): void => {
      if (scheduled) return
      scheduled = true
      queueMicrotask(() => {
        scheduled = false
        if (destroyed) return
        follow()
        showCursors()
      })
    }
    const stopSpace = space.subscribe(() => {
      if (!writing) refresh()
    })
    awareness.on('change', refresh)
    refresh()
    let lastCursor = ''
    return {
      update(u) {
        const local = u.transactions.some((tr) => tr.docChanged && !tr.annotation(fromSpace))
        if (local) {
          const edits: { from: number; to: number; insert: string }[] = []
          u.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) =>
            edits.push({ from: fromA, to: toA, insert: inserted.toString() }),
          )
          writing = true
          try {
            space.transact(() => {
              for (const e of edits.reverse()) space.editNote(noteId, e.from, e.to - e.from, e.insert)
            })
            const now = Date.now()
            if (now - lastEdit < TYPING_RUN_MS && undoRuns.length > 0) undoRuns[undoRuns.length - 1]! += 1
            else undoRuns.push(1)
            lastEdit = now
            redoRuns.length = 0
          } catch {
            // refused (read-only, or the space is full): the editor goes back to what the space holds
          } finally {
            writing = false
          }
          refresh()
        }
        if ((u.selectionSet || local) && u.view.hasFocus) {
          const { anchor, head } = u.state.selection.main
          const cursor = {
            anchor: anchorValue(engine.anchor(noteId, anchor)),
            head: anchorValue(engine.anchor(noteId, head)),
          }
          const key = JSON.stringify(cursor)
          if (key !== lastCursor) {
            lastCursor = key
            awareness.setLocalStateField('cursor', cursor)
          }
        }
      },
      destroy() {
        destroyed = true
        stopSpace()
        awareness.off('change', refresh)
        if (lastCursor !== '') awareness.setLocalStateField('cursor', null)
      },
    }
  })
  const replay = (from: number[], to: number[], step: () => boolean): boolean => {
    const steps = from.pop() ?? 1
    let done = 0
    while (done < steps && step()) done++
    if (done > 0) to.push(done)
    lastEdit = -Infinity // the next keystroke starts a run of its own
    return true
  }
  const undo = (): boolean => replay(undoRuns, redoRuns, () => space.undo())
  const redo = (): boolean => replay(redoRuns, undoRuns, () => space.redo())
  return [
    plugin,
    cursorField,
    cursorTheme,
    // Ctrl/⌘+Z undo, Ctrl/⌘+Shift+Z or Ctrl+Y redo: read from the event itself (a keymap of Mod-z
    // also matches the shifted key)
    EditorView.domEventHandlers({
      keydown(e, view) {
        if (!(e.ctrlKey || e.metaKey) || e.altKey || !view.state.facet(EditorView.editable)) return false
        const key = e.key.toLowerCase()
        const isRedo = (key === 'z' && e.shiftKey) || (key === 'y' && e.ctrlKey && !e.shiftKey)
        const isUndo = key === 'z' && !e.shiftKey
        if (!isUndo && !isRedo) return false
        e.preventDefault()
        if (isRedo) redo()
        else undo()
        return true
      },
    }),
  ]
}
