import type { Presence, SpaceSession } from '@converge/sync-client'
import { useState } from 'react'
import type { SpaceViewState } from '../app/space-view.js'
import { Dialog } from './Dialog.js'
import { ActivityList, Avatar, MemberList } from './People.js'

interface Person {
  readonly key: string
  readonly name: string
  readonly color: string
  readonly self: boolean
}

/**
 * One avatar per person: the tabs and devices of one person id count once, two people who share a
 * name count twice (sync-client PRES-4); a state without an id (a stock client) counts by name and
 * colour. You first.
 */
export function people(presence: readonly Presence[]): Person[] {
  const byKey = new Map<string, Person>()
  for (const p of presence) {
    const key = p.personId !== null ? `id:${p.personId}` : `nc:${p.name}\u0000${p.color}`
    const seen = byKey.get(key)
    if (!seen || (p.self && !seen.self)) byKey.set(key, { key, name: p.name, color: p.color, self: p.self })
  }
  return [...byKey.values()].sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name))
}

/** "People" beside the avatars: who is in the space (member records) and what they did lately. */
function PeopleDialog({
  session,
  view,
  onClose,
}: {
  readonly session: SpaceSession
  readonly view: SpaceViewState
  readonly onClose: () => void
}) {
  return (
    <Dialog title="People and activity" testId="people-dialog" onClose={onClose}>
      <div className="stack">
        <MemberList space={session.space} presence={view.presence} />
        <section aria-labelledby="activity-heading">
          <h3 id="activity-heading" className="field-label">
            Recent activity
          </h3>
          <ActivityList view={view} />
        </section>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose} autoFocus>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  )
}

export function PresenceList({
  presence,
  session,
  view,
}: {
  readonly presence: readonly Presence[]
  /** with both, a "People" button opens the member list and the activity */
  readonly session?: SpaceSession
  readonly view?: SpaceViewState
}) {
  const [open, setOpen] = useState(false)
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
            <Avatar name={p.name} color={p.color} />
            <span className="visually-hidden">{p.self ? `${p.name} (you)` : p.name}</span>
          </li>
        ))}
      </ul>
      <span className="presence-text" aria-hidden="true">
        {others === 0 ? 'Only you' : `You and ${others} ${others === 1 ? 'other' : 'others'}`}
      </span>
      {session && view && (
        <button type="button" className="button small" aria-haspopup="dialog" onClick={() => setOpen(true)}>
          People
        </button>
      )}
      {open && session && view && (
        <PeopleDialog session={session} view={view} onClose={() => setOpen(false)} />
      )}
    </div>
  )
}
