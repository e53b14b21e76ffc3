/**
 * What a loaded space costs in memory, and the process-wide budget of loaded spaces (SPEC.md MEM-1…3).
 *
 * A Yjs document in memory is its structs: every item is an object with its id, neighbours, parent
 * and content, a few hundred bytes however small what it holds. A stored update of a million one-
 * character items is ~20 MB on disk and ~450 MB in memory. So a space is measured by its *struct
 * count*, not by its stored size; `test/memory.test.ts` measures the real heap of pathological
 * documents against this estimate.
 */
import type * as Y from 'yjs'

/**
 * Heap bytes per struct, measured (test/memory.test.ts, Node 20, Yjs 13.6): 210 for characters typed
 * backwards, ~460 for one map entry per key, ~430 for one struct per client. Rounded up.
 */
export const BYTES_PER_STRUCT = 512
/**
 * Heap bytes per client of a document (its entry in the store and its struct array): one struct per
 * client measured ~675 bytes in all, so ~250 above a struct. Doubled for headroom.
 */
export const BYTES_PER_CLIENT = 512
/**
 * Before a space is loaded only its stored size is known: its heap is assumed to be at most this many
 * times that (measured up to 27× for one struct per client; text typed in order is ~3×).
 */
export const HEAP_PER_STORED_BYTE = 32

export interface DocSize {
  readonly structs: number
  readonly clients: number
  /** Stored bytes: the content (strings, values) is at most about this much again. */
  readonly storedBytes: number
}

/** MEM-1: the estimated heap of a loaded space. */
export const estimateHeap = ({ structs, clients, storedBytes }: DocSize): number =>
  structs * BYTES_PER_STRUCT + clients * BYTES_PER_CLIENT + storedBytes

/** The exact struct and client count of a document (O(clients)). */
export const countStructs = (doc: Y.Doc): { structs: number; clients: number } => {
  let structs = 0
  for (const list of doc.store.clients.values()) structs += list.length
  return { structs, clients: doc.store.clients.size }
}

/**
 * MEM-2: what a space may grow to. `bound` is an upper bound of the document's struct count, kept
 * without walking the document: each struct an update brings adds one and may split two more (its
 * neighbours), each deleted range may split two. Merges and garbage collection only lower the real
 * count, so the bound drifts up; it is recounted exactly before it refuses anything.
 */
export class StructBudget {
  private bound = 0
  private clients = 0
  private stale = false

  constructor(
    private readonly doc: { size(): { structs: number; clients: number } },
    private readonly maxStructs: number,
  ) {}

  /** The document changed in a way not counted (loaded, or from another instance): recount when asked. */
  recount(): void {
    const { structs, clients } = this.doc.size()
    this.bound = structs
    this.clients = clients
    this.stale = false
  }

  markStale(): void {
    this.stale = true
  }

  get size(): { structs: number; clients: number } {
    if (this.stale) this.recount()
    return { structs: this.bound, clients: this.clients }
  }

  /** How many structs at most an update of `structs` structs and `deletions` ranges adds. */
  static growth(structs: number, deletions: number): number {
    return structs * 3 + deletions * 2
  }

  /** Whether the document may take `growth` more structs. */
  admits(growth: number): boolean {
    if (this.stale || this.bound + growth > this.maxStructs) this.recount()
    return this.bound + growth <= this.maxStructs
  }

  /** An admitted update was applied. */
  grew(growth: number, clientsAfter: number): void {
    this.bound += growth
    this.clients = clientsAfter
  }
}

/** Why a client update may not be applied although it is valid (MEM-2, MEM-3). */
export type Growth =
  { readonly ok: true; readonly structs: number } | { readonly ok: false; readonly why: 'structs' | 'memory' }

/**
 * MEM-2, MEM-3: whether a validated update of this size may be applied — within the space's struct
 * budget first, then within the process's memory budget (when the room has one), at
 * BYTES_PER_STRUCT per struct it may add.
 */
export function admitGrowth(
  summary: { structs: number; deletions: number },
  budget: StructBudget,
  memory?: Pick<SpaceMemory, 'fits'>,
): Growth {
  const structs = StructBudget.growth(summary.structs, summary.deletions)
  if (!budget.admits(structs)) return { ok: false, why: 'structs' }
  if (memory && !memory.fits(structs * BYTES_PER_STRUCT)) return { ok: false, why: 'memory' }
  return { ok: true, structs }
}

/**
 * MEM-3: what a room is given of the process's memory budget. Before the stored state is applied,
 * the core reserves its estimated heap (and throws `MemoryBudgetExceeded` when it does not fit);
 * after every change, the room reports its estimate.
 */
export interface SpaceMemory {
  admitLoad(spaceId: string, estimate: number): Promise<void>
  fits(extra: number): boolean
  set(spaceId: string, estimate: number): void
}

/** Refused: loading the space would take the process past its memory budget (closed with 1013, retry later). */
export class MemoryBudgetExceeded extends Error {
  override readonly name = 'MemoryBudgetExceeded'
}

/**
 * MEM-3: the process-wide budget of loaded spaces. Each loaded space holds a reservation (its
 * estimated heap, updated as it grows); a space is loaded only if its reservation fits.
 */
export class MemoryBudget {
  private readonly held = new Map<string, number>()
  private total = 0

  constructor(readonly limit: number) {}

  get used(): number {
    return this.total
  }

  /** Whether `bytes` more would fit. */
  fits(bytes: number): boolean {
    return this.total + bytes <= this.limit
  }

  /** Holds `bytes` for `spaceId` (replacing what it held). */
  set(spaceId: string, bytes: number): void {
    this.total += bytes - (this.held.get(spaceId) ?? 0)
    this.held.set(spaceId, bytes)
  }

  release(spaceId: string): void {
    this.total -= this.held.get(spaceId) ?? 0
    this.held.delete(spaceId)
  }

  heldBy(spaceId: string): number {
    return this.held.get(spaceId) ?? 0
  }
}
