import * as Y from 'yjs'

/** Per Yjs client id, the clock range `[from, to)` of structs that an update or a commit holds. */
export type ClockRange = readonly [client: number, from: number, to: number]

/**
 * A set of clock ranges per Yjs client id: a contiguous prefix `[0, clock)` plus ranges beyond it
 * that are not yet contiguous with it. Only the prefix is ever claimed (`encode`, `clock`) — a state
 * vector says "everything below this clock", so a gap must never be claimed (ACK-1).
 *
 * The room keeps two: what is committed (`DurableAcks`, what acks claim) and what is committed or
 * queued for commit (`CommitPipeline`, what a client update need not store again). A document's own
 * state vector cannot stand in for either: with fan-out, the document holds updates another instance
 * relayed but may not have committed yet (it can crash first).
 */
export class ClockRanges {
  private readonly prefix = new Map<number, number>()
  /** Per client, ranges `[from, to)` above the prefix, sorted and disjoint. */
  private readonly beyond = new Map<number, [number, number][]>()

  /** Everything below each clock of `stateVector` is in (a load, another instance's ack). Returns whether the prefix advanced. */
  raise(stateVector: ReadonlyMap<number, number>): boolean {
    let advanced = false
    for (const [client, clock] of stateVector) advanced = this.add(client, 0, clock) || advanced
    return advanced
  }

  /** `[from, to)` of `client` is in. Returns whether the prefix advanced. */
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

  /** Adds every range; returns whether the prefix advanced. */
  addAll(ranges: Iterable<ClockRange>): boolean {
    let advanced = false
    for (const [client, from, to] of ranges) advanced = this.add(client, from, to) || advanced
    return advanced
  }

  /** Whether every struct of an update (its per-client `[from, to)`, `Y.parseUpdateMeta`) is in. */
  covers(meta: { from: ReadonlyMap<number, number>; to: ReadonlyMap<number, number> }): boolean {
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

  /** The end of the contiguous prefix of `client`. */
  clock(client: number): number {
    return this.prefix.get(client) ?? 0
  }

  /** The contiguous prefix, encoded as a Yjs state vector. */
  encode(): Uint8Array {
    return Y.encodeStateVector(this.prefix)
  }
}
