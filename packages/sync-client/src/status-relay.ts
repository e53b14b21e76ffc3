import type { Space } from '@converge/merge'
import { ownClock } from './engine-codec.js'
import { type ConnectionView, type SyncStatus, leaderStatus, sameStatus } from './status.js'
import type { PendingChange } from './store/records.js'
import { type TabChannel, storedChanges } from './tab-channel.js'
import type { WriteQueue } from './write-queue.js'

export interface StatusRelayOptions {
  readonly tabs: TabChannel
  readonly space: Space
  /** Whether this tab leads the space now (`Leadership`). */
  readonly isLeader: () => boolean
  /** The leader's connection; null: none (local only, or not registered yet). */
  readonly connection: () => ConnectionView | null
  /** The pending count, and how to add to it what another tab stored (LOCAL-3). */
  readonly writes: Pick<WriteQueue, 'pending' | 'countStored' | 'recount'>
  /** The status may have changed (or something else the session shows). */
  readonly onChange: () => void
}

/**
 * The status every tab of a space shows (TAB-1): the leader derives it (`leaderStatus`, from its
 * connection, its document and the pending count) and tells the other tabs whenever it changes, and
 * each tab that says `hello`; the others show the leader's. The pending count spans the tabs
 * (LOCAL-3): a follower names the changes it stored (`stored`), the leader counts them — or, from a
 * tab of an earlier version that names none, reads the count again.
 */
export class StatusRelay {
  private value: SyncStatus = { kind: 'offline', pending: 0 }

  constructor(private readonly options: StatusRelayOptions) {}

  get current(): SyncStatus {
    return this.value
  }

  /** Starts answering the other tabs (after `shareWithTabs`: a new tab hears the document first). */
  listen(): void {
    const { tabs, isLeader, writes } = this.options
    tabs.on('hello', () => {
      if (isLeader()) this.tell(this.value)
    })
    tabs.on('status', (m) => {
      if (!isLeader()) this.set(m.status)
    })
    tabs.on('stored', (m) => {
      if (!isLeader()) return
      const changes = storedChanges(m)
      if (!changes) return writes.recount() // a tab of an earlier version
      writes.countStored(changes)
      this.update()
    })
  }

  /** A write of this tab completed (`change`: the local change it stored): the leader counts it (LOCAL-3). */
  stored(change: PendingChange | null): void {
    if (change && !this.options.isLeader()) this.options.tabs.post({ t: 'stored', changes: [change] })
    this.update()
  }

  /** Something the status is derived from changed: the leader derives it again; the others just show. */
  update(): void {
    const { isLeader, space, connection, writes } = this.options
    if (!isLeader()) return this.options.onChange()
    const status = leaderStatus(space, connection(), writes.pending)
    if (!sameStatus(status, this.value)) this.tell(status)
    this.set(status)
  }

  private tell(status: SyncStatus): void {
    this.options.tabs.post({ t: 'status', status, leader: ownClock(this.options.space).clientId })
  }

  private set(status: SyncStatus): void {
    this.value = status
    this.options.onChange()
  }
}
