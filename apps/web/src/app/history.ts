/**
 * Version history in the app (SPEC.md WEB-HISTORY-1…4): how a version is named in the list, and what
 * a restore says it did. Pure: the components render what these return.
 */
import type { CartItem, Note, RestoreSummary } from '@converge/merge'
import type { VersionInfo } from '@converge/sync-client'

const when = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
})

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/** "Tuesday 1 Dec, 18:04 — Sam, Alex, 12 changes" */
export function versionLabel(v: Pick<VersionInfo, 'at' | 'authors' | 'changes'>): string {
  const who = v.authors.filter((a) => a.trim() !== '').slice(0, 3)
  const more = v.authors.length > 3 ? ` and ${v.authors.length - 3} more` : ''
  const people = who.length > 0 ? `${who.join(', ')}${more}, ` : ''
  return `${when.format(new Date(v.at))} — ${people}${plural(v.changes, 'change', 'changes')}`
}

/** "Restored Tuesday 1 Dec, 18:04: 2 lines back, 1 removed, 1 note." — or that nothing differed. */
export function restoredText(v: Pick<VersionInfo, 'at'>, s: RestoreSummary): string {
  const parts = [
    s.added > 0 ? `${plural(s.added, 'line', 'lines')} back` : '',
    s.removed > 0 ? `${s.removed} removed` : '',
    s.changed > 0 ? `${s.changed} changed` : '',
    s.notes > 0 ? plural(s.notes, 'note', 'notes') : '',
    s.space > 0 ? 'the name or currency' : '',
  ].filter((p) => p !== '')
  const at = when.format(new Date(v.at))
  return parts.length === 0
    ? `The space already looks like ${at}: nothing to restore.`
    : `Restored ${at}: ${parts.join(', ')}.`
}

/** The parts of a cart line and a note a version preview compares (merge's CartItem, Note). */
type Line = Pick<
  CartItem,
  'key' | 'name' | 'quantity' | 'checked' | 'note' | 'unit' | 'priceCents' | 'category'
>
type NoteLine = Pick<Note, 'id' | 'title' | 'body'>

/** WEB-HISTORY-4: what restoring a version would do, against what this device shows now. */
export interface VersionDiff {
  /** A version's line (by key) that restoring changes, and how it is now: "comes back", "now ×3". */
  readonly lines: ReadonlyMap<string, string>
  /** The names of the lines on the list now that the version lacks: restoring takes them off. */
  readonly off: readonly string[]
  /** A version's note (by id) that restoring changes: "comes back", "edited since". */
  readonly notes: ReadonlyMap<string, string>
  /** The titles of the notes there now that the version lacks: restoring puts them in the trash. */
  readonly toTrash: readonly string[]
  /** One sentence for the top of the preview. */
  readonly summary: string
}

/**
 * Compares a version's list and notes with the space's as this device shows them, line by line as
 * merge's restore matches them (a line by its key, a note by its id; RESTORE-1). Order is not
 * compared: a restore puts lines back in the version's order, which the preview shows anyway.
 */
export function versionDiff(
  now: { readonly items: readonly Line[]; readonly notes: readonly NoteLine[] },
  then: { readonly items: readonly Line[]; readonly notes: readonly NoteLine[] },
): VersionDiff {
  const lines = new Map<string, string>()
  const current = new Map(now.items.map((i) => [i.key, i]))
  for (const v of then.items) {
    const h = current.get(v.key)
    if (!h) lines.set(v.key, 'comes back')
    else if (h.quantity !== v.quantity) lines.set(v.key, `now ×${h.quantity}`)
    else if (h.checked !== v.checked) lines.set(v.key, h.checked ? 'ticked now' : 'not ticked now')
    else if (
      h.note !== v.note ||
      h.unit !== v.unit ||
      h.priceCents !== v.priceCents ||
      h.category !== v.category
    )
      lines.set(v.key, 'details differ now')
  }
  const kept = new Set(then.items.map((i) => i.key))
  const off = now.items.filter((i) => !kept.has(i.key)).map((i) => i.name)

  const notes = new Map<string, string>()
  const liveNow = new Map(now.notes.map((n) => [n.id, n]))
  for (const v of then.notes) {
    const h = liveNow.get(v.id)
    if (!h) notes.set(v.id, 'comes back')
    else if (h.title !== v.title || h.body !== v.body) notes.set(v.id, 'edited since')
  }
  const liveThen = new Set(then.notes.map((n) => n.id))
  const toTrash = now.notes.filter((n) => !liveThen.has(n.id)).map((n) => n.title || 'Untitled note')

  const back = [...lines.values()].filter((m) => m === 'comes back').length
  const changed = lines.size - back
  const notesBack = [...notes.values()].filter((m) => m === 'comes back').length
  const edited = notes.size - notesBack
  const parts = [
    back > 0 ? `${plural(back, 'line comes', 'lines come')} back` : '',
    off.length > 0 ? `${plural(off.length, 'line comes', 'lines come')} off the list` : '',
    changed > 0 ? plural(changed, 'line changes', 'lines change') : '',
    notesBack > 0 ? `${plural(notesBack, 'note comes', 'notes come')} back` : '',
    edited > 0 ? plural(edited, 'note changes', 'notes change') : '',
    toTrash.length > 0 ? `${plural(toTrash.length, 'note goes', 'notes go')} to the trash` : '',
  ].filter((p) => p !== '')
  const summary =
    parts.length === 0
      ? 'The list and notes look like this now.'
      : `Restoring this version: ${parts.join(', ')}.`
  return { lines, off, notes, toTrash, summary }
}
