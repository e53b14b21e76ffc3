import * as Y from 'yjs'
import type { Engine, EngineChange, EngineWriter, MapName, Scalar, TextAnchor } from '../engine.js'
import { MergeError } from '../errors.js'
import { BODY_PREFIX, decodeStateVectorChecked, validateYjsUpdate } from './validate.js'

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

const describeOrigin = (origin: unknown): string => {
  if (typeof origin === 'string') return origin
  if (origin === null || origin === undefined) return 'unknown'
  const name = (origin as { constructor?: { name?: string } }).constructor?.name
  return name ?? 'unknown'
}

/** FNV-1a: a replica id's 32-bit hash, spread over all 32 bits like Yjs's own random client ids. */
const fnv1a32 = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** The Yjs engine: flat root Y.Maps plus one root Y.Text per note body (`body:<noteId>`). */
export class YjsEngine implements Engine {
  readonly kind = 'yjs' as const
  readonly doc: Y.Doc
  private readonly listeners = new Set<(c: EngineChange) => void>()
  private readonly onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    const change: EngineChange = { origin: describeOrigin(origin), local: tr.local, update }
    for (const l of this.listeners) l(change)
  }

  constructor(readonly replicaId: string) {
    this.doc = new Y.Doc({ gc: true })
    // the Yjs client id follows the replica id, so a replica's tie-breaks are reproducible
    this.doc.clientID = fnv1a32(replicaId)
    this.doc.on('update', this.onUpdate)
  }

  private map(name: MapName): Y.Map<unknown> {
    return this.doc.getMap(name)
  }

  /** The Y.Text of a note body, for editor bindings (y-codemirror.next, y-prosemirror). */
  ytext(noteId: string): Y.Text {
    return this.doc.getText(BODY_PREFIX + noteId)
  }

  get(map: MapName, key: string): Scalar | undefined {
    const v = this.map(map).get(key)
    return isScalar(v) ? v : undefined
  }

  *entries(map: MapName): Iterable<[string, Scalar]> {
    for (const [k, v] of this.map(map).entries()) if (isScalar(v)) yield [k, v]
  }

  text(noteId: string): string {
    return this.doc.share.has(BODY_PREFIX + noteId) ? this.ytext(noteId).toJSON() : ''
  }

  textLength(noteId: string): number {
    return this.doc.share.has(BODY_PREFIX + noteId) ? this.ytext(noteId).length : 0
  }

  textSlice(noteId: string, start: number, end: number): string {
    if (end <= start || !this.doc.share.has(BODY_PREFIX + noteId)) return ''
    // walk the items up to `end` instead of joining the whole body (toJSON)
    let out = ''
    let pos = 0
    for (let item = this.ytext(noteId)._start; item !== null && pos < end; item = item.right) {
      if (item.deleted || !item.countable) continue
      const content = item.content
      const str = content instanceof Y.ContentString ? content.str : null
      const length = str?.length ?? item.length
      if (str !== null && pos + length > start) out += str.slice(Math.max(start - pos, 0), end - pos)
      pos += length
    }
    return out
  }

  transact(origin: string, fn: (w: EngineWriter) => void): void {
    const writer: EngineWriter = {
      set: (map, key, value) => this.map(map).set(key, value),
      delete: (map, key) => this.map(map).delete(key),
      createText: (noteId, initial) => {
        if (initial !== '') this.ytext(noteId).insert(0, initial)
      },
      spliceText: (noteId, index, deleteCount, insert) => {
        const t = this.ytext(noteId)
        if (deleteCount > 0) t.delete(index, deleteCount)
        if (insert !== '') t.insert(index, insert)
      },
    }
    this.doc.transact(() => fn(writer), origin)
  }

  batch(origin: string, fn: () => void): void {
    this.doc.transact(fn, origin)
  }

  anchor(noteId: string, index: number): TextAnchor {
    return { engine: 'yjs', value: Y.createRelativePositionFromTypeIndex(this.ytext(noteId), index) }
  }

  resolve(_noteId: string, anchor: TextAnchor, edge: 'start' | 'end'): number | null {
    if (anchor.engine !== 'yjs') return null
    const rel = anchor.value as Y.RelativePosition
    const abs = Y.createAbsolutePositionFromRelativePosition(rel, this.doc)
    if (abs === null) return null
    if (edge === 'start' || rel.item === null) return abs.index
    return Y.getItem(this.doc.store, rel.item).deleted ? abs.index : abs.index + 1
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (stateVector !== undefined) decodeStateVectorChecked(stateVector)
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  applyUpdate(update: Uint8Array, origin: string): void {
    validateYjsUpdate(update)
    try {
      Y.applyUpdate(this.doc, update, origin)
    } catch (e) {
      throw new MergeError('MalformedUpdate', 'the update failed to apply', { cause: e })
    }
  }

  onChange(listener: (c: EngineChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  destroy(): void {
    this.listeners.clear()
    this.doc.off('update', this.onUpdate)
    this.doc.destroy()
  }
}
