/**
 * Checklists in a note's text: a line that starts (after any indentation) with `- [ ]`, `* [ ]`,
 * `- [x]` or `- [X]`, followed by a space or the end of the line. Pure functions over plain text, used
 * by the editor's checkboxes and by the notes list's "2/5 done".
 */

/** A checklist line, with offsets relative to the start of the text it was parsed from. */
export interface ChecklistLine {
  /** Where the marker starts (the `-` or `*`, after the indentation). */
  readonly markerFrom: number
  /** Just after the closing `]`. */
  readonly markerTo: number
  /** The one character between the brackets: what a toggle replaces. */
  readonly box: number
  readonly checked: boolean
  /** The line's words after the marker, trimmed. */
  readonly text: string
}

const LINE = /^([ \t]*)([-*]) \[([ xX])\](?= |$)/

/** The checklist marker of one line of text (no newline in it), or null; offsets from the line's start. */
export function parseChecklistLine(line: string): ChecklistLine | null {
  const m = LINE.exec(line)
  if (!m) return null
  const indent = (m[1] ?? '').length
  const markerTo = m[0].length
  return {
    markerFrom: indent,
    markerTo,
    box: indent + 3,
    checked: m[3] !== ' ',
    text: line.slice(markerTo).trim(),
  }
}

/** Every checklist line of a text, offsets from the start of the text. */
export function checklistLines(text: string): ChecklistLine[] {
  const out: ChecklistLine[] = []
  let start = 0
  for (;;) {
    const end = text.indexOf('\n', start)
    const line = end < 0 ? text.slice(start) : text.slice(start, end)
    const found = parseChecklistLine(line)
    if (found)
      out.push({
        ...found,
        markerFrom: start + found.markerFrom,
        markerTo: start + found.markerTo,
        box: start + found.box,
      })
    if (end < 0) return out
    start = end + 1
  }
}

/** How many checklist lines a text has and how many are checked. */
export function checklistProgress(text: unknown): { readonly done: number; readonly total: number } {
  if (typeof text !== 'string') return { done: 0, total: 0 }
  const lines = checklistLines(text)
  return { done: lines.filter((l) => l.checked).length, total: lines.length }
}

/** The character that goes between the brackets when a box is toggled. */
export const toggledBox = (checked: boolean): string => (checked ? ' ' : 'x')

/**
 * What turns a line into a checklist line: the text to insert and where (from the line's start), or
 * null when it is one already. A plain list item (`- milk`) gets only the box.
 */
export function startChecklist(line: string): { readonly at: number; readonly insert: string } | null {
  if (parseChecklistLine(line)) return null
  const bullet = /^([ \t]*)[-*] /.exec(line)
  if (bullet) return { at: bullet[0].length, insert: '[ ] ' }
  const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0
  return { at: indent, insert: '- [ ] ' }
}

/** A line as a list shows it: a checklist marker becomes ☐ or ☑ (other lines unchanged). */
export function displayLine(line: string): string {
  const found = parseChecklistLine(line)
  if (!found) return line
  return `${line.slice(0, found.markerFrom)}${found.checked ? '☑' : '☐'} ${found.text}`
}
