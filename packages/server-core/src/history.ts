/**
 * Version history: the snapshots of a space the server keeps, so a person can see what a list looked
 * like yesterday and get it back (SPEC.md HIST-1…8; the storage is the `SpaceHistory` port, HISTORY-n).
 * Two ideas, one file:
 *
 * - **Recording** (`History`, a part of the room): each commit of client updates (and each change the
 *   server makes itself) adds to the changes pending, with the names of the members who sent them.
 *   A version — the room's `document.snapshot()` — is saved once the room has been quiet `quietMs`
 *   after a change, or once the oldest pending change is `maxIntervalMs` old (so a space that is
 *   never quiet still gets versions), and when the room unloads or the core shuts down. Only what is
 *   committed is saved: the snapshot is taken when the document holds nothing else (`room.settled`),
 *   after waiting for the commit pipeline if need be. Changes that came over fan-out are not counted
 *   here: the instance that committed them records them in its own versions. A history store that
 *   fails is logged and never touches sync: the changes stay pending and are tried again later.
 * - **Retention** (`versionsToDrop`, a pure function): after each save the space's versions are
 *   thinned like a compacted log — every version of the last `keepAllMs`, then the last of each UTC
 *   day up to `keepDays`, at most `maxVersions` in all; the newest is never dropped.
 */
import type * as awarenessProtocol from 'y-protocols/awareness'
import type { RoomMember } from './membership.js'
import type { Clock, Logger, Scheduler, SpaceHistory, Timer, VersionInfo } from './ports.js'

const DAY_MS = 86_400_000

/** How long versions are kept (HIST-7). */
export interface HistoryPolicy {
  /** Every version this young (ms) is kept. Default 24 h. */
  readonly keepAllMs: number
  /**
   * Beyond `keepAllMs`, one version per calendar day (UTC) — the day's last — up to this many days
   * old; older ones are dropped. Default 30.
   */
  readonly keepDays: number
  /** At most this many versions per space: beyond it the oldest go. Default 200. */
  readonly maxVersions: number
}

export const defaultHistoryPolicy: HistoryPolicy = {
  keepAllMs: DAY_MS,
  keepDays: 30,
  maxVersions: 200,
}

/** A version is saved once the room has been quiet this long after a change (HIST-1). */
export const HISTORY_QUIET_MS = 60_000
/** …or once the oldest change not in a version is this old (HIST-2). */
export const HISTORY_MAX_INTERVAL_MS = 10 * 60_000
/** The most author names one version carries (HIST-4). */
export const HISTORY_MAX_AUTHORS = 10

/** HIST-9: how long a change the server makes itself waits for the version of what was pending (ms). */
export const HISTORY_BEFORE_WRITE_MAX_MS = 2000

/** `SyncCoreOptions.history`: where versions go, and when. */
export interface HistoryOptions {
  readonly store: SpaceHistory
  /** Quiet time after a change before a version is saved (default 60 s). */
  readonly quietMs?: number
  /** Longest time changes wait for a version while the space is never quiet (default 10 min). */
  readonly maxIntervalMs?: number
  readonly policy?: Partial<HistoryPolicy>
}

/** History options with every default filled in. */
export interface HistorySettings {
  readonly store: SpaceHistory
  readonly quietMs: number
  readonly maxIntervalMs: number
  readonly policy: HistoryPolicy
}

/** Fills in the defaults; throws RangeError for a time or a policy value that is not a number ≥ 0. */
export function historySettings(options: HistoryOptions): HistorySettings {
  const settings: HistorySettings = {
    store: options.store,
    quietMs: options.quietMs ?? HISTORY_QUIET_MS,
    maxIntervalMs: options.maxIntervalMs ?? HISTORY_MAX_INTERVAL_MS,
    policy: { ...defaultHistoryPolicy, ...options.policy },
  }
  const numbers: Record<string, number> = {
    quietMs: settings.quietMs,
    maxIntervalMs: settings.maxIntervalMs,
    ...settings.policy,
  }
  for (const [name, value] of Object.entries(numbers))
    if (!(value >= 0)) throw new RangeError(`history: ${name} must be a number ≥ 0, not ${value}`)
  return settings
}

/** The newer of two versions: by `at`, then by id. */
const newer = (a: VersionInfo, b: VersionInfo): boolean => a.at > b.at || (a.at === b.at && a.id > b.id)

/**
 * HIST-7: the ids of the versions to delete from `list` (one space's, in any order) at time `now`,
 * in the list's order. Kept are: the newest version, always; every version at most `keepAllMs` old;
 * of older ones up to `keepDays` days old, the last of each calendar day (UTC) — the day's last of
 * all the day's versions, so a version kept once as the day's last stays kept as time goes on —
 * and, of what that keeps, at most `maxVersions` (at least the newest): the oldest go first. Every
 * other version is dropped.
 */
export function versionsToDrop(list: readonly VersionInfo[], now: number, policy: HistoryPolicy): number[] {
  if (list.length === 0) return []
  let newest = list[0]!
  const lastOfDay = new Map<number, VersionInfo>()
  for (const v of list) {
    if (newer(v, newest)) newest = v
    const day = Math.floor(v.at / DAY_MS)
    const last = lastOfDay.get(day)
    if (!last || newer(v, last)) lastOfDay.set(day, v)
  }
  const keepDaysMs = policy.keepDays * DAY_MS
  const eligible = list.filter((v) => {
    if (v === newest) return true
    const age = now - v.at
    if (age <= policy.keepAllMs) return true
    return age <= keepDaysMs && lastOfDay.get(Math.floor(v.at / DAY_MS)) === v
  })
  const max = Math.max(1, Math.floor(policy.maxVersions))
  const kept = new Set(eligible.sort((a, b) => (newer(a, b) ? -1 : 1)).slice(0, max))
  kept.add(newest)
  return list.filter((v) => !kept.has(v)).map((v) => v.id)
}

/** What the history of a room needs of it. */
export interface HistoryDeps {
  readonly spaceId: string
  readonly settings: HistorySettings
  readonly clock: Clock
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly awareness: awarenessProtocol.Awareness
  /** WRITE-3: whether the document holds only what is committed. */
  settled(): boolean
  /** COMMIT-5: resolves once what the document holds now is committed (bounded). */
  whenCommitted(): Promise<void>
  /** DOC-5: the document as storage keeps it. */
  snapshot(): Uint8Array
}

/** The changes not in a version yet. */
interface Pending {
  changes: number
  /** Names settled when their update committed: of the writers past WRITERS_NAMED_LIVE. */
  readonly authors: Set<string>
  /**
   * HIST-4: the members who wrote them, in the order first seen, each with the names it showed when
   * its update committed — named at the save as they show then, if they still do.
   */
  readonly writers: Map<RoomMember, readonly string[]>
  /** When the first of them was committed. */
  since: number
}

/** Writers kept as members until the save (beyond, their names are settled when they commit). */
const WRITERS_NAMED_LIVE = 4 * HISTORY_MAX_AUTHORS

/** Adds `names` to `into`, each once, while it holds fewer than HISTORY_MAX_AUTHORS (HIST-4). */
function addNames(into: Set<string>, names: Iterable<string>): void {
  for (const name of names) if (into.size < HISTORY_MAX_AUTHORS) into.add(name)
}

/** A fresh Pending. */
const nothingPending = (): Pending => ({ changes: 0, authors: new Set(), writers: new Map(), since: 0 })

/**
 * HIST-1…8: the versions one room records. The room tells it of each commit (`recorded`) and, before
 * a client update is applied, who sent it (`sent`); it saves versions on its own timer and when the
 * room asks (`saveNow`, before unloading), and stops with the room.
 */
export class History {
  private pending: Pending = nothingPending()
  /** When the last commit was recorded: quietness is measured from it. */
  private lastChangeAt = 0
  /** After a failed or unsettled attempt, no new one before this time (ms). */
  private notBefore = 0
  private timer: Timer | null = null
  private saving: Promise<void> | null = null
  /** A trigger came while a save was in flight: look again once it is done. */
  private again = false
  private stopped = false
  /** The names each member showed when it last sent an update, for a member gone by its commit. */
  private readonly names = new WeakMap<RoomMember, readonly string[]>()

  constructor(private readonly deps: HistoryDeps) {}

  /** Changes committed and not in a version yet. */
  get pendingChanges(): number {
    return this.pending.changes
  }

  /**
   * A member's update is about to be applied: the names it shows now are kept, so they still name it
   * when its update commits after it has left (or removed its presence) in the same turn.
   */
  sent(member: RoomMember): void {
    if (this.stopped || member.awarenessIds.size === 0) return
    const names = this.namesOf(member)
    if (names.length > 0) this.names.set(member, names)
  }

  /**
   * A commit stored `updates` updates sent by `from` (null: a change the server made itself). They
   * are pending until a version holds them; the quiet timer starts again.
   */
  recorded(updates: number, from: Iterable<RoomMember | null>): void {
    if (this.stopped || updates <= 0) return
    const now = this.deps.clock.now()
    if (this.pending.changes === 0) this.pending.since = now
    this.pending.changes += updates
    this.lastChangeAt = now
    for (const member of from) {
      if (!member) continue
      const shown = this.namesOf(member)
      this.addWriter(this.pending, member, shown.length > 0 ? shown : (this.names.get(member) ?? []))
    }
    this.arm()
  }

  /**
   * HIST-3: saves what is pending now (the room unloads, the core shuts down), after a save in
   * flight. Resolves when done; never rejects (a failure is logged, the changes stay pending).
   */
  async saveNow(): Promise<void> {
    while (this.saving) await this.saving
    if (this.stopped || this.pending.changes === 0) return
    this.cancelTimer()
    await this.save()
  }

  /** The room is gone: no timer, no more saves. */
  stop(): void {
    this.stopped = true
    this.cancelTimer()
  }

  /** The user names a member's presence states show now: strings only, deduplicated, in id order. */
  private namesOf(member: RoomMember): string[] {
    const states = this.deps.awareness.getStates()
    const names: string[] = []
    for (const id of member.awarenessIds) {
      const state = states.get(id) as { user?: { name?: unknown } } | undefined
      const name = state?.user?.name
      if (typeof name === 'string' && !names.includes(name)) names.push(name)
    }
    return names
  }

  /** A member wrote, showing `names`: kept as a member to name at the save, or its names settled now. */
  private addWriter(p: Pending, member: RoomMember, names: readonly string[]): void {
    const known = p.writers.get(member)
    if (known === undefined && p.writers.size >= WRITERS_NAMED_LIVE) return this.addAuthors(p, names)
    if (known === undefined || names.length > 0) p.writers.set(member, names)
  }

  private addAuthors(p: Pending, names: Iterable<string>): void {
    addNames(p.authors, names)
  }

  /**
   * HIST-4: who made the pending changes, as they show now — a writer that renamed itself meanwhile
   * (a first visit's "Guest 518" that became "Alex") by its name now; one gone, by the names it
   * showed when it wrote. Then the names settled earlier. Each once, at most HISTORY_MAX_AUTHORS.
   */
  private authorsOf(p: Pending): string[] {
    const out = new Set<string>()
    for (const [member, atCommit] of p.writers) {
      const now = this.namesOf(member)
      addNames(out, now.length > 0 ? now : atCommit)
    }
    addNames(out, p.authors)
    return [...out]
  }

  private cancelTimer(): void {
    this.timer?.cancel()
    this.timer = null
  }

  /**
   * Sets the timer for the next version: when the room will have been quiet `quietMs`, or when the
   * oldest pending change is `maxIntervalMs` old, whichever comes first — not before `notBefore`.
   * Due already: saves now.
   */
  private arm(): void {
    this.cancelTimer()
    if (this.stopped || this.pending.changes === 0) return
    if (this.saving) {
      this.again = true
      return
    }
    const { quietMs, maxIntervalMs } = this.deps.settings
    const due = Math.max(
      this.notBefore,
      Math.min(this.lastChangeAt + quietMs, this.pending.since + maxIntervalMs),
    )
    const wait = due - this.deps.clock.now()
    if (wait <= 0) {
      void this.save()
      return
    }
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = null
      void this.save()
    }, wait)
  }

  /** One attempt at a version; then the timer for the next, if changes are pending. */
  private save(): Promise<void> {
    if (this.saving) {
      this.again = true
      return this.saving
    }
    this.saving = this.attempt().finally(() => {
      this.saving = null
      if (this.again) {
        this.again = false
        this.arm()
      }
    })
    return this.saving
  }

  private async attempt(): Promise<void> {
    const { deps } = this
    const { spaceId, settings, clock, logger } = deps
    if (this.stopped || this.pending.changes === 0) return
    // HIST-5: only what is committed — the document must hold nothing else when it is copied
    if (!deps.settled()) await deps.whenCommitted()
    if (this.stopped) return
    if (!deps.settled()) {
      // still writes in flight (a steady stream, or another instance's changes not acknowledged yet)
      this.retryLater()
      return
    }
    const taken = this.pending
    const at = clock.now()
    const state = deps.snapshot()
    this.pending = nothingPending()
    try {
      await settings.store.saveVersion(spaceId, {
        at,
        changes: taken.changes,
        authors: this.authorsOf(taken),
        state,
      })
    } catch (e) {
      // HIST-6: sync goes on; the changes wait for the next attempt, with what came meanwhile
      const later = this.pending
      this.pending = taken
      this.pending.changes += later.changes
      this.addAuthors(this.pending, later.authors)
      for (const [member, names] of later.writers) this.addWriter(this.pending, member, names)
      logger.warn(
        { spaceId, changes: this.pending.changes, err: e instanceof Error ? e.message : String(e) },
        'saving a version of the space failed; trying again later',
      )
      this.retryLater()
      return
    }
    this.notBefore = 0
    logger.debug({ spaceId, changes: taken.changes, bytes: state.byteLength }, 'version saved')
    await this.prune(at)
  }

  /** The next attempt waits `quietMs` at least: a failing or busy store is not asked at every commit. */
  private retryLater(): void {
    this.notBefore = this.deps.clock.now() + Math.max(1, this.deps.settings.quietMs)
    this.again = true
  }

  /** HIST-7: thins the space's versions after a save; a failure is logged, and tried after the next. */
  private async prune(now: number): Promise<void> {
    const { spaceId, settings, logger } = this.deps
    try {
      const list = await settings.store.versions(spaceId, { limit: Number.MAX_SAFE_INTEGER })
      const drop = versionsToDrop(list, now, settings.policy)
      if (drop.length > 0) await settings.store.deleteVersions(spaceId, drop)
    } catch (e) {
      logger.warn(
        { spaceId, err: e instanceof Error ? e.message : String(e) },
        'pruning the versions of the space failed',
      )
    }
  }
}
