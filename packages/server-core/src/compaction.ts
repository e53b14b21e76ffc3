/**
 * Compaction: when a space's log is replaced by a snapshot, and what that snapshot may claim
 * (SPEC.md COMMIT-4, CORE-4, CORE-13).
 *
 * After a commit that leaves nothing queued, once `compactEveryUpdates` updates or
 * `compactEveryBytes` bytes were appended since the last snapshot, the room writes a snapshot of its
 * document and drops the log through the last position it appended. On shared storage
 * (`persistence.shared`: other instances write the same space) the document may lack what they
 * committed, so it first re-reads storage and merges it (origin `Origin.CatchUp`), and compacts only
 * through the position it read — never dropping an update it has not seen. A space with a stored
 * record that does not decode is never compacted: the record stays for repair.
 */
import { Origin } from '@converge/merge/validate'
import type { SpaceDocument, Writer } from './document.js'
import type { CoreEvents } from './events.js'
import type { Limits } from './limits.js'
import type { Logger, Persistence, StoredSpace } from './ports.js'

export interface CompactionDeps {
  readonly spaceId: string
  readonly doc: SpaceDocument
  readonly persistence: Persistence
  readonly limits: Pick<Limits, 'compactEveryUpdates' | 'compactEveryBytes'>
  readonly logger: Logger
  readonly events: CoreEvents
}

/** A snapshot written: its size, and the state it stores (all of it durable unless storage is shared). */
export interface Compacted {
  readonly bytes: number
  readonly holds: Map<Writer, number>
  /** Whether other instances write the same storage: then only their own acks say what they stored. */
  readonly shared: boolean
}

export class Compaction {
  private updatesSince = 0
  private bytesSince = 0
  private disabled = false

  constructor(private readonly deps: CompactionDeps) {}

  /** What the load found: the log since the last snapshot, and whether a record did not decode. */
  loaded(stored: StoredSpace, corrupt: boolean): void {
    this.updatesSince = stored.updates.length
    this.bytesSince = stored.bytes - (stored.snapshot?.length ?? 0)
    this.disabled = corrupt
  }

  /** A commit appended `updates` updates of `bytes` bytes. */
  appended(updates: number, bytes: number): void {
    this.updatesSince += updates
    this.bytesSince += bytes
  }

  get due(): boolean {
    const { limits } = this.deps
    return (
      !this.disabled &&
      (this.updatesSince >= limits.compactEveryUpdates || this.bytesSince >= limits.compactEveryBytes)
    )
  }

  /**
   * Writes a snapshot of the document through `lastSeq` (this instance's last append) — or, on
   * shared storage, through what it re-read. Null when it failed: the log is still there, so nothing
   * is lost; it is tried again after more updates.
   */
  async run(lastSeq: number): Promise<Compacted | null> {
    const { spaceId, doc, persistence } = this.deps
    const shared = persistence.shared === true
    let compacted: Compacted
    try {
      let throughSeq = lastSeq
      if (shared) {
        const stored = await persistence.load(spaceId)
        if (stored.snapshot) doc.applyTrusted(stored.snapshot, Origin.CatchUp)
        for (const u of stored.updates) doc.applyTrusted(u, Origin.CatchUp)
        throughSeq = stored.lastSeq
      }
      const snapshot = doc.snapshot()
      const holds = doc.decodeVector(doc.stateVector())
      await persistence.compact(spaceId, snapshot, throughSeq)
      compacted = { bytes: snapshot.length, holds, shared }
    } catch (e) {
      this.deps.logger.warn({ spaceId, err: String(e) }, 'compaction failed')
      return null
    }
    this.deps.events.compacted?.(spaceId, compacted.bytes)
    this.updatesSince = 0
    this.bytesSince = 0
    return compacted
  }
}
