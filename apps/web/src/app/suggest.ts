/**
 * Suggestions while typing in the cart's add box: items this space had before (removed ones, bought
 * ones) that are not on the "to buy" list now, matched by the start of their name or of a word in it,
 * without regard to case or accents, newest first. Pure: the cart passes `space.itemHistory()`.
 */

/** What a suggestion needs of an item the space had (`ItemRecord` of @converge/merge). */
export interface PastItem {
  readonly key: string
  readonly name: string
  readonly unit: string
  readonly priceCents: number | null
  readonly category: string
  /** when it was last added (ms); anything that is not a finite number counts as long ago */
  readonly addedAt: number | null
}

/** How many suggestions are shown. */
export const MAX_SUGGESTIONS = 6

/** Text for matching: case and accents folded ("Crème" → "creme"), spaces collapsed, trimmed. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim()
}

/** Whether `name` (folded) starts with `query` (folded), or one of its words does. */
export function matches(name: string, query: string): boolean {
  if (query === '') return false
  if (name.startsWith(query)) return true
  const words = name.split(/[\s\-/,.;:()&+]+/)
  return words.some((w) => w.startsWith(query))
}

const time = (t: unknown): number => (typeof t === 'number' && Number.isFinite(t) ? t : -Infinity)

/**
 * Up to `limit` past items matching `query`, leaving out the keys in `exclude` (the lines to buy now):
 * the most recently added first, then by name. One per key (the newest record of it).
 */
export function suggest<T extends PastItem>(
  history: readonly T[],
  query: string,
  exclude: ReadonlySet<string>,
  limit: number = MAX_SUGGESTIONS,
): T[] {
  const q = fold(query)
  if (q === '' || limit <= 0) return []
  const best = new Map<string, T>()
  for (const item of history) {
    if (typeof item.name !== 'string' || exclude.has(item.key)) continue
    if (!matches(fold(item.name), q)) continue
    const seen = best.get(item.key)
    if (!seen || time(item.addedAt) > time(seen.addedAt)) best.set(item.key, item)
  }
  return [...best.values()]
    .sort((a, b) => time(b.addedAt) - time(a.addedAt) || a.name.localeCompare(b.name))
    .slice(0, limit)
}

/** The categories in use (of the lines now and before), once each as first spelled, sorted. */
export function categories(lists: readonly (readonly { readonly category: unknown }[])[]): string[] {
  const seen = new Map<string, string>()
  for (const list of lists)
    for (const { category } of list) {
      if (typeof category !== 'string') continue
      const shown = category.replace(/\s+/g, ' ').trim().slice(0, 200)
      const id = fold(shown)
      if (id !== '' && !seen.has(id)) seen.set(id, shown)
    }
  return [...seen.values()].sort((a, b) => a.localeCompare(b))
}
