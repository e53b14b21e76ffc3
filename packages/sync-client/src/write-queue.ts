import type { Space } from '@converge/merge'
import { type LocalStore, restoreSpace } from './local-store.js'
import type { ChangeOrigin } from './store/idb-store.js'

export interface WriteQueueOptions {
  /** null: no device storage, memory only from the start. */
  readonly store: LocalStore | null
  readonly spaceId: string
  /** Compact the space's log after this many writes by this tab (SYNC-9). */
  readonly compactEvery: number
  /** After every write: the stored count of local changes the server has not confirmed. */
  readonly onStored: (pending: number) => void
  /** The first storage failure; nothing is written after it. */
  readonly onFailure: (e: unknown) => void
}

/**
 * A session's writes to the device's storage (SYNC-9): one after the other, in the order they were
 * made, so an ack is never stored before the change it covers. After every write it counts again what
 * is pending; every `compactEvery` writes it compacts the log. The first failure (quota, the database
 * upgraded or cleared by another tab) switches it to memory only: it says so once and writes nothing
 * more; the session goes on in memory.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private sinceCompaction = 0
  private failedValue = false
  private pendingValue = 0

  constructor(private readonly options: WriteQueueOptions) {}

  /** Whether storage failed and changes now live in memory only. */
  get failed(): boolean {
    return this.failedValue
  }

  /** The stored count of local changes the server has not confirmed, as of the last write or count. */
  get pending(): number {
    return this.pendingValue
  }

  /**
   * Opens what the device stored into `space` before anything is written (`restoreSpace`); a store
   * that fails here switches to memory only like a failed write.
   */
  async restore(space: Space, onSkipped: (e: unknown) => void): Promise<void> {
    const store = this.options.store
    if (!store) return
    try {
      this.pendingValue = await restoreSpace(space, store, onSkipped)
    } catch (e) {
      this.fail(e)
    }
  }

  /** Stores an update; `origin` null for one that did not start here (never counted as pending). */
  append(update: Uint8Array, origin: ChangeOrigin): void {
    this.write((store) => store.append(this.options.spaceId, update, origin))
  }

  /** Stores the state vector the server committed. */
  setAcked(stateVector: Uint8Array): void {
    this.write((store) => store.setAcked(this.options.spaceId, stateVector))
  }

  /** Counts again what is pending (another tab stored a change), outside the queue. */
  recount(): void {
    const store = this.options.store
    if (!store || this.failedValue) return
    void store
      .pendingCount(this.options.spaceId)
      .then((n) => {
        this.pendingValue = n
        this.options.onStored(n)
      })
      .catch((e: unknown) => this.fail(e))
  }

  private fail(e: unknown): void {
    if (this.failedValue) return
    this.failedValue = true
    this.options.onFailure(e)
  }

  /** Resolves once every write queued so far has finished. */
  async flush(): Promise<void> {
    await this.tail
  }

  private write(fn: (store: LocalStore) => Promise<unknown>): void {
    const store = this.options.store
    if (!store || this.failedValue) return
    this.tail = this.tail
      .then(() => fn(store))
      .then(async () => {
        if (++this.sinceCompaction >= this.options.compactEvery) {
          this.sinceCompaction = 0
          await store.compact(this.options.spaceId)
        }
        this.pendingValue = await store.pendingCount(this.options.spaceId)
        this.options.onStored(this.pendingValue)
      })
      .catch((e: unknown) => this.fail(e))
  }
}
