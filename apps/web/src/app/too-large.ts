import type { SpaceSession, SpaceTooLarge } from '@converge/sync-client'
import { useCallback, useSyncExternalStore } from 'react'

/**
 * The last paste a space refused for its size (sync-client LARGE-3), per open session: the note
 * editor reports it, the space screen shows it until dismissed or the next refusal.
 */
interface Refusals {
  last: SpaceTooLarge | null
  readonly listeners: Set<() => void>
}

const bySession = new WeakMap<SpaceSession, Refusals>()

const refusalsOf = (session: SpaceSession): Refusals => {
  let r = bySession.get(session)
  if (!r) {
    r = { last: null, listeners: new Set() }
    bySession.set(session, r)
  }
  return r
}

const set = (session: SpaceSession, value: SpaceTooLarge | null): void => {
  const r = refusalsOf(session)
  r.last = value
  for (const l of r.listeners) l()
}

/** A change was refused before it was made: the space could not store it. */
export const reportTooLarge = (session: SpaceSession, refusal: SpaceTooLarge): void => set(session, refusal)

/** The refusal to show (null: none), and the way to dismiss it. */
export function useTooLarge(session: SpaceSession): [SpaceTooLarge | null, () => void] {
  const subscribe = useCallback(
    (fn: () => void) => {
      const r = refusalsOf(session)
      r.listeners.add(fn)
      return () => void r.listeners.delete(fn)
    },
    [session],
  )
  const last = useSyncExternalStore(subscribe, () => refusalsOf(session).last)
  const dismiss = useCallback(() => set(session, null), [session])
  return [last, dismiss]
}
