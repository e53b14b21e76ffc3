import type { Presence } from '@converge/sync-client'
import { MAX_NAME, safeText } from './safe.js'

/**
 * Who else is here, by name — only when that is exactly one person (their tabs and devices count
 * once, and this person's other tabs not at all); otherwise null: nobody is guessed.
 */
export function onlyOtherPerson(presence: readonly Presence[]): string | null {
  const me = presence.find((p) => p.self)?.personId ?? null
  const others = new Map<string, string>()
  for (const p of presence) {
    if (p.self || (me !== null && p.personId === me)) continue
    others.set(p.personId ?? `client:${p.clientId}`, p.name)
  }
  if (others.size !== 1) return null
  const [name] = others.values()
  return safeText(name, MAX_NAME).trim() || null
}
