/**
 * The room's document port (SPEC.md DOC-1…DOC-4; docs/decisions/0002): what the parts of a room need
 * of a space's CRDT document, so that one room, one commit pipeline and one durable ack serve Yjs
 * and Automerge spaces alike. Each engine says how its updates are validated, applied, joined and
 * measured, and how its version vectors travel:
 *
 * | | Yjs (`YjsDocument`) | Automerge (`automerge-document.ts`) |
 * | --- | --- | --- |
 * | writer | client id (number) | actor (hex string) |
 * | clock | the client's next clock | the actor's highest sequence number |
 * | vector on the wire | Yjs state vector | merge's version vector (actor bytes, seq) |
 * | update | Yjs update | a list of Automerge changes |
 * | a turn's updates joined | RELAY-5's copying join, else `Y.mergeUpdates` | the lists concatenated |
 * | what the budget counts | structs | operations |
 *
 * Both engines keep the one property the room depends on (DOC-1): a writer's clock only grows, and a
 * writer's change is held exactly when the document's clock of that writer is past it — so a set of
 * changes is summed up by a version vector, and "saved" is a comparison of two of them.
 */
import type { SpaceEngine } from './ports.js'
import { YjsDocument } from './yjs-document.js'

/** Who wrote a change: a Yjs client id or an Automerge actor. */
export type Writer = number | string

/** Per writer, a clock: everything below it is held (a state vector, a version vector). */
export type VersionVector = ReadonlyMap<Writer, number>

/** What one change of the document did: the update that carries it, each writer's clock before and after. */
export interface DocChange {
  readonly update: Uint8Array
  readonly before: VersionVector
  readonly after: VersionVector
}

/** What a validated update brings, for the space's budgets (memory.ts). */
export interface UpdateSummary {
  /** Structs (Yjs) or operations (Automerge) it adds. */
  readonly structs: number
  /** Deleted ranges (Yjs; 0 on Automerge, where a deletion is an operation). */
  readonly deletions: number
}

/** A client update that passed validation, not applied yet. */
export interface PreparedUpdate {
  readonly summary: UpdateSummary
  /** Applies it, once, before anything else changes the document; the change event names `origin`. */
  apply(origin: unknown): void
}

export interface SpaceDocument {
  readonly engine: SpaceEngine
  /** Every change, with the origin it was applied with (a member, `Origin.Load`, `Origin.FanOut`…). */
  onChange(listener: (change: DocChange, origin: unknown) => void): void
  /**
   * DOC-2: validates a client's update against the document and the domain (merge BAD-1…7) without
   * applying it. Throws MergeError — `MissingDependencies` when it builds on changes not held here.
   */
  prepare(update: Uint8Array): PreparedUpdate
  /**
   * DOC-3: applies an update from a trusted place (another instance, storage read back); what it
   * builds on and the document lacks waits until that arrives. Throws when it does not decode.
   */
  applyTrusted(update: Uint8Array, origin: unknown): void
  /**
   * DOC-3: applies the stored records in order (snapshot first); returns the indices of those that
   * do not decode, which are skipped.
   */
  load(records: readonly Uint8Array[], origin: unknown): { index: number; err: string }[]
  /** The document's own version vector, encoded for the wire. */
  stateVector(): Uint8Array
  /** PROBE-1 (merge digest.ts): a hash of the whole state, equal on replicas holding the same state. */
  digest(): Uint8Array
  /** The document's clock of `writer`. */
  clock(writer: Writer): number
  /** Reads a vector from the wire; throws when it does not decode. */
  decodeVector(bytes: Uint8Array): Map<Writer, number>
  encodeVector(vector: VersionVector): Uint8Array
  /** What a peer with `vector` lacks (everything when omitted): a sync-step2's update. */
  diff(vector?: Uint8Array): Uint8Array
  /**
   * DOC-5: the whole document as storage keeps it (a compaction's snapshot), which `load` and
   * `applyTrusted` read back: Yjs, `diff()`; Automerge, the saved document.
   */
  snapshot(): Uint8Array
  /** DOC-4: per writer, the clock range `[from, to)` an update holds. Throws when it does not decode. */
  rangesOf(update: Uint8Array): { from: VersionVector; to: VersionVector }
  /** One update holding all of `updates` (a relay turn). */
  merge(updates: readonly Uint8Array[]): Uint8Array
  /** Whether an update holds nothing at all. */
  isEmpty(update: Uint8Array): boolean
  /** How many writers the document holds changes of. */
  writers(): number
  /** Structs (operations) and writers held now, counted exactly. */
  size(): { structs: number; clients: number }
  destroy(): void
}

/** Opens an empty document of a space's engine; Automerge's is imported only when a space needs it. */
export async function openDocument(engine: SpaceEngine, spaceId: string): Promise<SpaceDocument> {
  if (engine === 'automerge') {
    const { AutomergeDocument } = await import('./automerge-document.js')
    return new AutomergeDocument(spaceId)
  }
  return new YjsDocument(spaceId)
}
