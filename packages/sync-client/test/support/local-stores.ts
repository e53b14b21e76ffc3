import * as Y from 'yjs'
import type { LocalStore } from '../../src/index.js'

type Origin = { clientId: number; clock: number } | null

/** A LocalStore in memory, with the same pending-count contract as the IndexedDB store. */
export class MemoryLocal implements LocalStore {
  records: { update: Uint8Array; origin: Origin }[] = []
  acked: Map<number, number> = new Map()
  /** What was asked of it, in order. */
  readonly calls: string[] = []
  load() {
    return Promise.resolve({ updates: this.records.map((r) => r.update) })
  }
  append(_s: string, update: Uint8Array, origin: Origin) {
    this.calls.push('append')
    this.records.push({ update, origin })
    return Promise.resolve()
  }
  compact() {
    this.calls.push('compact')
    return Promise.resolve()
  }
  setAcked(_s: string, sv: Uint8Array) {
    this.calls.push('setAcked')
    this.acked = Y.decodeStateVector(sv)
    return Promise.resolve()
  }
  pendingCount() {
    return Promise.resolve(
      this.records.filter((r) => r.origin && r.origin.clock > (this.acked.get(r.origin.clientId) ?? 0))
        .length,
    )
  }
}

/** A MemoryLocal whose writes can be held back, like an IndexedDB that trails a burst of changes. */
export class SlowLocal extends MemoryLocal {
  hold = false
  private held: (() => void)[] = []
  private wait(): Promise<void> {
    return this.hold ? new Promise<void>((r) => this.held.push(r)) : Promise.resolve()
  }
  release(): void {
    this.hold = false
    for (const f of this.held.splice(0)) f()
  }
  override async append(s: string, update: Uint8Array, origin: Origin) {
    await this.wait()
    return super.append(s, update, origin)
  }
  override async setAcked(s: string, sv: Uint8Array) {
    await this.wait()
    return super.setAcked(s, sv)
  }
}

/** A MemoryLocal that fails every append once `full` is set, like a device out of quota. */
export class FullLocal extends MemoryLocal {
  full = false
  override append(s: string, update: Uint8Array, origin: Origin) {
    if (this.full) {
      this.calls.push('append refused')
      return Promise.reject(new DOMException('disk full', 'QuotaExceededError'))
    }
    return super.append(s, update, origin)
  }
}
