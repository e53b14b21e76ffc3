/**
 * A Yjs space's document (document.ts): a `Y.Doc` with garbage collection, validated by
 * `validateYjsUpdate` (merge BAD-1…7), its turns joined by RELAY-5's copying join.
 */
import { validateYjsUpdate, yjsStateDigest } from '@converge/merge/validate'
import * as Y from 'yjs'
import type { DocChange, PreparedUpdate, SpaceDocument, VersionVector, Writer } from './document.js'
import { countStructs } from './memory.js'
import { isEmptyUpdate, mergeAll } from './updates.js'

export class YjsDocument implements SpaceDocument {
  readonly engine = 'yjs' as const
  // a guid of our own: Yjs's default is a random uuid (31 crypto calls), only subdocuments use it
  readonly doc = new Y.Doc({ gc: true, guid: 'room' })

  constructor(private readonly spaceId: string) {}

  onChange(listener: (change: DocChange, origin: unknown) => void): void {
    this.doc.on(
      'update',
      (
        update: Uint8Array,
        origin: unknown,
        _doc: Y.Doc,
        tr: { beforeState: Map<number, number>; afterState: Map<number, number> },
      ) => listener({ update, before: tr.beforeState, after: tr.afterState }, origin),
    )
  }

  prepare(update: Uint8Array): PreparedUpdate {
    const summary = validateYjsUpdate(update, { doc: this.doc, spaceId: this.spaceId })
    return { summary, apply: (origin) => Y.applyUpdate(this.doc, update, origin) }
  }

  applyTrusted(update: Uint8Array, origin: unknown): void {
    Y.applyUpdate(this.doc, update, origin)
  }

  load(records: readonly Uint8Array[], origin: unknown): { index: number; err: string }[] {
    const corrupt: { index: number; err: string }[] = []
    for (const [index, update] of records.entries()) {
      try {
        Y.applyUpdate(this.doc, update, origin)
      } catch (e) {
        corrupt.push({ index, err: e instanceof Error ? e.message : String(e) })
      }
    }
    return corrupt
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  digest(): Uint8Array {
    return yjsStateDigest(this.doc)
  }

  clock(writer: Writer): number {
    return typeof writer === 'number' ? Y.getState(this.doc.store, writer) : 0
  }

  decodeVector(bytes: Uint8Array): Map<Writer, number> {
    return Y.decodeStateVector(bytes)
  }

  encodeVector(vector: VersionVector): Uint8Array {
    return Y.encodeStateVector(vector as Map<number, number>)
  }

  diff(vector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, vector)
  }

  snapshot(): Uint8Array {
    return this.diff()
  }

  rangesOf(update: Uint8Array): { from: VersionVector; to: VersionVector } {
    return Y.parseUpdateMeta(update)
  }

  merge(updates: readonly Uint8Array[]): Uint8Array {
    return mergeAll(updates)
  }

  isEmpty(update: Uint8Array): boolean {
    return isEmptyUpdate(update)
  }

  writers(): number {
    return this.doc.store.clients.size
  }

  size(): { structs: number; clients: number } {
    return countStructs(this.doc)
  }

  destroy(): void {
    this.doc.destroy()
  }
}
