import { type EditorState, type Extension, RangeSetBuilder } from '@codemirror/state'
import {
  Decoration,
  type DecorationSet,
  EditorView,
  type KeyBinding,
  ViewPlugin,
  type ViewUpdate,
  WidgetType,
} from '@codemirror/view'
import { parseChecklistLine, startChecklist, toggledBox } from '../../app/notes-checklist.js'

/**
 * Toggles the checklist line at `pos` (any position on that line): replaces exactly the one
 * character between its brackets, through the editor — a transaction y-codemirror.next writes to the
 * note's Y.Text, so it merges like typing and the editor's undo takes it back. False: not a checklist
 * line, or the editor is read-only.
 */
export function toggleChecklistAt(view: EditorView, pos: number): boolean {
  if (view.state.readOnly) return false
  const line = view.state.doc.lineAt(pos)
  const found = parseChecklistLine(line.text)
  if (!found) return false
  const at = line.from + found.box
  view.dispatch({
    changes: { from: at, to: at + 1, insert: toggledBox(found.checked) },
    userEvent: 'input.toggle',
  })
  return true
}

/** Makes the line with the cursor a checklist line ("- [ ] " at its start); the cursor stays in its text. */
export function startChecklistHere(view: EditorView): boolean {
  if (view.state.readOnly) return false
  const { head } = view.state.selection.main
  const line = view.state.doc.lineAt(head)
  const start = startChecklist(line.text)
  if (start) {
    const at = line.from + start.at
    view.dispatch({
      changes: { from: at, insert: start.insert },
      selection: { anchor: head >= at ? head + start.insert.length : at + start.insert.length },
      userEvent: 'input',
      scrollIntoView: true,
    })
  }
  view.focus()
  return true
}

class CheckboxWidget extends WidgetType {
  constructor(
    readonly checked: boolean,
    readonly text: string,
    readonly readOnly: boolean,
  ) {
    super()
  }

  override eq(other: CheckboxWidget): boolean {
    return other.checked === this.checked && other.text === this.text && other.readOnly === this.readOnly
  }

  override toDOM(view: EditorView): HTMLElement {
    const wrap = document.createElement('span')
    wrap.className = 'cm-task-box'
    const box = document.createElement('input')
    box.type = 'checkbox'
    box.checked = this.checked
    box.disabled = this.readOnly
    // in the text's flow, not the Tab order: Ctrl+Enter toggles the line with the cursor
    box.tabIndex = -1
    box.setAttribute('aria-label', this.text || 'Checklist line')
    box.setAttribute('data-testid', 'note-checkbox')
    // the editor keeps its focus and selection; the click itself toggles through the editor
    box.addEventListener('mousedown', (e) => e.preventDefault())
    box.addEventListener('click', (e) => {
      e.preventDefault()
      toggleChecklistAt(view, view.posAtDOM(wrap))
    })
    wrap.appendChild(box)
    return wrap
  }

  override ignoreEvent(): boolean {
    return true
  }
}

const doneLine = Decoration.line({ class: 'cm-task-done' })
const taskLine = Decoration.line({ class: 'cm-task' })

function build(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>()
  const readOnly = view.state.readOnly
  const doc = view.state.doc
  for (const { from, to } of view.visibleRanges) {
    let pos = from
    while (pos <= to) {
      const line = doc.lineAt(pos)
      const found = parseChecklistLine(line.text)
      if (found) {
        builder.add(line.from, line.from, found.checked ? doneLine : taskLine)
        // the box stands for the marker and the one space after it
        const end = found.markerTo + (line.text[found.markerTo] === ' ' ? 1 : 0)
        builder.add(
          line.from + found.markerFrom,
          line.from + end,
          Decoration.replace({ widget: new CheckboxWidget(found.checked, found.text, readOnly) }),
        )
      }
      pos = line.to + 1
    }
  }
  return builder.finish()
}

const checkboxes = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet
    constructor(view: EditorView) {
      this.decorations = build(view)
    }
    update(u: ViewUpdate): void {
      if (u.docChanged || u.viewportChanged || u.state.readOnly !== u.startState.readOnly)
        this.decorations = build(u.view)
    }
  },
  {
    decorations: (p) => p.decorations,
    // the cursor steps over a box as over one character, and Backspace takes the whole marker
    provide: (p) => EditorView.atomicRanges.of((view) => view.plugin(p)?.decorations ?? Decoration.none),
  },
)

/** Mod-Enter on a checklist line toggles it (elsewhere the default: a new line below). */
export const checklistKeymap: readonly KeyBinding[] = [
  { key: 'Mod-Enter', run: (view) => toggleChecklistAt(view, view.state.selection.main.head) },
]

const checklistTheme = EditorView.baseTheme({
  '.cm-task-box': { display: 'inline-block', verticalAlign: 'baseline', marginRight: '0.4em' },
  '.cm-task-box input': {
    width: '1.05em',
    height: '1.05em',
    margin: '0',
    verticalAlign: '-0.15em',
    accentColor: 'var(--primary)',
    cursor: 'pointer',
  },
  '.cm-task-box input:disabled': { cursor: 'default' },
  '.cm-task-done': { textDecoration: 'line-through', color: 'var(--muted)' },
})

/** Checklist lines shown as checkboxes (see notes-checklist.ts for what counts as one). */
export const checklist = (): Extension => [checkboxes, checklistTheme]

/** Whether the line with the cursor is a checklist line (for the toolbar's state). */
export const onChecklistLine = (state: EditorState): boolean =>
  parseChecklistLine(state.doc.lineAt(state.selection.main.head).text) !== null
