import type { LocalStore, Unconfirmed } from '@converge/sync-client'
import * as Y from 'yjs'

type StoredOrigin = { readonly clientId: number; readonly clock: number } | null

/**
 * A device's storage in memory (the simulation's IndexedDB): the same contract as `IdbStore` —
 * an append is durable once its promise resolves, `unconfirmed` lists the local changes the
 * server's last acknowledged state vector does not cover, and a compaction merges the log into one
 * record without losing what is pending. It survives a "reload" of the page (a new session on the
 * same store), as IndexedDB does.
 */
export class DeviceStore implements LocalStore {
  private records: { update: Uint8Array; origin: StoredOrigin }[] = []
  private acked = new Map<number, number>()

  load(): Promise<{ updates: Uint8Array[]; records: number }> {
    return Promise.resolve({
      updates: this.records.map((r) => r.update.slice()),
      records: this.records.length,
    })
  }

  append(_spaceId: string, update: Uint8Array, origin: StoredOrigin): Promise<void> {
    this.records.push({ update: update.slice(), origin })
    return Promise.resolve()
  }

  compact(): Promise<void> {
    if (this.records.length < 2) return Promise.resolve()
    const pending = this.records.filter((r) => r.origin !== null)
    const merged = Y.mergeUpdates(this.records.map((r) => r.update))
    // the merged record carries the data; the pending markers keep the count (as IdbStore's snapshot does)
    this.records = [
      { update: merged, origin: null },
      ...pending.map((r) => ({ update: new Uint8Array([0, 0]), origin: r.origin })),
    ]
    return Promise.resolve()
  }

  setAcked(_spaceId: string, stateVector: Uint8Array): Promise<void> {
    this.acked = Y.decodeStateVector(stateVector)
    return Promise.resolve()
  }

  unconfirmed(): Promise<Unconfirmed> {
    const byClient = new Map<number, Set<number>>()
    for (const { origin } of this.records)
      if (origin !== null && origin.clock > (this.acked.get(origin.clientId) ?? 0))
        byClient.set(origin.clientId, (byClient.get(origin.clientId) ?? new Set()).add(origin.clock))
    const pending = [...byClient].map(([clientId, clocks]) => ({ clientId, clocks: [...clocks] }))
    return Promise.resolve({ acked: new Map(this.acked), pending })
  }
}
