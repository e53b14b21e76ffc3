/**
 * Version history in the app (SPEC.md WEB-HISTORY-1…3): how a version is named in the list, and what
 * a restore says it did. Pure: the components render what these return.
 */
import type { RestoreSummary } from '@converge/merge'
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
