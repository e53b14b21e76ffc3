import { Origin, type Space, isMergeError } from '@converge/merge'
import type { ChangeOrigin } from './store/idb-store.js'

/**
 * What a session needs of the device's storage: `IdbStore` implements it; a session without one
 * (null) keeps its changes in memory only.
 */
export interface LocalStore {
  load(spaceId: string): Promise<{ updates: Uint8Array[] }>
  /** `origin`: this replica's Yjs client id and its clock after the change; null for one made elsewhere. */
  append(spaceId: string, update: Uint8Array, origin: ChangeOrigin): Promise<void>
  compact(spaceId: string): Promise<void>
  setAcked(spaceId: string, stateVector: Uint8Array): Promise<void>
  /** Local changes stored that the server has not confirmed (STORE-7). */
  pendingCount(spaceId: string): Promise<number>
}

/**
 * Opens what this device stored of a space into `space` (SYNC-5): record by record, each with
 * `Origin.Restore`, so nothing loaded is written back or sent again. A record that builds on one
 * stored after it (two tabs writing) waits for the next pass (DLV-2); a record that does not apply is
 * skipped and reported through `onSkipped`, and left in storage. Resolves with the stored count of
 * unconfirmed changes; rejects when the store itself fails.
 */
export const restoreSpace = async (
  space: Space,
  store: LocalStore,
  onSkipped: (e: unknown) => void,
): Promise<number> => {
  const { updates } = await store.load(space.id)
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
        else onSkipped(e)
        lastError = e
      }
    }
    if (waiting.length === 0 || waiting.length === left.length) {
      if (waiting.length > 0) onSkipped(lastError)
      break
    }
    left = waiting
  }
  return store.pendingCount(space.id)
}
