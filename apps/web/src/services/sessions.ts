import { Origin, type SpaceSession } from '@converge/sync-client'
import { memberColor, recordMember } from './members.js'
import { PROFILE_COLORS, type ProfileState, lightColor } from './profile.js'
import type { Profile } from './types.js'

export interface OpenParams {
  readonly spaceId: string
  /** The engine the space was created with (WEB-ENGINE-1); Yjs when absent. */
  readonly engine?: 'yjs' | 'automerge'
  readonly token: string | null
  readonly readOnly: boolean
}

/** Opens a session (main.tsx binds the server URL, the store and the error handler). */
export type OpenSession = (params: OpenParams & { user: AwarenessUser }) => Promise<SpaceSession>

/**
 * What y-codemirror.next and `session.presence()` read from `awareness.getLocalState().user`, and
 * all of it: the server refuses a presence state with any other field, a name over 64 characters, or
 * a colour that is not hex (server-core PRESENCE-4).
 */
export interface AwarenessUser {
  /**
   * The person (profile id): one avatar for all their tabs and devices (sync-client PRES-4). Always
   * set for this tab (`awarenessUser`); the editor's remote cursors carry none.
   */
  readonly id?: string
  readonly name: string
  /** `#rrggbb`. */
  readonly color: string
  /** `#rrggbbaa`: the colour, translucent, for remote selections. */
  readonly colorLight: string
}

/** `#rrggbb`: the only colour this app puts into a style (an avatar, a remote cursor). */
export const isHexColor = (value: unknown): value is string =>
  typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value)

const FALLBACK_COLOR = PROFILE_COLORS[0]?.value ?? '#4f46e5'

/** At most `max` UTF-16 code units (as the server counts), never half a character. */
const clip = (text: string, max: number): string => {
  let out = ''
  for (const ch of text) {
    if (out.length + ch.length > max) break
    out += ch
  }
  return out
}

export const awarenessUser = (p: Profile): AwarenessUser => {
  const color = isHexColor(p.color) ? p.color : FALLBACK_COLOR
  return { id: p.id, name: clip(p.name, 64), color, colorLight: lightColor(color) }
}

interface Entry {
  readonly params: OpenParams
  readonly promise: Promise<SpaceSession>
  session: SpaceSession | null
  refs: number
  /** This person as the space shows them (their colour there: members.ts), once the session is open. */
  user: AwarenessUser | null
  /** Stops following the space's member records. */
  unbind: (() => void) | null
}

export interface Lease {
  readonly session: Promise<SpaceSession>
  release(): void
}

/**
 * The open sessions, one per space. A screen leases a session; the last release closes it, unless
 * the tab has no device storage, in which case the session (the only copy of offline edits) lives on
 * until the tab closes. Opening a space again with another token (after registration, or a new link)
 * replaces the session, carrying over its state when there is no device storage to carry it.
 */
export class SessionManager {
  private readonly entries = new Map<string, Entry>()
  private activeId: string | null = null
  private me: ProfileState

  constructor(
    private readonly open: OpenSession,
    /** true when changes live only in memory in this tab (no store, or it failed) */
    private readonly memoryOnly: () => boolean,
    me: ProfileState,
  ) {
    this.me = me
  }

  /** The session of the space on screen, if open (test hooks, diagnostics). */
  get active(): SpaceSession | null {
    return (this.activeId && this.entries.get(this.activeId)?.session) || null
  }

  setActive(spaceId: string | null): void {
    this.activeId = spaceId
  }

  acquire(params: OpenParams): Lease {
    let entry = this.entries.get(params.spaceId)
    if (!entry || entry.params.token !== params.token || entry.params.readOnly !== params.readOnly) {
      entry = this.replace(params, entry)
    }
    const e = entry
    e.refs++
    let released = false
    return {
      session: e.promise,
      release: () => {
        if (released) return
        released = true
        e.refs--
        // later, so that a screen that re-mounts at once (React StrictMode) keeps its session
        setTimeout(() => void this.maybeClose(e), 0)
      },
    }
  }

  private replace(params: OpenParams, old: Entry | undefined): Entry {
    if (old) this.entries.delete(params.spaceId)
    const user = awarenessUser(this.me.profile)
    const entry: Entry = {
      params,
      session: null,
      refs: 0,
      user: null,
      unbind: null,
      promise: (async () => {
        let carry: Uint8Array | null = null
        if (old) {
          const previous = await old.promise.catch(() => null)
          if (previous) {
            if (this.memoryOnly() || previous.storageFailed) carry = previous.space.encodeStateAsUpdate()
            old.unbind?.()
            await previous.destroy()
          }
        }
        const session = await this.open({ ...params, user })
        if (carry) session.space.applyUpdate(carry, Origin.Handover)
        return session
      })(),
    }
    entry.promise.then(
      (s) => {
        entry.session = s
        this.bind(entry, s)
      },
      () => {
        if (this.entries.get(params.spaceId) === entry) this.entries.delete(params.spaceId)
      },
    )
    this.entries.set(params.spaceId, entry)
    return entry
  }

  /**
   * Keeps this person's member record and presence right in one space. The colour (members.ts) is
   * worked out again when someone else's change arrives — a member record that takes this colour,
   * the server's copy of the space after an offline open — coalesced to one pass per turn, outside
   * the change event. The record is written when what this session wants it to say changes (at
   * open, a new profile, a new colour), never because the document says something else: two devices
   * of one person with different names would otherwise overwrite each other forever.
   */
  private bind(entry: Entry, session: SpaceSession): void {
    entry.unbind?.()
    let queued = false
    let written: string | null = null
    const refresh = (): void => {
      queued = false
      if (this.entries.get(entry.params.spaceId) !== entry) return
      const { profile, chosen } = this.me
      const me = { ...profile, color: memberColor(session.space, profile) }
      const want = `${me.name}\u0000${me.color}`
      if (want !== written) {
        written = want
        recordMember(session.space, me, chosen)
      }
      const user = awarenessUser(me)
      const was = entry.user
      if (was && was.id === user.id && was.name === user.name && was.color === user.color) return
      entry.user = user
      session.awareness.setLocalStateField('user', user)
    }
    const later = (): void => {
      if (queued) return
      queued = true
      queueMicrotask(refresh)
    }
    const unsubscribe = session.space.subscribe((e) => {
      if (!e.local) later()
    })
    entry.unbind = () => {
      unsubscribe()
      entry.unbind = null
    }
    entry.user = null
    refresh()
  }

  private async maybeClose(entry: Entry): Promise<void> {
    if (entry.refs > 0 || this.entries.get(entry.params.spaceId) !== entry) return
    const session = await entry.promise.catch(() => null)
    if (!session || entry.refs > 0) return
    if (this.memoryOnly() || session.storageFailed) return
    this.entries.delete(entry.params.spaceId)
    entry.unbind?.()
    await session.destroy()
  }

  /** Closes a space's session now, whatever leases it has (the space is being removed). */
  async close(spaceId: string): Promise<void> {
    const entry = this.entries.get(spaceId)
    if (!entry) return
    this.entries.delete(spaceId)
    entry.unbind?.()
    const session = await entry.promise.catch(() => null)
    await session?.destroy()
  }

  /** A new name or colour: every open session records it and tells the others. */
  setUser(me: ProfileState): void {
    this.me = me
    for (const e of this.entries.values()) if (e.session) this.bind(e, e.session)
  }
}
