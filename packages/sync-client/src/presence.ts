import { Origin } from '@converge/merge'
import * as awarenessProtocol from 'y-protocols/awareness'
import type { TabChannel } from './tab-channel.js'

/** One person's tab or device in the space now. */
export interface Presence {
  readonly clientId: number
  readonly name: string
  readonly color: string
  /** This tab. */
  readonly self: boolean
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

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

  /** Who is in the space now (this tab included). */
  list(): Presence[] {
    const out: Presence[] = []
    for (const [clientId, state] of this.awareness.getStates()) {
      const user = (state as { user?: { name?: unknown; color?: unknown } }).user
      if (!user || typeof user.name !== 'string') continue
      out.push({
        clientId,
        name: user.name,
        color: typeof user.color === 'string' ? user.color : '#888',
        self: clientId === this.awareness.clientID,
      })
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
