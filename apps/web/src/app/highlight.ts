/**
 * A brief highlight of what someone else just changed: the cart row (`li[data-key]`) or the note in
 * the list (`[data-note-id]`) fades from the accent's soft colour back to its own, through the Web
 * Animations API — no React state, nothing re-rendered. Nothing moves or flashes when the person asks
 * for reduced motion: the live region says what changed instead.
 */
import type { ChangeTarget } from './announce.js'

const DURATION_MS = 1_200

const reducedMotion = (): boolean =>
  typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches

/** The element a change points at, under `root` (the space screen), or null. */
export function targetElement(root: ParentNode, target: ChangeTarget): HTMLElement | null {
  const selector =
    target.kind === 'item'
      ? `li[data-key="${CSS.escape(target.key)}"]`
      : `[data-note-id="${CSS.escape(target.id)}"]`
  return root.querySelector<HTMLElement>(selector)
}

/** Highlights each target that is on screen; returns how many were. */
export function highlight(root: ParentNode, targets: readonly ChangeTarget[]): number {
  if (reducedMotion()) return 0
  let shown = 0
  const seen = new Set<HTMLElement>()
  for (const t of targets) {
    const el = targetElement(root, t)
    if (!el || seen.has(el) || typeof el.animate !== 'function') continue
    seen.add(el)
    const soft = getComputedStyle(el).getPropertyValue('--primary-soft').trim() || 'rgb(99 102 241 / 18%)'
    el.animate([{ backgroundColor: soft }, { backgroundColor: soft, offset: 0.3 }, {}], {
      duration: DURATION_MS,
      easing: 'ease-out',
    })
    shown++
  }
  return shown
}
