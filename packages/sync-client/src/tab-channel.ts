import { Origin, type Space, isMergeError } from '@converge/merge'
import type { ConnectionFacts } from './connection.js'
import { ownClock } from './engine-codec.js'
import type { SyncStatus } from './status.js'
import type { PendingChange } from './store/records.js'

/**
 * What the tabs of one browser tell each other about one space, over the BroadcastChannel
 * `converge:<spaceId>`. Tabs of two app versions can be open at once: a tab ignores a message it
 * does not know, and a message keeps its meaning once shipped.
 */
export type TabMessage =
  /** A change to the document (local, or from the server by way of the leader). */
  | { t: 'update'; update: Uint8Array }
  /** A change to presence (y-protocols awareness update). */
  | { t: 'awareness'; update: Uint8Array }
  /** The leader's status, which every tab shows (TAB-1). */
  | { t: 'status'; status: SyncStatus; leader: number }
  /** A tab opened, or lacks something: everyone answers with what it lacks of their document. */
  | { t: 'hello'; stateVector: Uint8Array; from: number }
  /**
   * A tab finished writing to IndexedDB. `changes`: the local changes it stored, which the leader adds
   * to its count (LOCAL-3); without them (a tab of an earlier version) the leader reads the count again.
   */
  | { t: 'stored'; changes?: readonly PendingChange[] }
  /** The leader's socket (re)opened: every tab renews its presence (PRES-1). */
  | { t: 'renew' }
  /**
   * DIAG-3: a tab with the space open says so — when it opens, starts to lead, hears a `hello` or a
   * `who` — or, with `gone`, that it closed it. `id`: the tab's writer number (as `hello`'s `from`).
   */
  | { t: 'tab'; id: number; leader: boolean; gone?: boolean }
  /** DIAG-3: every tab with the space open answers with a `tab`. */
  | { t: 'who' }
  /** DIAG-1: a follower asks the leader for what it knows of the connection. */
  | { t: 'ask-facts' }
  /** DIAG-1: the leader's answer: its connection's facts, and when its oldest pending change was made. */
  | { t: 'facts'; from: number; facts: LeaderFacts }

/** DIAG-1: what the leader tells the other tabs of its connection (nothing of the space, no token). */
export interface LeaderFacts extends ConnectionFacts {
  /** When the oldest change the server has not confirmed was made (ms since the epoch); null: none. */
  readonly pendingSince: number | null
}

export type TabMessageType = TabMessage['t']
type Handler<T extends TabMessageType> = (m: Extract<TabMessage, { t: T }>) => void

/** The channel to the other tabs of this browser for one space: typed messages, several listeners each. */
export class TabChannel {
  private channel: BroadcastChannel | null = null
  private readonly handlers = new Map<TabMessageType, Set<(m: TabMessage) => void>>()
  private closed = false

  /** `BC` null: no other tabs (a browser without BroadcastChannel, or tests). */
  constructor(
    private readonly spaceId: string,
    private readonly BC: typeof BroadcastChannel | null,
  ) {}

  /** Starts hearing and reaching the other tabs (listeners are set up before, so nothing is missed). */
  open(): void {
    if (this.closed || this.channel || !this.BC) return
    this.channel = new this.BC(`converge:${this.spaceId}`)
    this.channel.onmessage = (e: MessageEvent<TabMessage>) => this.dispatch(e.data)
  }

  on<T extends TabMessageType>(type: T, fn: Handler<T>): void {
    const set = this.handlers.get(type) ?? new Set()
    set.add(fn as (m: TabMessage) => void)
    this.handlers.set(type, set)
  }

  post(m: TabMessage): void {
    if (this.closed) return
    try {
      this.channel?.postMessage(m)
    } catch {
      /* the channel closed */
    }
  }

  close(): void {
    this.closed = true
    this.handlers.clear()
    this.channel?.close()
  }

  private dispatch(m: TabMessage): void {
    if (this.closed || typeof m !== 'object' || m === null) return
    for (const fn of this.handlers.get(m.t) ?? []) fn(m)
  }
}

/**
 * Keeps a space's document in step with the other tabs (TAB-1): every change that did not come from
 * a tab or from storage goes to them; theirs are applied with `Origin.Tab` (stored and sent by the
 * tab that made them). A new tab says `hello` with its state vector and everyone answers with what
 * it lacks; an update that builds on something this tab lacks (DLV-2) makes it say `hello` again
 * (DLV-3). Returns the way to stop.
 */
export const shareWithTabs = (tabs: TabChannel, space: Space): (() => void) => {
  const hello = (): void =>
    tabs.post({ t: 'hello', stateVector: space.stateVector(), from: ownClock(space).clientId })
  const stop = space.onUpdate((update, e) => {
    if (e.origin !== Origin.Tab && e.origin !== Origin.Restore) tabs.post({ t: 'update', update })
  })
  tabs.on('update', (m) => {
    try {
      space.applyUpdate(m.update, Origin.Tab)
    } catch (e) {
      // anything else another tab of this app sent that this one cannot read (an older schema) is ignored
      if (isMergeError(e, 'MissingDependencies')) hello()
    }
  })
  tabs.on('hello', (m) => {
    let update: Uint8Array
    try {
      update = space.encodeStateAsUpdate(m.stateVector)
    } catch {
      return // a vector this tab cannot read (a tab of another version)
    }
    tabs.post({ t: 'update', update })
  })
  hello()
  return stop
}

/** The changes of a `stored` message when they are well formed (a tab of another version may send anything). */
export const storedChanges = (m: { changes?: unknown }): PendingChange[] | null => {
  if (!Array.isArray(m.changes)) return null
  const changes: PendingChange[] = []
  for (const c of m.changes as unknown[]) {
    if (typeof c !== 'object' || c === null) return null
    const { clientId, clock } = c as Record<string, unknown>
    if (!Number.isSafeInteger(clientId) || !Number.isSafeInteger(clock)) return null
    if ((clientId as number) < 0 || (clock as number) < 0) return null
    changes.push({ clientId: clientId as number, clock: clock as number })
  }
  return changes
}
