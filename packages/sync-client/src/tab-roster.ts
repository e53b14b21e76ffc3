import type { Timers } from './browser.js'
import type { TabChannel } from './tab-channel.js'

/** DIAG-3: one tab of this browser with the space open. */
export interface TabEntry {
  /** The tab's writer number (its replica's, as the tab channel's `hello` names it). */
  readonly id: number
  /** It holds the space's lock: it keeps the connection for every tab (TAB-1). */
  readonly leader: boolean
  /** This tab. */
  readonly self: boolean
}

/** DIAG-3: a tab that does not answer a `who` within this long is taken to be gone. */
export const TAB_ANSWER_MS = 1_000

export interface TabRosterOptions {
  readonly tabs: TabChannel
  /** This tab's id (its writer number). */
  readonly self: () => number
  readonly isLeader: () => boolean
  readonly timers: Timers
  readonly now: () => number
  /** The list changed. */
  readonly onChange: () => void
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/**
 * DIAG-3: the tabs of this browser that have the space open, and which one leads. Each tab says
 * `tab` when it opens, when it starts to lead, and in answer to a new tab's `hello` or to a `who`; it
 * says `tab … gone` when it closes the space. A tab that closed without a word (a crash, a killed
 * process) is dropped when it does not answer a `who` (`refresh`) within TAB_ANSWER_MS. A follower
 * also learns the leader from the leader's `status` (TAB-1). Tabs of an earlier version say none of
 * this and are not listed.
 */
export class TabRoster {
  private readonly others = new Map<number, { leader: boolean; seenAt: number }>()
  private pruning: unknown = null

  constructor(private readonly options: TabRosterOptions) {}

  /** Starts hearing the other tabs (before the channel opens, so nothing is missed). */
  listen(): void {
    const { tabs } = this.options
    tabs.on('tab', (m) => {
      if (!isId(m.id) || m.id === this.options.self()) return
      if (m.gone === true) {
        if (this.others.delete(m.id)) this.options.onChange()
        return
      }
      this.seen(m.id, m.leader === true)
    })
    tabs.on('who', () => this.announce())
    tabs.on('hello', (m) => {
      if (isId(m.from) && m.from !== this.options.self())
        this.seen(m.from, this.others.get(m.from)?.leader ?? false)
      this.announce()
    })
    // the leader's status names it (TAB-1): a tab already listed is marked as leading (a status is
    // no sign of life: a leader closing says one last status after its `gone`)
    tabs.on('status', (m) => {
      if (isId(m.leader) && this.others.has(m.leader) && !this.others.get(m.leader)?.leader)
        this.seen(m.leader, true)
    })
  }

  /** This tab says it is here (and whether it leads). */
  announce(): void {
    this.options.tabs.post({ t: 'tab', id: this.options.self(), leader: this.options.isLeader() })
  }

  /** This tab closes the space: the others drop it. */
  leave(): void {
    this.options.tabs.post({ t: 'tab', id: this.options.self(), leader: false, gone: true })
  }

  /** Asks every tab to say it is here; the ones that do not within TAB_ANSWER_MS are dropped. */
  refresh(): void {
    const { tabs, timers, now } = this.options
    const askedAt = now()
    tabs.post({ t: 'who' })
    if (this.pruning !== null) return
    this.pruning = timers.setTimeout(() => {
      this.pruning = null
      let dropped = false
      for (const [id, t] of this.others)
        if (t.seenAt < askedAt) {
          this.others.delete(id)
          dropped = true
        }
      if (dropped) this.options.onChange()
    }, TAB_ANSWER_MS)
  }

  /** This tab first, then the others by id. */
  list(): TabEntry[] {
    const self = this.options.isLeader()
    return [
      { id: this.options.self(), leader: self, self: true },
      ...[...this.others]
        .sort(([a], [b]) => a - b)
        .map(([id, t]) => ({ id, leader: !self && t.leader, self: false })),
    ]
  }

  stop(): void {
    if (this.pruning !== null) this.options.timers.clearTimeout(this.pruning)
    this.pruning = null
  }

  private seen(id: number, leader: boolean): void {
    const before = this.others.get(id)
    // one tab leads: a tab that says it does takes it from every other
    if (leader) for (const t of this.others.values()) t.leader = false
    this.others.set(id, { leader, seenAt: this.options.now() })
    if (!before || before.leader !== leader || leader) this.options.onChange()
  }
}
