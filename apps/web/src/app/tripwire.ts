/**
 * A render failure on demand, for the end-to-end tests of the error boundaries: only a
 * `VITE_TEST_HOOKS=1` build renders a Tripwire (inside every ErrorBoundary) and exposes
 * `window.__converge.breakRender(name, on)`. Once the app reads every document value tolerantly
 * (safe.ts), no data makes a part throw any more, so the tests need this to see a boundary at work.
 */
import { useSyncExternalStore } from 'react'

const broken = new Set<string>()
const listeners = new Set<() => void>()

const subscribe = (fn: () => void): (() => void) => {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** Makes the part behind the boundary `name` throw on every render (`on`), or stop throwing. */
export function breakRender(name: string, on = true): void {
  if (on) broken.add(name)
  else broken.delete(name)
  for (const l of listeners) l()
}

/** Throws while its boundary's part is broken; renders nothing otherwise. */
export function Tripwire({ name }: { readonly name: string }): null {
  const isBroken = useSyncExternalStore(subscribe, () => broken.has(name))
  if (isBroken) throw new Error(`test: the ${name} part was broken on purpose`)
  return null
}
