/**
 * The space's recent activity, derived from the document's own records — nothing is logged beside
 * them, so every device shows the same list, offline too, and nothing can say more than the space
 * holds: who brought a line back onto the list and when (merge CART-11, `addedBy` / `addedAt`), notes
 * created and moved to the trash (`createdAt`, `trashedAt`). Values go through safe.ts (BAD-4).
 */
import type { CartItem, Note } from '@converge/merge'
import { MAX_NAME, MAX_TITLE, safeText, safeTime } from './safe.js'
import { shownName } from './shopping.js'

export interface ActivityEntry {
  /** unique in the list (for React keys) */
  readonly key: string
  /** who, when the space records it */
  readonly who: string | null
  /** "added Jam", "created the note “Plan”" */
  readonly what: string
  readonly at: number
}

/** Newest first, at most `limit`. */
export function activity(
  items: readonly CartItem[],
  notes: readonly Note[],
  trashed: readonly Note[],
  limit = 20,
): ActivityEntry[] {
  const out: ActivityEntry[] = []
  for (const item of items) {
    const at = safeTime(item.addedAt)
    if (at === null) continue
    const who = safeText(item.addedBy, MAX_NAME) || null
    out.push({ key: `add:${item.key}`, who, what: `added ${shownName(item)}`, at })
  }
  const title = (n: Note): string => `“${safeText(n.title, MAX_TITLE) || 'Untitled'}”`
  for (const n of [...notes, ...trashed]) {
    const created = safeTime(n.createdAt)
    if (created !== null)
      out.push({ key: `note:${n.id}`, who: null, what: `New note ${title(n)}`, at: created })
    const gone = safeTime(n.trashedAt)
    if (n.trashed && gone !== null)
      out.push({ key: `trash:${n.id}`, who: null, what: `Note ${title(n)} moved to the trash`, at: gone })
  }
  return out.sort((a, b) => b.at - a.at || (a.key < b.key ? -1 : 1)).slice(0, limit)
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' })

/** "just now", "2 min ago", "3 hr ago", "yesterday", "5 days ago" — calm, never a negative time. */
export function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 45) return 'just now'
  const min = Math.round(s / 60)
  if (min < 60) return relative.format(-min, 'minute')
  const hr = Math.round(min / 60)
  if (hr < 24) return relative.format(-hr, 'hour')
  return relative.format(-Math.round(hr / 24), 'day')
}
