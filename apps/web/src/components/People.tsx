import type { Space } from '@converge/merge'
import type { Presence } from '@converge/sync-client'
import { useSyncExternalStore } from 'react'
import { ago, activity } from '../app/activity.js'
import { MAX_NAME, safeText, safeTime } from '../app/safe.js'
import { useServices } from '../app/services.js'
import type { SpaceViewState } from '../app/space-view.js'
import { initials } from '../services/profile.js'
import { isHexColor } from '../services/sessions.js'
import './people.css'

/** An avatar whose colour is not `#rrggbb` (sync-client already checks it: PRES-3). */
const NEUTRAL = '#888888'

/** A person's initials on their colour — the colour as a style property, checked: never CSS text. */
export function Avatar({ name, color }: { readonly name: string; readonly color: string }) {
  return (
    <span className="avatar" style={{ background: isHexColor(color) ? color : NEUTRAL }} aria-hidden="true">
      {initials(name)}
    </span>
  )
}

/**
 * The people of the space (merge PEOPLE-1): everyone who has written to it under a name, in their
 * colour there, with "here now" for whoever presence shows (by person id, sync-client PRES-4) and
 * when the others were last seen.
 */
export function MemberList({
  space,
  presence,
  now = Date.now(),
}: {
  readonly space: Space
  readonly presence: readonly Presence[]
  readonly now?: number
}) {
  const { profile } = useServices()
  const meId = useSyncExternalStore(profile.subscribe, profile.getSnapshot).profile.id
  const members = space.members()
  const here = new Set(presence.map((p) => p.personId).filter((id): id is string => id !== null))
  const list = [...members].sort(
    (a, b) => Number(b.id === meId) - Number(a.id === meId) || a.name.localeCompare(b.name),
  )
  return (
    <section className="members" aria-labelledby="members-heading" data-testid="members">
      <h3 id="members-heading" className="field-label">
        People in this space
      </h3>
      {list.length === 0 ? (
        <p className="hint">Nobody has made a change here yet. People appear once they edit something.</p>
      ) : (
        <ul className="member-list">
          {list.map((m) => {
            const name = safeText(m.name, MAX_NAME) || 'Someone'
            const seen = safeTime(m.seenAt)
            const state =
              m.id === meId
                ? 'you'
                : here.has(m.id)
                  ? 'here now'
                  : seen !== null
                    ? `seen ${ago(seen, now)}`
                    : ''
            return (
              <li key={m.id} className="member" data-testid="member">
                <Avatar name={name} color={m.color} />
                <span className="member-name">{name}</span>
                {state && <span className="muted small">{state}</span>}
              </li>
            )
          })}
        </ul>
      )}
    </section>
  )
}

/** What happened lately, newest first ("Sam added Jam · 2 min ago"), from the document itself. */
export function ActivityList({
  view,
  now = Date.now(),
}: {
  readonly view: SpaceViewState
  readonly now?: number
}) {
  const entries = activity(view.items, view.notes, view.trash)
  return entries.length === 0 ? (
    <p className="hint" data-testid="activity-empty">
      Nothing yet. When someone adds an item or a note, it shows here.
    </p>
  ) : (
    <ol className="activity-list" aria-label="Recent activity" data-testid="activity">
      {entries.map((e) => (
        <li key={e.key} className="activity-entry" data-testid="activity-entry">
          <span>
            {e.who ? (
              <>
                <strong>{e.who}</strong> {e.what}
              </>
            ) : (
              e.what.charAt(0).toUpperCase() + e.what.slice(1)
            )}
          </span>
          <span className="muted small"> · {ago(e.at, now)}</span>
        </li>
      ))}
    </ol>
  )
}
