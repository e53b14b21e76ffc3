/**
 * An Automerge space's document (document.ts; docs/decisions/0002): merge's `AutomergeEngine`, which
 * checks every change of an update before it applies any (BAD-1…7) and applies without a copy. This
 * module is imported only when a room of an Automerge space opens, so a server that serves only Yjs
 * spaces never loads Automerge's WebAssembly.
 *
 * - A writer is an actor; its clock is its highest sequence number (each change of an actor depends
 *   on the one before, BAD-5), so the durable ack is a version vector as on Yjs.
 * - A client's update that builds on changes the room lacks is refused (MissingDependencies), as on
 *   Yjs. One from a trusted place — another instance, storage read back — waits instead (DOC-3), up
 *   to `MAX_WAITING_UPDATES`, and is applied once what it builds on arrives; past that the oldest is
 *   dropped, and the fan-out link's resync brings it again.
 * - Stored records are applied all at once: the log of several instances need not be in causal
 *   order. When that fails, record by record, in passes, so that one record's change may come after
 *   another that builds on it; a record that never applies is reported as corrupt.
 * - A snapshot is the saved document (DOC-5): Automerge's compressed columns, a fraction of its
 *   change list; it is read back as the list of its changes.
 */
import { AutomergeEngine, isSavedDocument, savedChangeList, savedChanges } from '@converge/merge/automerge'
import {
  Origin,
  decodeList,
  decodeVersionVector,
  encodeList,
  encodeVersionVector,
  isMergeError,
} from '@converge/merge/validate'
import type { DocChange, PreparedUpdate, SpaceDocument, VersionVector, Writer } from './document.js'

/**
 * Trusted updates that may wait for what they build on, at most (DOC-3). Each arrival retries those
 * waiting, so the worst case (all in reverse order) costs this squared in attempts: kept small.
 */
export const MAX_WAITING_UPDATES = 256

/** A stored record as a change list: a snapshot (a saved document) is turned into its changes. */
const asList = (record: Uint8Array): Uint8Array => (isSavedDocument(record) ? savedChanges(record) : record)

/** The update that holds no change: an empty list. */
const EMPTY = encodeList([])

/** The actor of the server's replica: it never writes, only the engine's construction needs one. */
const SERVER_ACTOR = '5e'.repeat(16)

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export class AutomergeDocument implements SpaceDocument {
  readonly engine = 'automerge' as const
  private readonly am: AutomergeEngine
  private listener: ((change: DocChange, origin: unknown) => void) | null = null
  /** While an update is applied: its origin, and the version vector before it. */
  private applying: { origin: unknown; before: ReadonlyMap<string, number> } | null = null
  private waiting: { update: Uint8Array; origin: unknown }[] = []

  constructor(
    spaceId: string,
    private readonly maxWaiting = MAX_WAITING_UPDATES,
  ) {
    this.am = new AutomergeEngine(spaceId, SERVER_ACTOR)
    this.am.onChange((c) => {
      const at = this.applying
      if (!at) return // the server's replica makes no changes of its own
      this.listener?.({ update: c.update, before: at.before, after: this.am.versionVector() }, at.origin)
    })
  }

  onChange(listener: (change: DocChange, origin: unknown) => void): void {
    this.listener = listener
  }

  private applyAs(origin: unknown, apply: () => void): void {
    this.applying = { origin, before: this.am.versionVector() }
    try {
      apply()
    } finally {
      this.applying = null
    }
  }

  prepare(update: Uint8Array): PreparedUpdate {
    const prepared = this.am.prepareUpdate(update, 'all')
    return {
      summary: { structs: prepared.ops, deletions: 0 },
      apply: (origin) => {
        this.applyAs(origin, () => prepared.apply(Origin.Server))
        this.applyWaiting()
      },
    }
  }

  applyTrusted(record: Uint8Array, origin: unknown): void {
    const update = asList(record)
    try {
      this.applyAs(origin, () => this.am.applyUpdate(update, Origin.Server, 'structure'))
    } catch (e) {
      if (!isMergeError(e, 'MissingDependencies')) throw e
      if (this.waiting.length >= this.maxWaiting) this.waiting.shift()
      this.waiting.push({ update, origin })
      return
    }
    this.applyWaiting()
  }

  /** Applies the waiting updates whose dependencies have arrived, until none more applies. */
  private applyWaiting(): void {
    let progress = this.waiting.length > 0
    while (progress) {
      progress = false
      for (const w of [...this.waiting]) {
        try {
          this.applyAs(w.origin, () => this.am.applyUpdate(w.update, Origin.Server, 'structure'))
        } catch (e) {
          if (isMergeError(e, 'MissingDependencies')) continue
        }
        // applied, or never will be: it waits no more
        this.waiting = this.waiting.filter((x) => x !== w)
        progress = true
      }
    }
  }

  load(records: readonly Uint8Array[], origin: unknown): { index: number; err: string }[] {
    const corrupt: { index: number; err: string }[] = []
    const lists: { index: number; changes: Uint8Array[] }[] = []
    for (const [index, record] of records.entries()) {
      try {
        // a snapshot's changes straight from the saved document, without a list encoded to be decoded
        const changes = isSavedDocument(record) ? savedChangeList(record) : decodeList(record, 'update')
        lists.push({ index, changes })
      } catch (e) {
        corrupt.push({ index, err: message(e) })
      }
    }
    try {
      this.applyAs(origin, () =>
        this.am.applyUpdate(encodeList(lists.flatMap((l) => l.changes)), Origin.Server, 'structure'),
      )
      return corrupt
    } catch {
      // one record spoils the whole: record by record, in passes
    }
    let left = lists
    for (let progress = true; progress && left.length > 0;) {
      progress = false
      const next: typeof left = []
      for (const l of left) {
        try {
          this.applyAs(origin, () => this.am.applyUpdate(encodeList(l.changes), Origin.Server, 'structure'))
          progress = true
        } catch (e) {
          if (isMergeError(e, 'MissingDependencies')) next.push(l)
          else corrupt.push({ index: l.index, err: message(e) })
        }
      }
      left = next
    }
    for (const l of left) corrupt.push({ index: l.index, err: 'it builds on changes no record holds' })
    return corrupt.sort((a, b) => a.index - b.index)
  }

  stateVector(): Uint8Array {
    return this.am.stateVector()
  }

  digest(): Uint8Array {
    return this.am.stateDigest()
  }

  clock(writer: Writer): number {
    return typeof writer === 'string' ? this.am.seqOf(writer) : 0
  }

  decodeVector(bytes: Uint8Array): Map<Writer, number> {
    return decodeVersionVector(bytes)
  }

  encodeVector(vector: VersionVector): Uint8Array {
    const actors = new Map<string, number>()
    for (const [w, clock] of vector) if (typeof w === 'string') actors.set(w, clock)
    return encodeVersionVector(actors)
  }

  diff(vector?: Uint8Array): Uint8Array {
    return this.am.encodeStateAsUpdate(vector)
  }

  snapshot(): Uint8Array {
    return this.am.save()
  }

  rangesOf(update: Uint8Array): { from: VersionVector; to: VersionVector } {
    return this.am.seqRanges(update)
  }

  merge(updates: readonly Uint8Array[]): Uint8Array {
    if (updates.length === 1) return updates[0]!
    return encodeList(updates.flatMap((u) => decodeList(u, 'update')))
  }

  isEmpty(update: Uint8Array): boolean {
    return update.length === EMPTY.length && update[0] === EMPTY[0]
  }

  writers(): number {
    return this.am.size().actors
  }

  size(): { structs: number; clients: number } {
    const { ops, actors } = this.am.size()
    return { structs: ops, clients: actors }
  }

  destroy(): void {
    this.am.destroy()
  }
}
