/**
 * Search across a space's cart items and notes: case- and accent-insensitive (NFD, marks stripped),
 * every word of the query must appear somewhere in what is searched. Pure: no DOM, no React.
 */

/** The form text is compared in: decomposed, without combining marks, lower case. */
export const fold = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

/** The words of a query, folded; empty for a blank query. */
export const queryWords = (query: string): string[] => fold(query).split(/\s+/).filter(Boolean)

export interface SearchableItem {
  readonly key: string
  readonly name: string
  readonly note: string
  readonly category: string
}

export interface SearchableNote {
  readonly id: string
  readonly title: string
  readonly body: string
}

export type SearchResult =
  | { readonly kind: 'item'; readonly key: string; readonly label: string; readonly detail: string }
  | { readonly kind: 'note'; readonly id: string; readonly label: string; readonly detail: string }

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

const matchesAll = (words: readonly string[], haystack: string): boolean => {
  const folded = fold(haystack)
  return words.every((w) => folded.includes(w))
}

/**
 * Where the first word of the query appears in a body, as a short excerpt on one line (or the body's
 * start when it appears only in the title). NFD folding can change lengths, so the position is found
 * line by line in the original text.
 */
export function excerpt(body: string, words: readonly string[], max = 80): string {
  const lines = body.split('\n')
  const first = words[0]
  const line =
    (first !== undefined && lines.find((l) => fold(l).includes(first))) || lines.find((l) => l.trim()) || ''
  const text = line.trim()
  if (text.length <= max) return text
  if (first === undefined) return `${text.slice(0, max - 1)}…`
  // the folded index is close to the original's for most text: centre the excerpt on it
  const at = Math.max(0, fold(text).indexOf(first))
  const from = Math.max(0, Math.min(at - Math.floor(max / 3), text.length - max))
  return `${from > 0 ? '…' : ''}${text.slice(from, from + max)}${from + max < text.length ? '…' : ''}`
}

/** The items and notes a query finds: items first (in cart order), then notes (in list order). */
export function search(
  query: string,
  items: readonly SearchableItem[],
  notes: readonly SearchableNote[],
  limit = 50,
): SearchResult[] {
  const words = queryWords(query)
  if (words.length === 0) return []
  const out: SearchResult[] = []
  for (const item of items) {
    const name = str(item.name)
    const note = str(item.note)
    const category = str(item.category)
    if (!matchesAll(words, `${name}\n${note}\n${category}`)) continue
    out.push({
      kind: 'item',
      key: item.key,
      label: name,
      detail: [note, category].filter(Boolean).join(' · '),
    })
  }
  for (const n of notes) {
    const title = str(n.title)
    const body = str(n.body)
    if (!matchesAll(words, `${title}\n${body}`)) continue
    out.push({ kind: 'note', id: n.id, label: title.trim(), detail: excerpt(body, words) })
  }
  return out.slice(0, limit)
}
