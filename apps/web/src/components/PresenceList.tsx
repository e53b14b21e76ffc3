import type { Presence } from '@converge/sync-client'
import { initials } from '../services/profile.js'
import { isHexColor } from '../services/sessions.js'

/** An avatar whose colour is not `#rrggbb` (sync-client already checks it: PRES-3). */
const NEUTRAL = '#888888'

interface Person {
  readonly key: string
  readonly name: string
  readonly color: string
  readonly self: boolean
}

/** One avatar per person (several tabs of one person count once); you first. */
function people(presence: readonly Presence[]): Person[] {
  const byKey = new Map<string, Person>()
  for (const p of presence) {
    const key = `${p.name}\u0000${p.color}`
    const seen = byKey.get(key)
    if (!seen || (p.self && !seen.self)) byKey.set(key, { key, name: p.name, color: p.color, self: p.self })
  }
  return [...byKey.values()].sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name))
}

export function PresenceList({ presence }: { readonly presence: readonly Presence[] }) {
  const list = people(presence)
  const others = list.filter((p) => !p.self).length
  return (
    <div className="presence" data-testid="presence">
      <ul
        className="avatars"
        aria-label={`Here now: ${list.length} ${list.length === 1 ? 'person' : 'people'}`}
      >
        {list.map((p) => (
          <li
            key={p.key}
            className={p.self ? 'avatar-item self' : 'avatar-item'}
            title={p.self ? `${p.name} (you)` : p.name}
            data-testid="presence-person"
          >
            {/* the name as text, the colour as a style property, checked: never CSS text */}
            <span
              className="avatar"
              style={{ background: isHexColor(p.color) ? p.color : NEUTRAL }}
              aria-hidden="true"
            >
              {initials(p.name)}
            </span>
            <span className="visually-hidden">{p.self ? `${p.name} (you)` : p.name}</span>
          </li>
        ))}
      </ul>
      <span className="presence-text" aria-hidden="true">
        {others === 0 ? 'Only you' : `You and ${others} ${others === 1 ? 'other' : 'others'}`}
      </span>
    </div>
  )
}
