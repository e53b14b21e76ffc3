import * as Y from 'yjs'

/**
 * What is known to be stored, per Yjs client id: a contiguous prefix `[0, clock)` plus ranges stored
 * beyond it that are not yet contiguous with it. Only the prefix is ever acknowledged as durable —
 * a state vector says "everything below this clock", so a gap must never be claimed.
 *
 * Why a room needs this rather than its document's state vector: with fan-out, the document holds
 * updates that another instance relayed but may not have committed yet (it can crash first). Those
 * are not durable until some instance stores them.
 */
export class ClockRanges {
  private readonly prefix = new Map<number, number>()
  /** Per client, stored ranges `[from, to)` above the prefix, sorted and disjoint. */
  private readonly beyond = new Map<number, [number, number][]>()

  /** Everything below each clock of `stateVector` is stored (a load, another instance's ack). */
  raise(stateVector: ReadonlyMap<number, number>): boolean {
    let advanced = false
    for (const [client, clock] of stateVector) advanced = this.add(client, 0, clock) || advanced
    return advanced
  }

  /** `[from, to)` of `client` is stored. Returns whether the prefix advanced. */
  add(client: number, from: number, to: number): boolean {
    if (to <= from) return false
    const start = this.prefix.get(client) ?? 0
    if (from > start) {
      const list = this.beyond.get(client) ?? []
      list.push([from, to])
      list.sort((a, b) => a[0] - b[0])
      this.beyond.set(client, list)
      return false
    }
    if (to <= start) return false
    let clock = to
    const list = this.beyond.get(client)
    if (list) {
      while (list.length > 0 && list[0]![0] <= clock) clock = Math.max(clock, list.shift()![1])
      if (list.length === 0) this.beyond.delete(client)
    }
    this.prefix.set(client, clock)
    return true
  }

  /** Whether every struct of `update` (its per-client `[from, to)`) is already stored. */
  covers(meta: { from: Map<number, number>; to: Map<number, number> }): boolean {
    for (const [client, to] of meta.to) {
      const from = meta.from.get(client) ?? 0
      if (
        to > (this.prefix.get(client) ?? 0) &&
        !this.beyond.get(client)?.some(([a, b]) => a <= from && to <= b)
      )
        return false
    }
    return true
  }

  clock(client: number): number {
    return this.prefix.get(client) ?? 0
  }

  /** The acknowledged state: the contiguous prefix, encoded as a Yjs state vector. */
  encode(): Uint8Array {
    return Y.encodeStateVector(this.prefix)
  }
}
