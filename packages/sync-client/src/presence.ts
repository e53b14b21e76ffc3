import { Origin } from '@converge/merge'
import * as awarenessProtocol from 'y-protocols/awareness'
import type { TabChannel } from './tab-channel.js'

/** One person's tab or device in the space now (PRES-3: only well-formed ones). */
export interface Presence {
  readonly clientId: number
  /**
   * The person (the app's profile id, `[0-9a-z_-]{1,64}`), or null for a state without one (a stock
   * client): one person's tabs and devices share it, two people called "Alice" do not (PRES-4).
   */
  readonly personId: string | null
  /** At most PRESENCE_NAME_LENGTH code units; show it as text, never as markup. */
  readonly name: string
  /** Always `#rrggbb` (a `#rgb` one expanded), else NEUTRAL_COLOR: safe for a style property. */
  readonly color: string
  /** This tab. */
  readonly self: boolean
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

/** The colour of a person whose state carries none, or one that is not `#rgb` / `#rrggbb`. */
export const NEUTRAL_COLOR = '#888888'
/** Longest name shown, in UTF-16 code units (the server refuses longer ones: server-core PRESENCE-4). */
export const PRESENCE_NAME_LENGTH = 64

/** At most `max` UTF-16 code units (as the server counts them), never half a character. */
const clip = (text: string, max: number): string => {
  if (text.length <= max) return text
  let out = ''
  for (const ch of text) {
    if (out.length + ch.length > max) break
    out += ch
  }
  return out
}

/** `#rrggbb` for a `#rgb` or `#rrggbb` colour (lower case); null for anything else. */
export function presenceColor(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (/^#[0-9a-f]{6}$/i.test(value)) return value.toLowerCase()
  if (/^#[0-9a-f]{3}$/i.test(value)) return `#${[...value.slice(1)].map((c) => c + c).join('')}`.toLowerCase()
  return null
}

/**
 * The person of one awareness state, or null when it has none (PRES-3): a state is someone's when its
 * `user` is an object with a string `name`; the colour is checked, never passed on as sent.
 */
export function presenceOf(clientId: number, state: unknown, self: boolean): Presence | null {
  if (typeof state !== 'object' || state === null) return null
  const user = (state as { user?: unknown }).user
  if (typeof user !== 'object' || user === null) return null
  const { name, color, id } = user as { name?: unknown; color?: unknown; id?: unknown }
  if (typeof name !== 'string') return null
  return {
    clientId,
    personId: typeof id === 'string' && /^[0-9a-z_-]{1,64}$/.test(id) ? id : null,
    name: clip(name, PRESENCE_NAME_LENGTH),
    color: presenceColor(color) ?? NEUTRAL_COLOR,
    self,
  }
}

/**
 * This tab's part of presence (y-protocols awareness, one state per tab):
 *
 * - TAB-2: the tabs of this browser share their awareness over the tab channel (the leader's
 *   connection carries every tab's state to the server and brings the others' back); a new tab
 *   gets every state at its `hello`.
 * - PRES-1: when the leader's socket (re)opens, every tab renews its own state. Peers removed those
 *   states when the old socket closed, and y-protocols takes a state only with a higher clock than
 *   the one it last saw: re-sent as they were, they would be ignored until the 15-second renewal.
 * - PRES-2: a tab whose own state someone else removed while it is still open (the server, when a
 *   socket it had not yet seen close goes; the leader, when its socket closed) announces it again at
 *   once with a higher clock.
 * - PRES-3: `list()` holds only well-formed people, with a checked colour (`presenceOf`).
 */
export class TabPresence {
  constructor(
    private readonly awareness: awarenessProtocol.Awareness,
    private readonly tabs: TabChannel,
    /** Presence changed (anyone's). */
    private readonly onChange: () => void,
  ) {
    awareness.on('update', this.onUpdate)
    tabs.on('awareness', (m) => awarenessProtocol.applyAwarenessUpdate(awareness, m.update, Origin.Tab))
    tabs.on('hello', () =>
      tabs.post({
        t: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(awareness, [...awareness.getStates().keys()]),
      }),
    )
    tabs.on('renew', () => this.renew())
  }

  /** Sets this tab's user (name, colour, …) for everyone to see. */
  setUser(user: object): void {
    this.awareness.setLocalStateField('user', user)
  }

  /** The leader's socket opened (its own state the connection renewed): the other tabs renew theirs. */
  socketOpened(): void {
    this.tabs.post({ t: 'renew' })
  }

  /** Who is in the space now (this tab included): well-formed people only (PRES-3). */
  list(): Presence[] {
    const out: Presence[] = []
    for (const [clientId, state] of this.awareness.getStates()) {
      const person = presenceOf(clientId, state, clientId === this.awareness.clientID)
      if (person) out.push(person)
    }
    return out
  }

  /** This tab leaves: its state is removed everywhere (sent on while the channel and socket are open). */
  leave(): void {
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.awareness.clientID], 'destroy')
  }

  destroy(): void {
    this.awareness.off('update', this.onUpdate)
  }

  /** The same state with a new clock, which everyone takes. */
  private renew(): void {
    const state = this.awareness.getLocalState()
    if (state !== null) this.awareness.setLocalState(state)
  }

  private readonly onUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    if (origin !== Origin.Tab) {
      const changed = [...added, ...updated, ...removed]
      this.tabs.post({
        t: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed),
      })
    }
    // a removal of our own state that left it in place came from someone else (our own removals delete it)
    if (removed.includes(this.awareness.clientID)) this.renew()
    this.onChange()
  }
}
