import * as Y from 'yjs'
import type { LocalStore, Unconfirmed } from '../../src/index.js'

type Origin = { clientId: number; clock: number } | null

/** A LocalStore in memory, with the same pending-count contract as the IndexedDB store. */
export class MemoryLocal implements LocalStore {
  records: { update: Uint8Array; origin: Origin }[] = []
  acked: Map<number, number> = new Map()
  /** What was written to it, in order. */
  readonly calls: string[] = []
  /** How often the whole log was read to count what is pending (`unconfirmed`). */
  reads = 0
  load() {
    return Promise.resolve({ updates: this.records.map((r) => r.update), records: this.records.length })
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
  unconfirmed(): Promise<Unconfirmed> {
    this.reads++
    const byClient = new Map<number, Set<number>>()
    for (const { origin } of this.records)
      if (origin && origin.clock > (this.acked.get(origin.clientId) ?? 0))
        byClient.set(origin.clientId, (byClient.get(origin.clientId) ?? new Set()).add(origin.clock))
    const pending = [...byClient].map(([clientId, clocks]) => ({ clientId, clocks: [...clocks] }))
    return Promise.resolve({ acked: new Map(this.acked), pending })
  }
  /** What is pending as stored (for assertions; not part of the port). */
  async pendingCount(): Promise<number> {
    const { pending } = await this.unconfirmed()
    this.reads--
    return pending.reduce((n, p) => n + p.clocks.length, 0)
  }
}

/**
 * A MemoryLocal whose writes can be held back, like an IndexedDB that trails a burst of changes; and
 * whose compactions can be held open (`holdCompaction`), like a long merge of a long log.
 */
export class SlowLocal extends MemoryLocal {
  hold = false
  holdCompaction = false
  private held: (() => void)[] = []
  private heldCompactions: (() => void)[] = []
  private wait(): Promise<void> {
    return this.hold ? new Promise<void>((r) => this.held.push(r)) : Promise.resolve()
  }
  release(): void {
    this.hold = false
    for (const f of this.held.splice(0)) f()
  }
  /** How many compactions are held open now. */
  get compacting(): number {
    return this.heldCompactions.length
  }
  releaseCompaction(): void {
    this.holdCompaction = false
    for (const f of this.heldCompactions.splice(0)) f()
  }
  override async compact() {
    if (this.holdCompaction) await new Promise<void>((r) => this.heldCompactions.push(r))
    return super.compact()
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
