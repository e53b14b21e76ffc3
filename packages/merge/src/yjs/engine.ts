import * as Y from 'yjs'
import type {
  Engine,
  EngineChange,
  EngineWriter,
  MapName,
  Scalar,
  TextAnchor,
  TextInsertion,
  UpdateChecks,
} from '../engine.js'
import { yjsStateDigest } from '../digest.js'
import { MAP_NAMES } from '../engine.js'
import { MergeError } from '../errors.js'
import { OWN_ORIGINS } from '../origins.js'
import { clientIdOf } from './client-id.js'
import { BODY_PREFIX, decodeStateVectorChecked, validateYjsUpdate } from './validate.js'

/** The characters an item shows (none when deleted). */
const visible = (i: Y.Item): number => (i.deleted || !i.countable ? 0 : i.length)

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

const describeOrigin = (origin: unknown): string => {
  if (typeof origin === 'string') return origin
  if (origin === null || origin === undefined) return 'unknown'
  const name = (origin as { constructor?: { name?: string } }).constructor?.name
  return name ?? 'unknown'
}

/** The Yjs engine: flat root Y.Maps plus one root Y.Text per note body (`body:<noteId>`). */
export class YjsEngine implements Engine {
  readonly kind = 'yjs' as const
  readonly doc: Y.Doc
  private readonly listeners = new Set<(c: EngineChange) => void>()
  /** The run of typing this replica is in (NOTE-2): its first and last characters, in document order. */
  /**
   * The run of typing in progress (NOTE-2): its first and last characters, and the visible character
   * that stood before it when it began (`place`, null at the start of the text).
   */
  private run: { readonly noteId: string; head: Y.ID; tail: Y.ID; readonly place: Y.ID | null } | null = null
  private readonly onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    const keys = this.changedKeys(tr)
    const change: EngineChange = {
      origin: describeOrigin(origin),
      local: tr.local,
      update,
      ...(keys ? { keys } : {}),
    }
    for (const l of this.listeners) l(change)
  }

  /**
   * The space's roots by the Yjs type each is now: a map's name, or null for a note body's text (a
   * root is replaced by a typed one when first read, so a type not found is looked up again).
   */
  private readonly rootOf = new WeakMap<object, MapName | null>()

  /**
   * The map keys a transaction changed (`transaction.changed`: Yjs fills it for local and integrated
   * changes alike); a note body holds no keys. A changed type that is neither (a nested type: never
   * written by this code) makes the answer unknown.
   */
  private changedKeys(tr: Y.Transaction): Map<MapName, Set<string>> | undefined {
    const out = new Map<MapName, Set<string>>()
    for (const [type, keys] of tr.changed) {
      let root = this.rootOf.get(type)
      if (root === undefined) {
        for (const [name, t] of this.doc.share) {
          if (t !== type) continue
          root = (MAP_NAMES as readonly string[]).includes(name)
            ? (name as MapName)
            : name.startsWith(BODY_PREFIX)
              ? null
              : undefined
          break
        }
        if (root === undefined) return undefined
        this.rootOf.set(type, root)
      }
      if (root === null) continue
      const set = out.get(root) ?? new Set<string>()
      for (const k of keys) if (k !== null) set.add(k)
      out.set(root, set)
    }
    return out
  }

  constructor(
    readonly replicaId: string,
    /** The space this document is; updates that carry another space's id are refused (BAD-3). */
    readonly spaceId: string = '',
  ) {
    // a guid of our own: Yjs's default is a random uuid (31 crypto calls), only subdocuments use it
    this.doc = new Y.Doc({ gc: true, guid: spaceId || replicaId })
    // the Yjs client id follows the replica id, so a replica's tie-breaks are reproducible
    this.doc.clientID = clientIdOf(replicaId)
    this.doc.on('update', this.onUpdate)
    this.doc.on('afterTransaction', this.forgetFingers)
  }

  /**
   * Per note body, the last place a position was looked up: an item and the number of visible
   * characters before it. Typing, reading the characters around an edit and taking undo anchors then
   * walk from there instead of from the start of the body (Yjs's own search markers are not public).
   * Kept only across this engine's own text edits, which move it; any other transaction (a remote
   * update, an editor binding writing to the Y.Text) forgets them all.
   */
  private readonly fingers = new Map<Y.Text, { item: Y.Item; pos: number }>()
  private ownTransaction: Y.Transaction | null = null
  private readonly forgetFingers = (tr: Y.Transaction): void => {
    if (tr !== this.ownTransaction && this.fingers.size > 0) this.fingers.clear()
  }

  /**
   * The visible item holding character `index` of a text and the index of its first character, or
   * `item: null` past the end. Walks from the text's finger, which it then moves here.
   */
  private locate(t: Y.Text, index: number): { item: Y.Item | null; pos: number } {
    const start = this.fingers.get(t)
    let finger = start
    // an item merged into its left neighbour at the end of a transaction is no longer in the list:
    // the finger moves to the neighbour, which now ends where the merged item ended
    while (
      finger &&
      (finger.item.left === null ? t._start !== finger.item : finger.item.left.right !== finger.item)
    ) {
      const left = finger.item.left
      const merged =
        left !== null &&
        left.id.client === finger.item.id.client &&
        left.id.clock + left.length === finger.item.id.clock + finger.item.length
      finger = merged ? { item: left, pos: finger.pos - (visible(left) - visible(finger.item)) } : undefined
    }
    let item: Y.Item | null = finger?.item ?? t._start
    let pos = finger?.pos ?? 0
    while (item !== null && item.left !== null && pos > index) {
      item = item.left
      pos -= visible(item)
    }
    while (item !== null && (visible(item) === 0 || pos + item.length <= index)) {
      pos += visible(item)
      item = item.right
    }
    if (item !== null) {
      if (finger !== undefined && finger === start) {
        finger.item = item
        finger.pos = pos
      } else this.fingers.set(t, { item, pos })
    }
    return { item, pos }
  }

  private map(name: MapName): Y.Map<unknown> {
    return this.doc.getMap(name)
  }

  /** The Y.Text of a note body, for editor bindings (y-codemirror.next, y-prosemirror). */
  ytext(noteId: string): Y.Text {
    // per keystroke: a lookup here, not a doc.getText (a string concatenation and a type check)
    let t = this.texts.get(noteId)
    if (!t) {
      t = this.doc.getText(BODY_PREFIX + noteId)
      this.texts.set(noteId, t)
    }
    return t
  }

  private readonly texts = new Map<string, Y.Text>()

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
    // walk the items from `start` to `end` instead of joining the whole body (toJSON)
    let out = ''
    let { item, pos } = this.locate(this.ytext(noteId), start)
    for (; item !== null && pos < end; item = item.right) {
      if (item.deleted || !item.countable) continue
      const content = item.content
      const str = content instanceof Y.ContentString ? content.str : null
      const length = str?.length ?? item.length
      if (str !== null && pos + length > start) out += str.slice(Math.max(start - pos, 0), end - pos)
      pos += length
    }
    return out
  }

  /** The writer every transaction hands out: one object, not a set of closures per keystroke. */
  private readonly writer: EngineWriter = {
    // like Automerge, a write of the value a key holds already writes nothing
    set: (map, key, value) => {
      const m = this.map(map)
      if (!(m.has(key) && m.get(key) === value)) m.set(key, value)
    },
    delete: (map, key) => {
      if (this.map(map).has(key)) this.map(map).delete(key)
    },
    createText: (noteId, initial) => {
      this.run = null
      if (initial !== '') this.insertTight(noteId, this.ytext(noteId), 0, initial)
    },
    spliceText: (noteId, index, deleteCount, insert, continues = false) => {
      const t = this.ytext(noteId)
      if (!continues || deleteCount > 0 || this.run?.noteId !== noteId) this.run = null
      if (deleteCount > 0) this.deleteText(t, index, deleteCount)
      if (insert !== '') this.insertTight(noteId, t, index, insert)
    },
  }

  transact(origin: string, fn: (w: EngineWriter) => void): void {
    this.doc.transact((tr) => {
      this.ownTransaction = tr
      fn(this.writer)
    }, origin)
  }

  /** The id of the visible character at `index` of a text, or null past its end. */
  private idAt(t: Y.Text, index: number): Y.ID | null {
    const { item, pos } = this.locate(t, index)
    return item ? Y.createID(item.id.client, item.id.clock + index - pos) : null
  }

  /** Deletes `length` visible characters from `index` (a note body holds only characters). */
  private deleteText(t: Y.Text, index: number, length: number): void {
    const tr = this.doc._transaction
    if (!tr) throw new Error('unreachable: text edits run inside a transaction')
    const start = this.idAt(t, index)
    if (start === null) throw new Error(`unreachable: index ${index} past the end of the text`)
    let item: Y.Item | null = Y.getItemCleanStart(tr, start)
    let left = length
    while (left > 0 && item !== null) {
      if (!item.deleted && item.countable) {
        if (left < item.length) Y.getItemCleanStart(tr, Y.createID(item.id.client, item.id.clock + left))
        left -= item.length
        item.delete(tr)
      }
      item = item.right
    }
    // Y.Text caches index → item markers for its own edits; they do not know about this one
    if (t._searchMarker) t._searchMarker.length = 0
    // the finger stays valid: idAt left it on the item that held `index`, and nothing before that
    // item changed (split off, it keeps its start; deleted, it counts for nothing)
  }

  /**
   * NOTE-2: inserts `text` at `index`, attached to the visible character on the side it is typed
   * from: right after the character before it, or — when it continues a run typed backwards — right
   * before the run's first character. Y.Text's own insert attaches new text after any deleted
   * characters that follow the position (to keep formatting spans short), and text attached to a
   * tombstone interleaves with a concurrent insertion made before the deletion: "a", delete what
   * followed, "b" would merge with a concurrent "B" as "aBb".
   */
  private insertTight(noteId: string, t: Y.Text, index: number, text: string): void {
    const tr = this.doc._transaction
    if (!tr) throw new Error('unreachable: text edits run inside a transaction')
    const { clientID, store } = this.doc
    const run = this.run
    const before = index > 0 ? this.idAt(t, index - 1) : null
    const at = this.idAt(t, index)
    let left: Y.Item | null
    let right: Y.Item | null
    // typing backwards: right before the run's first character, with the same character before it as
    // when the run began (if that one was deleted meanwhile, this is a new run at a new place)
    const backwards =
      run !== null &&
      at !== null &&
      Y.compareIDs(at, run.head) &&
      (before === null ? run.place === null : run.place !== null && Y.compareIDs(before, run.place))
    if (backwards && at) {
      right = Y.getItemCleanStart(tr, Y.createID(at.client, at.clock))
      left = right.left
    } else {
      if (index > 0 && before === null)
        throw new Error(`unreachable: index ${index} past the end of the text`)
      left = before ? Y.getItemCleanEnd(tr, store, before) : null
      right = left ? left.right : t._start
    }
    const id = Y.createID(clientID, Y.getState(store, clientID))
    const item = new Y.Item(
      id,
      left,
      left?.lastId ?? null,
      right,
      right?.id ?? null,
      t,
      null,
      new Y.ContentString(text),
    )
    item.integrate(tr, 0)
    // Y.Text caches index → item markers for its own inserts; they do not know about this one
    if (t._searchMarker) t._searchMarker.length = 0
    this.fingers.set(t, { item, pos: index })
    const first = id
    const last = Y.createID(clientID, id.clock + text.length - 1)
    if (run && backwards) run.head = first
    else if (run && before && Y.compareIDs(before, run.tail)) run.tail = last
    else this.run = { noteId, head: first, tail: last, place: before }
  }

  batch(origin: string, fn: () => void): void {
    this.doc.transact(fn, origin)
  }

  anchor(noteId: string, index: number): TextAnchor {
    // as Y.createRelativePositionFromTypeIndex(text, index) gives, from the finger instead of the start
    const id = this.idAt(this.ytext(noteId), index)
    return { engine: 'yjs', value: new Y.RelativePosition(null, BODY_PREFIX + noteId, id, 0) }
  }

  resolve(_noteId: string, anchor: TextAnchor, edge: 'start' | 'end'): number | null {
    if (anchor.engine !== 'yjs') return null
    const rel = anchor.value as Y.RelativePosition
    const abs = Y.createAbsolutePositionFromRelativePosition(rel, this.doc)
    if (abs === null) return null
    if (edge === 'start' || rel.item === null) return abs.index
    return Y.getItem(this.doc.store, rel.item).deleted ? abs.index : abs.index + 1
  }

  insertion(noteId: string, index: number, length: number): TextInsertion {
    // the characters one insert made have consecutive clocks of this client, from the first one's id
    const id = this.idAt(this.ytext(noteId), index)
    return { engine: 'yjs', value: id ? { client: id.client, clock: id.clock, length } : null }
  }

  ownRanges(noteId: string, insertion: TextInsertion): [number, number][] {
    const own = insertion.value as { client: number; clock: number; length: number } | null
    if (insertion.engine !== 'yjs' || !own || !this.doc.share.has(BODY_PREFIX + noteId)) return []
    const out: [number, number][] = []
    const end = own.clock + own.length
    let pos = 0
    for (let item = this.ytext(noteId)._start; item !== null; item = item.right) {
      if (item.deleted || !item.countable) continue
      const from = Math.max(item.id.clock, own.clock)
      const to = Math.min(item.id.clock + item.length, end)
      if (item.id.client === own.client && from < to) {
        const range: [number, number] = [pos + from - item.id.clock, pos + to - item.id.clock]
        const last = out[out.length - 1]
        if (last && last[1] === range[0]) last[1] = range[1]
        else out.push(range)
      }
      pos += item.length
    }
    return out
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  stateDigest(): Uint8Array {
    return yjsStateDigest(this.doc)
  }

  versionVector(): ReadonlyMap<string, number> {
    const out = new Map<string, number>()
    for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(this.doc)))
      out.set(String(client), clock)
    return out
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (stateVector !== undefined) decodeStateVectorChecked(stateVector)
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  applyUpdate(update: Uint8Array, origin: string, checks?: UpdateChecks): void {
    this.fingers.clear() // also when applied inside one of this engine's own transactions
    const domain = (checks ?? (OWN_ORIGINS.has(origin) ? 'structure' : 'all')) === 'all'
    validateYjsUpdate(update, { doc: this.doc, spaceId: this.spaceId, domain })
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
