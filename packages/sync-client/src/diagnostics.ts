import type { EngineKind, Space } from '@converge/merge'
import type { NavigatorLike, Timers } from './browser.js'
import type { ConnectionFacts, LinkState, SyncConnection } from './connection.js'
import { codecOf, ownClock } from './engine-codec.js'
import type { MessageEntry } from './message-log.js'
import type { SyncStatus } from './status.js'
import type { LeaderFacts, TabChannel } from './tab-channel.js'
import { type TabEntry, TabRoster } from './tab-roster.js'

/** DIAG-1: a version vector as the diagnostics show it: writer → clock (Yjs: the client id in decimal). */
export type VectorRecord = Readonly<Record<string, number>>

/**
 * DIAG-1: a snapshot of the open space in this tab, as the sync inspector shows it. Times are ms since
 * the epoch on the session's clock; ages are as of `at`. Nothing of the space's content, no token.
 */
export interface SyncDiagnostics {
  /** When the snapshot was taken. */
  readonly at: number
  readonly spaceId: string
  readonly engine: EngineKind
  /** This tab: its id (its writer number) and whether it leads. */
  readonly tab: { readonly id: number; readonly role: 'leader' | 'follower' }
  /**
   * Where the connection's facts come from: this tab (it leads), the leader tab over the tab channel
   * (DIAG-3), or nowhere yet (a follower whose leader has not answered).
   */
  readonly source: 'this tab' | 'leader tab' | 'none yet'
  /** The status kind every tab shows (TAB-1). */
  readonly status: SyncStatus['kind']
  readonly connection: {
    readonly state: LinkState
    readonly serverVersion: number | null
    readonly attempt: number
    readonly error: string | null
    readonly online: boolean
  } | null
  /** The heartbeat round trip: the last one and the smoothed one, ms (null: none measured yet). */
  readonly rtt: { readonly lastMs: number | null; readonly smoothedMs: number | null }
  /** The local changes the server has not confirmed (SYNC-2's count), and the oldest one's time and age. */
  readonly pending: {
    readonly count: number
    readonly oldestAt: number | null
    readonly oldestAgeMs: number | null
  }
  /** The last durable ack: when it arrived, and how long ago (null: none yet). */
  readonly lastAck: { readonly at: number | null; readonly ageMs: number | null }
  /**
   * This replica's version vector, the server's (the last ack's, decoded by the space's engine), and
   * whether they are equal (every writer at one clock).
   */
  readonly vectors: {
    readonly device: VectorRecord
    readonly server: VectorRecord | null
    readonly equal: boolean
  }
  /** PROBE-2, PROBE-3: reports and digests the connection sent. */
  readonly probes: { readonly reportsSent: number; readonly digestsSent: number }
  /** The last messages in and out, oldest first (DIAG-2). */
  readonly messages: readonly MessageEntry[]
  /** The tabs of this browser with the space open, this one first (DIAG-3). */
  readonly tabs: readonly TabEntry[]
}

/** DIAG-4: what "Copy diagnostics" copies — JSON, with ids, numbers and types only. */
export interface CopyableDiagnostics {
  readonly kind: 'converge-sync-diagnostics'
  readonly format: 1
  readonly takenAt: string
  readonly appVersion: string | null
  readonly userAgent: string | null
  readonly engine: EngineKind
  readonly spaceId: string
  readonly tab: SyncDiagnostics['tab']
  readonly source: SyncDiagnostics['source']
  readonly status: string
  readonly connection: SyncDiagnostics['connection']
  readonly rtt: SyncDiagnostics['rtt']
  readonly pending: { readonly count: number; readonly oldestAgeMs: number | null }
  readonly lastAck: { readonly ageMs: number | null }
  readonly vectors: SyncDiagnostics['vectors']
  readonly probes: SyncDiagnostics['probes']
  readonly messages: readonly {
    readonly agoMs: number
    readonly dir: 'in' | 'out'
    readonly type: string
    readonly bytes: number
  }[]
  readonly tabs: readonly TabEntry[]
}

/** DIAG-1: while someone watches, the snapshot is renewed this often (ages; a follower asks the leader). */
export const DIAGNOSTICS_TICK_MS = 1_000
/** DIAG-3: …and the tabs are asked who is there this often. */
export const TABS_REFRESH_MS = 5_000

export interface DiagnosticsOptions {
  readonly space: Space
  readonly tabs: TabChannel
  readonly isLeader: () => boolean
  /** The status this tab shows. */
  readonly status: () => SyncStatus
  /** This tab's connection (null: a follower, or no server). */
  readonly connection: () => SyncConnection | null
  /** This tab's oldest pending change's time (as a leader counts them; null: none). */
  readonly pendingSince: () => number | null
  readonly timers: Timers
  readonly now: () => number
  readonly navigator: NavigatorLike | null
}

const LINK_STATES: readonly LinkState[] = [
  'open',
  'connecting',
  'waiting',
  'offline',
  'stopped',
  'closed',
  'none',
]

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const count = (v: unknown): number => {
  const n = num(v)
  return n === null || n < 0 ? 0 : Math.floor(n)
}

/** What another tab sent as its facts, when it is well formed (a tab of another version may send anything). */
export const readFacts = (x: unknown): LeaderFacts | null => {
  if (typeof x !== 'object' || x === null) return null
  const f = x as Record<string, unknown>
  if (!LINK_STATES.includes(f.link as LinkState)) return null
  const messages: MessageEntry[] = []
  if (Array.isArray(f.messages))
    for (const m of f.messages as unknown[]) {
      if (typeof m !== 'object' || m === null) continue
      const e = m as Record<string, unknown>
      const at = num(e.at)
      if (at === null || (e.dir !== 'in' && e.dir !== 'out') || typeof e.type !== 'string') continue
      messages.push({ at, dir: e.dir, type: e.type.slice(0, 32), bytes: count(e.bytes) })
    }
  return {
    link: f.link as LinkState,
    serverVersion: num(f.serverVersion),
    attempt: count(f.attempt),
    error: typeof f.error === 'string' ? f.error.slice(0, 64) : null,
    online: f.online !== false,
    rttMs: num(f.rttMs),
    smoothedRttMs: num(f.smoothedRttMs),
    lastAckAt: num(f.lastAckAt),
    acked: f.acked instanceof Uint8Array ? f.acked : null,
    messages: messages.slice(-100),
    reportsSent: count(f.reportsSent),
    digestsSent: count(f.digestsSent),
    pendingSince: num(f.pendingSince),
  }
}

const sameVector = (a: VectorRecord, b: VectorRecord): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false
  return true
}

/**
 * DIAG-1…4: the diagnostics of a session — the snapshot the sync inspector shows, live. The leader
 * reads its own connection; a follower asks the leader over the tab channel (`ask-facts` →
 * `facts`), while someone watches. The tabs of this browser come from the `TabRoster` (DIAG-3).
 */
export class SessionDiagnostics {
  private readonly roster: TabRoster
  private readonly listeners = new Set<() => void>()
  private remote: LeaderFacts | null = null
  private ticker: unknown = null
  private ticks = 0
  private unfollow: (() => void) | null = null
  private stopped = false

  constructor(private readonly options: DiagnosticsOptions) {
    this.roster = new TabRoster({
      tabs: options.tabs,
      self: () => this.selfId(),
      isLeader: options.isLeader,
      timers: options.timers,
      now: options.now,
      onChange: () => this.changed(),
    })
  }

  /** Starts answering and hearing the other tabs. */
  listen(): void {
    const { tabs, isLeader } = this.options
    this.roster.listen()
    tabs.on('ask-facts', () => {
      if (isLeader()) tabs.post({ t: 'facts', from: this.selfId(), facts: this.leaderFacts() })
    })
    tabs.on('facts', (m) => {
      if (isLeader()) return
      const facts = readFacts(m.facts)
      if (!facts) return
      this.remote = facts
      this.changed()
    })
  }

  /** This tab opened the space (its `hello` went out): it says so to the others. */
  announce(): void {
    this.roster.announce()
  }

  /** This tab now leads, with `connection` (null: no server): watched from now on. */
  lead(connection: SyncConnection | null): void {
    this.unfollow?.()
    this.unfollow = null
    this.remote = null
    if (connection) {
      const a = connection.subscribe(() => this.changed())
      const b = connection.onActivity(() => this.changed())
      this.unfollow = () => {
        a()
        b()
      }
    }
    this.roster.announce()
    this.changed()
  }

  /** Something the snapshot shows may have changed (the session's status, the document). */
  changed(): void {
    for (const fn of [...this.listeners]) fn()
  }

  /**
   * DIAG-1: the snapshot now — a new object each time, its ages as of now (`subscribe` says when
   * something in it changed; a view keeps the one it shows until then).
   */
  snapshot(): SyncDiagnostics {
    return this.take()
  }

  /**
   * Told of every change of the snapshot. While anyone listens the snapshot is renewed every
   * DIAGNOSTICS_TICK_MS (its ages move; a follower asks the leader again) and the tabs are asked who
   * is there every TABS_REFRESH_MS.
   */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn)
    if (this.listeners.size === 1) this.startWatching()
    return () => {
      if (!this.listeners.delete(fn) || this.listeners.size > 0) return
      this.stopWatching()
    }
  }

  /**
   * DIAG-4: the snapshot as JSON for a bug report: ids, numbers and types only — no token, nothing of
   * the space (no name, no item, no note) — with the app's version, the browser and the engine.
   */
  copyable(about: { readonly appVersion?: string } = {}): CopyableDiagnostics {
    const d = this.snapshot()
    return {
      kind: 'converge-sync-diagnostics',
      format: 1,
      takenAt: new Date(d.at).toISOString(),
      appVersion: about.appVersion ?? null,
      userAgent: this.options.navigator?.userAgent ?? null,
      engine: d.engine,
      spaceId: d.spaceId,
      tab: { id: d.tab.id, role: d.tab.role },
      source: d.source,
      status: d.status,
      connection: d.connection && {
        state: d.connection.state,
        serverVersion: d.connection.serverVersion,
        attempt: d.connection.attempt,
        error: d.connection.error,
        online: d.connection.online,
      },
      rtt: { lastMs: d.rtt.lastMs, smoothedMs: d.rtt.smoothedMs },
      pending: { count: d.pending.count, oldestAgeMs: d.pending.oldestAgeMs },
      lastAck: { ageMs: d.lastAck.ageMs },
      vectors: {
        device: { ...d.vectors.device },
        server: d.vectors.server && { ...d.vectors.server },
        equal: d.vectors.equal,
      },
      probes: { reportsSent: d.probes.reportsSent, digestsSent: d.probes.digestsSent },
      messages: d.messages.map((m) => ({ agoMs: d.at - m.at, dir: m.dir, type: m.type, bytes: m.bytes })),
      tabs: d.tabs.map((t) => ({ id: t.id, leader: t.leader, self: t.self })),
    }
  }

  /** The session closes: the other tabs drop this one, nothing is timed any more. */
  destroy(): void {
    if (this.stopped) return
    this.stopped = true
    this.roster.leave()
    this.stopWatching()
    this.roster.stop()
    this.unfollow?.()
    this.unfollow = null
    this.listeners.clear()
  }

  private selfId(): number {
    return ownClock(this.options.space).clientId
  }

  /** What this tab, leading, knows of its connection (and tells the followers). */
  private leaderFacts(): LeaderFacts {
    const connection = this.options.connection()
    const pendingSince = this.options.pendingSince()
    if (connection) return { ...connection.facts(), pendingSince }
    const none: ConnectionFacts = {
      link: 'none',
      serverVersion: null,
      attempt: 0,
      error: null,
      online: this.options.navigator?.onLine !== false,
      rttMs: null,
      smoothedRttMs: null,
      lastAckAt: null,
      acked: null,
      messages: [],
      reportsSent: 0,
      digestsSent: 0,
    }
    return { ...none, pendingSince }
  }

  private take(): SyncDiagnostics {
    const { space, isLeader, status, now } = this.options
    const at = now()
    const leader = isLeader()
    const facts = leader ? this.leaderFacts() : this.remote
    const s = status()
    const pendingCount = s.kind === 'saved' ? 0 : s.pending
    const oldestAt = pendingCount > 0 ? (facts?.pendingSince ?? null) : null
    const device: VectorRecord = Object.fromEntries(space.versionVector())
    let server: VectorRecord | null = null
    if (facts?.acked)
      try {
        server = Object.fromEntries(codecOf(space.engineKind).decodeVector(facts.acked))
      } catch {
        server = null // an ack this engine cannot read
      }
    const lastAckAt = facts?.lastAckAt ?? null
    return {
      at,
      spaceId: space.id,
      engine: space.engineKind,
      tab: { id: this.selfId(), role: leader ? 'leader' : 'follower' },
      source: leader ? 'this tab' : facts ? 'leader tab' : 'none yet',
      status: s.kind,
      connection: facts && {
        state: facts.link,
        serverVersion: facts.serverVersion,
        attempt: facts.attempt,
        error: facts.error,
        online: facts.online,
      },
      rtt: { lastMs: facts?.rttMs ?? null, smoothedMs: facts?.smoothedRttMs ?? null },
      pending: {
        count: pendingCount,
        oldestAt,
        oldestAgeMs: oldestAt === null ? null : Math.max(0, at - oldestAt),
      },
      lastAck: { at: lastAckAt, ageMs: lastAckAt === null ? null : Math.max(0, at - lastAckAt) },
      vectors: { device, server, equal: server !== null && sameVector(device, server) },
      probes: { reportsSent: facts?.reportsSent ?? 0, digestsSent: facts?.digestsSent ?? 0 },
      messages: facts?.messages ?? [],
      tabs: this.roster.list(),
    }
  }

  private startWatching(): void {
    if (this.stopped || this.ticker !== null) return
    this.ticks = 0
    this.roster.refresh()
    this.askLeader()
    const every = Math.max(1, Math.round(TABS_REFRESH_MS / DIAGNOSTICS_TICK_MS))
    const tick = (): void => {
      this.ticker = this.options.timers.setTimeout(tick, DIAGNOSTICS_TICK_MS)
      if (++this.ticks % every === 0) this.roster.refresh()
      this.askLeader()
      this.changed()
    }
    this.ticker = this.options.timers.setTimeout(tick, DIAGNOSTICS_TICK_MS)
  }

  private stopWatching(): void {
    if (this.ticker !== null) this.options.timers.clearTimeout(this.ticker)
    this.ticker = null
  }

  private askLeader(): void {
    if (!this.options.isLeader()) this.options.tabs.post({ t: 'ask-facts' })
  }
}
