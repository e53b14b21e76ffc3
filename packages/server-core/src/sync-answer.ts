/**
 * The answer to sync-step1 (SPEC.md ANSWER-1, ANSWER-2): encoded once per document version and
 * state vector, and shared by every connection that asks the same — however often a client, or a
 * thousand clients, ask for the whole document, it is encoded once until the document changes.
 *
 * A state vector is first reduced to what it says about this document (clients the document does
 * not know, and clocks past what it holds, change nothing in the answer), so an empty vector, a
 * vector of made-up clients and a stale vector of a fresh device all share the full-state answer.
 */
import { encodeMessage } from '@converge/protocol'
import type { SpaceDocument, Writer } from './document.js'

/** Distinct answers kept per document version; past it the oldest is dropped. */
export const ANSWERS_PER_VERSION = 16

export class SyncAnswers {
  private readonly cache = new Map<string, Uint8Array>()
  private encoded = 0

  constructor(private readonly doc: SpaceDocument) {}

  /** The document changed: every answer is stale. */
  changed(): void {
    this.cache.clear()
  }

  /** How many answers were encoded (not served from the cache) since the room loaded. */
  get encodings(): number {
    return this.encoded
  }

  /** The sync-step2 frame that answers `stateVector`. Throws when the vector does not decode. */
  frameFor(stateVector: Uint8Array): Uint8Array {
    const sv = this.doc.decodeVector(stateVector)
    const key = this.keyOf(sv)
    const cached = this.cache.get(key)
    if (cached) return cached
    const frame = encodeMessage({ type: 'sync-step2', update: this.doc.diff(stateVector) })
    this.encoded++
    if (this.cache.size >= ANSWERS_PER_VERSION) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(key, frame)
    return frame
  }

  /** What the vector says about this document: `client:clock` for each client it has seen part of. */
  private keyOf(sv: Map<Writer, number>): string {
    if (sv.size === 0) return ''
    const parts: string[] = []
    for (const [client, clock] of sv) {
      const state = this.doc.clock(client)
      if (state === 0 || clock <= 0) continue
      parts.push(`${client}:${Math.min(clock, state)}`)
    }
    return parts.sort().join(',')
  }
}
