/**
 * What a screen reader hears when someone else changes the space: the difference between two views of
 * it as short sentences ("Milk added", "Bread checked off by Sam", "Note “Plan” moved to the trash"),
 * and a throttle so that a burst of changes is one calm announcement ("3 changes from others"), at most
 * one every two seconds. Pure: no DOM, no React; values go through safe.ts (BAD-4).
 */
import type { CartItem, Note } from '@converge/merge'
import { MAX_NAME, MAX_TITLE, safeText } from './safe.js'
import { shownName } from './shopping.js'

/** The part of a space's view the announcements compare. */
export interface AnnounceView {
  readonly items: readonly CartItem[]
  readonly notes: readonly Note[]
  readonly trash: readonly Note[]
}

export type ChangeTarget =
  { readonly kind: 'item'; readonly key: string } | { readonly kind: 'note'; readonly id: string }

export interface RemoteChange {
  /** One short sentence, e.g. "Milk added". */
  readonly text: string
  /** What changed, to highlight it (nothing for something that is gone). */
  readonly target: ChangeTarget | null
}

const noteTitle = (n: Note): string => safeText(n.title, MAX_TITLE).trim() || 'Untitled note'
const quantity = (q: unknown): string => (typeof q === 'number' && Number.isFinite(q) ? String(q) : '?')

/** The changes from `before` to `after`, cart lines first (in the list's order), then notes. */
export function describeChanges(before: AnnounceView, after: AnnounceView): RemoteChange[] {
  const out: RemoteChange[] = []
  const oldItems = new Map(before.items.map((i) => [i.key, i]))
  const newKeys = new Set(after.items.map((i) => i.key))
  for (const item of after.items) {
    const name = shownName(item)
    const target: ChangeTarget = { kind: 'item', key: item.key }
    const old = oldItems.get(item.key)
    if (!old) {
      out.push({ text: `${name} added`, target })
      continue
    }
    const oldName = shownName(old)
    if (oldName !== name) out.push({ text: `${oldName} renamed to ${name}`, target })
    if (!old.checked && item.checked) {
      const by = safeText(item.checkedBy, MAX_NAME).trim()
      out.push({ text: by ? `${name} checked off by ${by}` : `${name} checked off`, target })
    } else if (old.checked && !item.checked) out.push({ text: `${name} unchecked`, target })
    if (old.quantity !== item.quantity)
      out.push({ text: `${name}: quantity ${quantity(item.quantity)}`, target })
  }
  for (const old of before.items)
    if (!newKeys.has(old.key)) out.push({ text: `${shownName(old)} removed`, target: null })

  const oldNotes = new Map(before.notes.map((n) => [n.id, n]))
  const oldTrash = new Set(before.trash.map((n) => n.id))
  for (const note of after.notes) {
    const target: ChangeTarget = { kind: 'note', id: note.id }
    const old = oldNotes.get(note.id)
    if (old) {
      if (noteTitle(old) !== noteTitle(note))
        out.push({ text: `Note “${noteTitle(old)}” renamed to “${noteTitle(note)}”`, target })
    } else if (oldTrash.has(note.id)) out.push({ text: `Note “${noteTitle(note)}” restored`, target })
    else out.push({ text: `Note “${noteTitle(note)}” added`, target })
  }
  for (const note of after.trash)
    if (oldNotes.has(note.id) && !oldTrash.has(note.id))
      out.push({ text: `Note “${noteTitle(note)}” moved to the trash`, target: null })
  return out
}

/** The sentence for a batch: the change itself when alone, else how many. */
export const summarize = (texts: readonly string[]): string | null =>
  texts.length === 0 ? null : texts.length === 1 ? texts[0]! : `${texts.length} changes from others`

export interface ThrottleClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/**
 * At most one announcement per `windowMs`: the first change after a quiet window is said at once;
 * what comes within the window is gathered and said when it ends, as one sentence.
 */
export class AnnounceThrottle {
  private last = -Infinity
  private waiting: string[] = []
  private timer: unknown = null

  constructor(
    private readonly say: (text: string) => void,
    private readonly windowMs = 2_000,
    private readonly clock: ThrottleClock = realClock,
  ) {}

  push(texts: readonly string[]): void {
    if (texts.length === 0) return
    this.waiting.push(...texts)
    if (this.timer !== null) return
    const wait = this.last + this.windowMs - this.clock.now()
    if (wait <= 0) this.flush()
    else this.timer = this.clock.setTimeout(() => this.flush(), wait)
  }

  dispose(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    this.waiting = []
  }

  private flush(): void {
    this.timer = null
    const text = summarize(this.waiting)
    this.waiting = []
    if (text === null) return
    this.last = this.clock.now()
    this.say(text)
  }
}
