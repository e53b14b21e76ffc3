import { type EngineKind, Origin, type Space, isMergeError } from '@converge/merge'
import type { ChangeOrigin } from './store/idb-store.js'
import type { Unconfirmed } from './store/records.js'

/**
 * What a session needs of the device's storage: `IdbStore` implements it; a session without one
 * (null) keeps its changes in memory only.
 */
export interface LocalStore {
  /** `records`: how many log records the updates came from (the snapshot aside), a compaction hint. */
  load(spaceId: string): Promise<{ updates: Uint8Array[]; records?: number }>
  /**
   * Resolves once the update is durable on the device. Called without waiting for earlier appends
   * (LOCAL-1): the store keeps them in the order they were made. `origin`: this replica's Yjs client
   * id and its clock after the change; null for one made elsewhere.
   */
  append(spaceId: string, update: Uint8Array, origin: ChangeOrigin): Promise<void>
  /** Must not hold back appends issued while it runs for longer than a short write (STORE-19). */
  compact(spaceId: string): Promise<void>
  setAcked(spaceId: string, stateVector: Uint8Array): Promise<void>
  /**
   * The stored local changes the server has not confirmed, and the stored ack (STORE-7). It reads the
   * whole log: a session asks when it opens and when its tab starts to lead, never per write (LOCAL-3).
   */
  unconfirmed(spaceId: string): Promise<Unconfirmed>
  /** Issues now what appends of this task it holds back for the end of the task (the page is going). */
  flushAppends?(): void
  /** ENG-3: the space's engine, said before anything of it is read (what its records decode as). */
  useEngine?(spaceId: string, engine: EngineKind): void
}

/** What `restoreSpace` found: the log's length, to compact a long one (LOCAL-4). */
export interface Restored {
  readonly records: number
}

/**
 * Opens what this device stored of a space into `space` (SYNC-5): record by record, each with
 * `Origin.Restore`, so nothing loaded is written back or sent again. A record that builds on one
 * stored after it (two tabs writing) waits for the next pass (DLV-2); a record that does not apply is
 * skipped and reported through `onSkipped`, and left in storage. Rejects when the store itself fails.
 */
export const restoreSpace = async (
  space: Space,
  store: LocalStore,
  onSkipped: (e: unknown) => void,
): Promise<Restored> => {
  const { updates, records } = await store.load(space.id)
  const { refused, waiting } = applyInPasses(space, updates)
  for (const e of refused) onSkipped(e)
  if (waiting !== null) onSkipped(waiting)
  return { records: records ?? updates.length }
}

/**
 * Applies stored records to `space` with `Origin.Restore`, in passes: a record that builds on one
 * stored after it (two tabs writing) waits for the next pass (DLV-2). Returns the MergeErrors of the
 * records refused for anything else, and the last error of those still waiting once a pass applied
 * none of them (null when none is left waiting). Throws what is not a MergeError.
 */
export const applyInPasses = (
  space: Space,
  updates: readonly Uint8Array[],
): { refused: unknown[]; waiting: unknown } => {
  const refused: unknown[] = []
  let left = updates
  for (;;) {
    const waiting: Uint8Array[] = []
    let lastError: unknown = null
    for (const u of left) {
      try {
        space.applyUpdate(u, Origin.Restore)
      } catch (e) {
        if (!isMergeError(e)) throw e
        if (isMergeError(e, 'MissingDependencies')) waiting.push(u)
        else refused.push(e)
        lastError = e
      }
    }
    if (waiting.length === 0 || waiting.length === left.length)
      return { refused, waiting: waiting.length > 0 ? lastError : null }
    left = waiting
  }
}
