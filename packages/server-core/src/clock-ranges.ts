import * as Y from 'yjs'
import type { VersionVector, Writer } from './document.js'

/**
 * Per writer (a Yjs client id, an Automerge actor), the clock range `[from, to)` of what an update or a
 * commit holds: structs on Yjs, sequence numbers on Automerge (document.ts).
 */
export type ClockRange = readonly [writer: Writer, from: number, to: number]

/**
 * A set of clock ranges per writer: a contiguous prefix `[0, clock)` plus ranges beyond it
 * that are not yet contiguous with it. Only the prefix is ever claimed (`encode`, `clock`) — a state
 * vector says "everything below this clock", so a gap must never be claimed (ACK-1).
 *
 * The room keeps two: what is committed (`DurableAcks`, what acks claim) and what is committed or
 * queued for commit (`CommitPipeline`, what a client update need not store again). A document's own
 * state vector cannot stand in for either: with fan-out, the document holds updates another instance
 * relayed but may not have committed yet (it can crash first).
 */
export class ClockRanges {
  private readonly prefix = new Map<Writer, number>()
  /** Per client, ranges `[from, to)` above the prefix, sorted and disjoint. */
  private readonly beyond = new Map<Writer, [number, number][]>()

  /** `encode`: how the prefix travels (the engine's vector encoding; Yjs's state vector by default). */
  constructor(
    private readonly encodeVector: (v: VersionVector) => Uint8Array = (v) =>
      Y.encodeStateVector(v as Map<number, number>),
  ) {}

  /** Everything below each clock of `stateVector` is in (a load, another instance's ack). Returns whether the prefix advanced. */
  raise(stateVector: VersionVector): boolean {
    let advanced = false
    for (const [client, clock] of stateVector) advanced = this.add(client, 0, clock) || advanced
    return advanced
  }

  /** `[from, to)` of `client` is in. Returns whether the prefix advanced. */
  add(client: Writer, from: number, to: number): boolean {
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

  /** Whether everything an update holds (its per-writer `[from, to)`, `SpaceDocument.rangesOf`) is in. */
  covers(meta: { from: VersionVector; to: VersionVector }): boolean {
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
  clock(client: Writer): number {
    return this.prefix.get(client) ?? 0
  }

  /** The contiguous prefix, encoded as the engine's vector. */
  encode(): Uint8Array {
    return this.encodeVector(this.prefix)
  }
}
