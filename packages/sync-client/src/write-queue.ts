import { Origin, type Space } from '@converge/merge'
import { type EngineCodec, byWriterNumber, codecOf, ownClock } from './engine-codec.js'
import { type LocalStore, restoreSpace } from './local-store.js'
import type { ChangeOrigin } from './store/idb-store.js'
import type { PendingChange } from './store/records.js'
import { UnconfirmedChanges } from './unconfirmed-changes.js'

export interface WriteQueueOptions {
  /** null: no device storage, memory only from the start. */
  readonly store: LocalStore | null
  readonly spaceId: string
  /** Compact the space's log after this many writes by this tab (SYNC-9). */
  readonly compactEvery: number
  /** Compact when the space opens with more log records than this (LOCAL-4). */
  readonly compactOnOpen: number
  /**
   * A write's transaction completed, or the count was read again: `pending` and `unsaved` are current.
   * `change`: the local change that write stored, if it was one.
   */
  readonly onStored: (change: PendingChange | null) => void
  /** The first storage failure; nothing is written after it. */
  readonly onFailure: (e: unknown) => void
  /** How the space's engine reads an ack (ENG-2); default Yjs. */
  readonly codec?: EngineCodec
  /** The clock the times of pending changes are read on (PROBE-2, DIAG-1); default 0 (no times). */
  readonly now?: () => number
}

/**
 * What a session stores of a change to its document, by where it came from (SYNC-5, SYNC-9):
 * `undefined`, nothing — a restored change is stored already, another tab's is stored by the tab that
 * made it; `null`, stored but never pending — the server's; else a local change, pending until the
 * server confirms it, named by this replica's writer number and its clock after the change (ENG-2).
 */
export const storedAs = (space: Space, origin: unknown): ChangeOrigin | undefined => {
  if (origin === Origin.Restore || origin === Origin.Tab) return undefined
  if (origin === Origin.Server) return null
  return ownClock(space)
}

/**
 * A session's writes to the device's storage (SYNC-9, LOCAL-1…4). Each change is handed to the store in
 * the task it is made — never behind an earlier write, a compaction or a count: the store keeps them
 * in order (IndexedDB commits the transactions of one store in the order they were created). Only an
 * ack waits, for the writes issued before it, so it is never stored before a change it covers. What is
 * pending is counted in memory as writes complete (`UnconfirmedChanges`); the log is read for it only
 * on open and when asked to (`recount`). Every `compactEvery` writes it starts a compaction beside
 * the writes. The first failure (quota, the database upgraded or cleared by another tab) switches it
 * to memory only: it says so once and writes nothing more; the session goes on in memory.
 */
export class WriteQueue {
  /** Appends whose transaction has not completed, for acks to wait on (SYNC-9). */
  private readonly appends = new Set<Promise<void>>()
  /** Everything started and not settled (appends, acks, counts, compactions), for `flush`. */
  private readonly running = new Set<Promise<void>>()
  private readonly unconfirmed = new UnconfirmedChanges()
  private compacting = false
  private sinceCompaction = 0
  private failedValue = false

  constructor(private readonly options: WriteQueueOptions) {}

  /** Whether storage failed and changes now live in memory only. */
  get failed(): boolean {
    return this.failedValue
  }

  /** The stored count of local changes the server has not confirmed (STORE-7), kept in memory. */
  get pending(): number {
    return this.unconfirmed.count
  }

  /**
   * When the oldest of the pending changes was made (`now` of the options), or null when none is
   * pending: PROBE-2's report and DIAG-1's age.
   */
  get oldestPendingAt(): number | null {
    return this.unconfirmed.oldestAt
  }

  /** Changes handed to the store whose transaction has not completed yet (LOCAL-2). */
  get unsaved(): number {
    return this.appends.size
  }

  /**
   * Opens what the device stored into `space` before anything is written (`restoreSpace`), reads what
   * is pending, and starts a compaction when the log is long (LOCAL-4); a store that fails here
   * switches to memory only like a failed write.
   */
  async restore(space: Space, onSkipped: (e: unknown) => void): Promise<void> {
    const store = this.options.store
    if (!store) return
    try {
      store.useEngine?.(this.options.spaceId, space.engineKind)
      const { records } = await restoreSpace(space, store, onSkipped)
      this.unconfirmed.merge(await store.unconfirmed(this.options.spaceId), this.now())
      if (records > this.options.compactOnOpen) this.compact(store)
    } catch (e) {
      this.fail(e)
    }
  }

  /**
   * Stores every change to `space` as `storedAs` says, in the task it is made; `onChange` after each
   * change but a restored one. Returns the way to stop.
   */
  follow(space: Space, onChange: () => void): () => void {
    return space.onUpdate((update, { origin }) => {
      if (origin === Origin.Restore) return
      const as = storedAs(space, origin)
      if (as !== undefined) this.append(update, as)
      onChange()
    })
  }

  /**
   * Hands an update to the store now; `origin` null for one that did not start here (never counted as
   * pending). It counts as unsaved until its transaction completed.
   */
  append(update: Uint8Array, origin: ChangeOrigin): void {
    const store = this.usable()
    if (!store) return
    const madeAt = this.now()
    let issued: Promise<void>
    try {
      issued = store.append(this.options.spaceId, update, origin)
    } catch (e) {
      issued = Promise.reject(e instanceof Error ? e : new Error(String(e), { cause: e }))
    }
    const written = issued.then(() => {})
    this.track(written)
    this.appends.add(written)
    void written
      .then(
        () => {
          this.appends.delete(written)
          if (origin) this.unconfirmed.add(origin, madeAt)
          this.options.onStored(origin)
          if (++this.sinceCompaction >= this.options.compactEvery) this.compact(store)
        },
        (e: unknown) => {
          this.appends.delete(written)
          this.fail(e)
        },
      )
      .catch((e: unknown) => this.fail(e))
  }

  /**
   * Stores the state vector the server committed, once every write issued before it completed (an ack
   * never lands before a change it covers, SYNC-9); the count drops by what it covers once it is stored.
   */
  setAcked(stateVector: Uint8Array): void {
    const store = this.usable()
    if (!store) return
    const before = [...this.appends]
    this.track(
      Promise.allSettled(before).then(async () => {
        if (this.failedValue) return
        try {
          await store.setAcked(this.options.spaceId, stateVector)
        } catch (e) {
          return this.fail(e)
        }
        this.unconfirmed.ack(this.ackedNumbers(stateVector))
        this.options.onStored(null)
      }),
    )
  }

  /**
   * Reads again what is pending (this tab now leads, or another tab stored changes it did not name):
   * one read of the log, joined with what is counted.
   */
  recount(): void {
    const store = this.usable()
    if (!store) return
    this.track(
      store.unconfirmed(this.options.spaceId).then(
        (u) => {
          this.unconfirmed.merge(u, this.now())
          this.options.onStored(null)
        },
        (e: unknown) => this.fail(e),
      ),
    )
  }

  /** Another tab stored these changes of its own (its `stored` message): counted without a read. */
  countStored(changes: readonly PendingChange[]): void {
    const at = this.now()
    for (const c of changes) this.unconfirmed.add(c, at)
  }

  /** Has the store issue at once what it holds back for the end of this task (the page is going). */
  flushBuffered(): void {
    if (!this.failedValue) this.options.store?.flushAppends?.()
  }

  /**
   * Resolves once everything started before it — writes, acks, counts — has settled, and what their
   * completion started (a compaction). Two rounds, not "until nothing runs": a stream of changes
   * arriving meanwhile does not hold it (`destroy` flushes while the server may still be sending).
   */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.running])
    await Promise.allSettled([...this.running])
  }

  /** A compaction beside the writes, one at a time: appends never wait for it (STORE-19). */
  private compact(store: LocalStore): void {
    if (this.compacting || this.failedValue) return
    this.compacting = true
    this.sinceCompaction = 0
    this.track(
      store
        .compact(this.options.spaceId)
        .catch((e: unknown) => this.fail(e))
        .finally(() => (this.compacting = false)),
    )
  }

  /** An ack's vector by the writer numbers the store counts changes by (ENG-2); nothing when it does not decode. */
  private ackedNumbers(stateVector: Uint8Array): Map<number, number> {
    const codec = this.options.codec ?? codecOf('yjs')
    try {
      return byWriterNumber(codec, codec.decodeVector(stateVector))
    } catch {
      return new Map() // an ack this engine cannot read confirms nothing
    }
  }

  private now(): number {
    return this.options.now?.() ?? 0
  }

  private usable(): LocalStore | null {
    return this.failedValue ? null : this.options.store
  }

  /** Keeps `p` in `running` until it settles (its outcome is handled where it was made). */
  private track(p: Promise<unknown>): void {
    const settled = p.then(
      () => {},
      () => {},
    )
    this.running.add(settled)
    void settled.then(() => this.running.delete(settled))
  }

  private fail(e: unknown): void {
    if (this.failedValue) return
    this.failedValue = true
    this.options.onFailure(e)
  }
}
