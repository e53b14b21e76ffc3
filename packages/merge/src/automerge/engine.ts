import * as A from '@automerge/automerge'
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
import { automergeStateDigest } from '../digest.js'
import { MAP_NAMES } from '../engine.js'
import { MergeError } from '../errors.js'
import { checkDomainWrite, isBodyOfNote } from '../model/domain.js'
import { OWN_ORIGINS } from '../origins.js'
import { bytesToHex, decodeList, decodeVersionVector, encodeList, encodeVersionVector } from './frame.js'

type Root = Record<MapName, Record<string, unknown>> & { bodies: Record<string, string> }
type Draft = Root
/** An operation of a change as `A.decodeChange` gives it (Automerge's own `Op` type leaves out list fields). */
interface Op {
  action: string
  obj: string
  key?: string
  elemId?: string
  insert?: boolean
  value?: string | number | boolean | null
  datatype?: string
  pred: string[]
}
type Change = Omit<A.DecodedChange, 'ops' | 'hash'> & { ops: Op[] }
type Decoded = Change & { hash: string }

/**
 * The indexes of `changes` in an order where each comes after those of the list it depends on (a
 * depth-first walk of their dependencies, iterative: a long chain listed backwards needs no deep
 * stack), else in list order. A hash listed twice is placed once.
 */
function causalOrder(changes: readonly Decoded[]): number[] {
  const at = new Map<string, number>()
  changes.forEach((c, i) => {
    if (!at.has(c.hash)) at.set(c.hash, i)
  })
  const placed = new Set<number>()
  const out: number[] = []
  for (const root of at.values()) {
    if (placed.has(root)) continue
    placed.add(root)
    const stack: { index: number; next: number }[] = [{ index: root, next: 0 }]
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const deps = changes[top.index]!.deps
      if (top.next < deps.length) {
        const dep = at.get(deps[top.next++]!)
        if (dep !== undefined && !placed.has(dep)) {
          placed.add(dep)
          stack.push({ index: dep, next: 0 })
        }
      } else {
        stack.pop()
        out.push(top.index)
      }
    }
  }
  return out
}

const GENESIS_ACTOR = '00'

/**
 * Every replica of a space builds the same first change (same actor, time, operations), so they all
 * share one root without ever exchanging it: two devices that open a space offline write into the
 * same `items` map instead of two concurrent maps of which only one would win.
 */
const genesis = (spaceId: string): A.Doc<Root> =>
  A.change(A.init<Root>({ actor: GENESIS_ACTOR }), { time: 0, message: 'converge genesis' }, (d) => {
    d.meta = { space: new A.ImmutableString(spaceId) }
    for (const m of MAP_NAMES) if (m !== 'meta') d[m] = {}
    d.bodies = {}
  })

const toScalar = (v: unknown): Scalar | undefined => {
  if (A.isImmutableString(v)) return v.val
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  return undefined
}

const toAutomerge = (v: Scalar): unknown => (typeof v === 'string' ? new A.ImmutableString(v) : v)

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff

/** Hex of an ASCII string (note ids are [0-9a-z_-]). */
const hexOf = (s: string): string =>
  [...s].map((c) => (c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')).join('')

/** The actor of a note's body-creation change: derived from the note id, never 16 hex digits like a replica's. */
const noteActor = (noteId: string): string => hexOf(`converge-note:${noteId}`)

const SCALAR_DATATYPES = new Set([undefined, 'str', 'int', 'uint', 'float64', 'null', 'boolean'])

const actorOf = (opId: string): string => opId.slice(opId.indexOf('@') + 1)

/** BAD-7: the scalar an operation writes; `undefined` for a deletion. */
const opValue = (op: Op): Scalar | undefined => (op.action === 'del' ? undefined : (op.value ?? null))

/**
 * The run of characters this replica is typing in a note (NOTE-2): see `insertText`. A run goes on
 * only while each edit is a keystroke that continues the one before (`spliceText(…, continues)`):
 * just after its last character, or just before its first.
 */
interface Run {
  readonly noteId: string
  /** The deleted anchor element the run hangs from. */
  readonly anchor: string
  /** The first and last characters of the run, in document order. */
  head: string
  tail: string
  /** The visible character before the run when it began (null: the start of the text). */
  readonly place: string | null
}

/**
 * The Automerge engine: the same flat maps as plain Automerge maps, note bodies as Automerge text.
 *
 * Two things differ from plain `A.change` use, both for the contract:
 * - NOTE-2: Automerge orders concurrent insertions after one character by operation id, so two runs
 *   typed *backwards* at one place interleave letter by letter. Every run this replica starts hangs
 *   from an anchor of its own (an element inserted and deleted in the same change), and every later
 *   keystroke of that run, forwards or backwards, is inserted inside that anchor's subtree; two runs
 *   are then two subtrees, which Automerge never interleaves. The inserts are built as changes by
 *   hand (`A.encodeChange`), because `A.splice` always attaches to the visible character before.
 * - NOTE-3: a note's body text is created by a change every replica builds alike from the note id
 *   (like the genesis), so two replicas that create a note with the same id share one text and keep
 *   both bodies.
 */
/** An update checked by `AutomergeEngine.prepareUpdate`, not applied yet. */
export interface PreparedUpdate {
  /** How many changes (and operations) it brings that the replica lacks. */
  readonly changes: number
  readonly ops: number
  /** Per actor, the sequence numbers `[from, to)` of the changes it brings. */
  readonly seqs: ReadonlyMap<string, readonly [from: number, to: number]>
  apply(origin: string): void
}

export class AutomergeEngine implements Engine {
  readonly kind = 'automerge' as const
  private current: A.Doc<Root>
  private readonly genesisHash: string
  private readonly genesisMaxOp: number
  private readonly bodiesObject: string
  private readonly mapObjects = new Map<string, MapName>()
  private readonly listeners = new Set<(c: EngineChange) => void>()
  private depth = 0
  /** The last sequence number of each actor in the document (BAD-5: a change must follow on). */
  private readonly seqs = new Map<string, number>()
  /** The highest operation counter in the document: a hand-built change starts after it. */
  private maxOp = 0
  /** Note body text objects: object id → note id. */
  private readonly texts = new Map<string, string>()
  private run: Run | null = null

  constructor(
    readonly spaceId: string,
    readonly replicaId: string,
  ) {
    const g = genesis(spaceId)
    const [genesisHash] = A.getHeads(g)
    if (genesisHash === undefined) throw new Error('unreachable: genesis has a head')
    this.genesisHash = genesisHash
    this.bodiesObject = A.getObjectId(g, 'bodies') ?? ''
    for (const m of MAP_NAMES) this.mapObjects.set(A.getObjectId(g, m) ?? '', m)
    const decoded = A.decodeChange(A.getAllChanges(g)[0]!) as unknown as Decoded
    this.genesisMaxOp = decoded.startOp + decoded.ops.length - 1
    this.note(decoded)
    this.current = A.clone(g, { actor: replicaId })
  }

  /** The current Automerge document (immutable); a note body lives at `['bodies', noteId]`. */
  get doc(): A.Doc<Root> {
    return this.current
  }

  get(map: MapName, key: string): Scalar | undefined {
    const m = this.current[map]
    return Object.prototype.hasOwnProperty.call(m, key) ? toScalar(m[key]) : undefined
  }

  *entries(map: MapName): Iterable<[string, Scalar]> {
    for (const [k, v] of Object.entries(this.current[map])) {
      const s = toScalar(v)
      if (s !== undefined) yield [k, s]
    }
  }

  text(noteId: string): string {
    const t = this.current.bodies[noteId]
    return typeof t === 'string' ? t : ''
  }

  textLength(noteId: string): number {
    return this.text(noteId).length
  }

  textSlice(noteId: string, start: number, end: number): string {
    return this.text(noteId).slice(start, end)
  }

  private emit(origin: string, local: boolean, before: A.Heads): void {
    // a local change names the keys its writer set (CART-13); an applied update names none
    const keys = local ? this.written : null
    if (local) this.written = new Map()
    if (this.listeners.size === 0) return
    const changes = A.getChangesSince(this.current, before)
    if (changes.length === 0) return
    const change: EngineChange = { origin, local, update: encodeList(changes), ...(keys ? { keys } : {}) }
    for (const l of this.listeners) l(change)
  }

  /** The map keys this replica's writer set or deleted since the last change event. */
  private written = new Map<MapName, Set<string>>()

  private wrote(map: MapName, key: string): void {
    const set = this.written.get(map) ?? new Set<string>()
    set.add(key)
    this.written.set(map, set)
  }

  /** Keeps the bookkeeping of validation and hand-built changes: sequence numbers, op counters, texts. */
  private note(change: Change): void {
    this.seqs.set(change.actor, Math.max(this.seqs.get(change.actor) ?? 0, change.seq))
    this.maxOp = Math.max(this.maxOp, change.startOp + change.ops.length - 1)
    change.ops.forEach((op, i) => {
      if (op.action === 'makeText' && op.obj === this.bodiesObject && op.key !== undefined)
        this.texts.set(`${change.startOp + i}@${change.actor}`, op.key)
    })
  }

  private applyOwn(change: Omit<Change, 'author'>): void {
    const full: Change = { ...change, author: null }
    const bytes = A.encodeChange(full as unknown as A.DecodedChange)
    ;[this.current] = A.applyChanges(this.current, [bytes])
    this.note(full)
  }

  /**
   * One Automerge change per command, except where a keystroke continues a run typed backwards: that
   * insert is a change built by hand (see `insertText`).
   */
  transact(origin: string, fn: (w: EngineWriter) => void): void {
    const before = A.getHeads(this.current)
    let group: ((d: Draft) => void)[] = []
    let after: (() => void)[] = []
    const flush = (): void => {
      if (group.length === 0) return
      const g = group
      const then = after
      group = []
      after = []
      const heads = A.getHeads(this.current)
      this.current = A.change(this.current, (d) => {
        for (const f of g) f(d)
      })
      const now = A.getHeads(this.current)
      if (now.length !== heads.length || now.some((h, i) => h !== heads[i])) {
        const last = A.getLastLocalChange(this.current)
        if (last) this.note(A.decodeChange(last))
      }
      for (const f of then) f()
    }
    const insert = (noteId: string, index: number, text: string): void => {
      const plan = this.planInsert(noteId, index)
      if (plan.kind === 'backwards') {
        flush()
        this.insertBackwards(noteId, index, text, plan.run)
        return
      }
      const path = ['bodies', noteId]
      group.push((d) => {
        if (plan.kind === 'forwards') A.splice(d, path, index, 0, text)
        else {
          // a new run: an anchor, the text hanging from it, the anchor deleted — all by A.splice, whose
          // inserted string is a chain from the character before
          A.splice(d, path, index, 0, ` ${text}`)
          A.splice(d, path, index, 1)
        }
      })
      after.push(() => this.afterInsert(noteId, index, text, plan))
    }
    fn({
      set: (map, key, value) => {
        this.wrote(map, key)
        group.push((d) => void (d[map][key] = toAutomerge(value)))
      },
      delete: (map, key) => {
        this.wrote(map, key)
        group.push((d) => void delete d[map][key])
      },
      createText: (noteId, initial) => {
        flush()
        this.createBody(noteId)
        this.run = null
        if (initial !== '') insert(noteId, 0, initial)
      },
      spliceText: (noteId, index, deleteCount, insertText, continues = false) => {
        if (!continues || deleteCount > 0) this.run = null
        if (deleteCount > 0) group.push((d) => A.splice(d, ['bodies', noteId], index, deleteCount))
        if (insertText !== '') {
          flush() // the insert is planned against the document as it is now
          insert(noteId, index, insertText)
        }
      },
    })
    flush()
    if (this.depth === 0) this.emit(origin, true, before)
  }

  batch(origin: string, fn: () => void): void {
    const before = A.getHeads(this.current)
    this.depth++
    try {
      fn()
    } finally {
      this.depth--
      if (this.depth === 0) this.emit(origin, true, before)
    }
  }

  /** NOTE-3: the body text of a note, from the change every replica builds alike for that note id. */
  private createBody(noteId: string): void {
    if (typeof this.current.bodies[noteId] === 'string') return
    const actor = noteActor(noteId)
    if ((this.seqs.get(actor) ?? 0) > 0) return // created, then overwritten by someone: leave it
    this.applyOwn({
      actor,
      seq: 1,
      startOp: this.genesisMaxOp + 1,
      time: 0,
      message: null,
      deps: [this.genesisHash],
      ops: [{ action: 'makeText', obj: this.bodiesObject, key: noteId, pred: [] }],
    })
    this.run = null
  }

  /** NOTE-2: how an insert at `index` joins the run this replica is typing, if it does. */
  private planInsert(
    noteId: string,
    index: number,
  ): { kind: 'forwards' | 'new'; run: Run | null } | { kind: 'backwards'; run: Run } {
    const path = ['bodies', noteId]
    const length = this.text(noteId).length
    const run = this.run?.noteId === noteId ? this.run : null
    const before = index > 0 ? A.getCursor(this.current, path, index - 1) : null
    // backwards: just before the run's first character, with the same character before it as when the
    // run began (if that one was deleted meanwhile, this is a new run at a new place)
    if (run && index < length && A.getCursor(this.current, path, index) === run.head && before === run.place)
      return { kind: 'backwards', run }
    if (run && index > 0 && A.getCursor(this.current, path, index - 1) === run.tail)
      return { kind: 'forwards', run }
    return { kind: 'new', run: null }
  }

  /** The ids of the first and last characters just inserted at `index`, and the run they make. */
  private afterInsert(
    noteId: string,
    index: number,
    text: string,
    plan: { kind: 'forwards' | 'new'; run: Run | null },
  ): void {
    const path = ['bodies', noteId]
    const lastUnit =
      index + text.length - (isHighSurrogate(text.charCodeAt(text.length - 2)) && text.length >= 2 ? 2 : 1)
    const first = A.getCursor(this.current, path, index)
    const last = A.getCursor(this.current, path, lastUnit)
    if (plan.kind === 'forwards' && plan.run) plan.run.tail = last
    else {
      const at = first.indexOf('@')
      this.run = {
        noteId,
        anchor: `${Number(first.slice(0, at)) - 1}@${first.slice(at + 1)}`,
        head: first,
        tail: last,
        place: index > 0 ? A.getCursor(this.current, path, index - 1) : null,
      }
    }
  }

  /**
   * NOTE-2: a keystroke just before the first character of the run, typed backwards: it goes inside the
   * run's anchor (a deleted element, which `A.splice` cannot name), so the change is built by hand.
   */
  private insertBackwards(noteId: string, _index: number, text: string, run: Run): void {
    const obj = A.getObjectId(this.current.bodies, noteId)
    if (!obj) throw new Error(`unreachable: note ${noteId} has no body`)
    const actor = this.replicaId
    const startOp = this.maxOp + 1
    const ops: Op[] = []
    let left = run.anchor
    for (const ch of text) {
      ops.push({ action: 'set', obj, elemId: left, insert: true, value: ch, pred: [] })
      left = `${startOp + ops.length - 1}@${actor}`
    }
    this.applyOwn({
      actor,
      seq: (this.seqs.get(actor) ?? 0) + 1,
      startOp,
      time: 0,
      message: null,
      deps: A.getHeads(this.current),
      ops,
    })
    run.head = `${startOp}@${actor}`
  }

  anchor(noteId: string, index: number): TextAnchor {
    const len = this.text(noteId).length
    const pos: number | 'end' = index >= len ? 'end' : index
    return { engine: 'automerge', value: A.getCursor(this.current, ['bodies', noteId], pos) }
  }

  resolve(noteId: string, anchor: TextAnchor, edge: 'start' | 'end'): number | null {
    if (anchor.engine !== 'automerge' || typeof anchor.value !== 'string') return null
    const path = ['bodies', noteId]
    try {
      const pos = A.getCursorPosition(this.current, path, anchor.value)
      if (edge === 'start') return pos
      // a cursor on a deleted character resolves to where it was; on a live one, step past the whole
      // character (both halves of a surrogate pair: UNDO-3 never splits one)
      const body = this.text(noteId)
      const alive = pos < body.length && A.getCursor(this.current, path, pos) === anchor.value
      return alive ? pos + (isHighSurrogate(body.charCodeAt(pos)) ? 2 : 1) : pos
    } catch {
      return null
    }
  }

  insertion(noteId: string, index: number, length: number): TextInsertion {
    // one operation per code point, with consecutive counters of this actor, from the first one's id
    const body = this.text(noteId)
    const count = [...body.slice(index, index + length)].length
    const first = index < body.length ? A.getCursor(this.current, ['bodies', noteId], index) : null
    const at = first?.indexOf('@') ?? -1
    return {
      engine: 'automerge',
      value:
        first && at > 0 ? { counter: Number(first.slice(0, at)), actor: first.slice(at + 1), count } : null,
    }
  }

  ownRanges(noteId: string, insertion: TextInsertion): [number, number][] {
    const own = insertion.value as { counter: number; actor: string; count: number } | null
    if (insertion.engine !== 'automerge' || !own) return []
    const path = ['bodies', noteId]
    const body = this.text(noteId)
    const ranges: [number, number][] = []
    for (let k = 0; k < own.count; k++) {
      const cursor = `${own.counter + k}@${own.actor}`
      let pos: number
      try {
        pos = A.getCursorPosition(this.current, path, cursor)
      } catch {
        continue
      }
      if (pos >= body.length || A.getCursor(this.current, path, pos) !== cursor) continue // deleted
      ranges.push([pos, pos + (isHighSurrogate(body.charCodeAt(pos)) ? 2 : 1)])
    }
    ranges.sort((a, b) => a[0] - b[0])
    const out: [number, number][] = []
    for (const r of ranges) {
      const last = out[out.length - 1]
      if (last && last[1] === r[0]) last[1] = r[1]
      else out.push(r)
    }
    return out
  }

  /** The version vector (DLV-4), encoded (frame.ts): what a peer needs to send what this replica lacks. */
  stateVector(): Uint8Array {
    return encodeVersionVector(this.seqs)
  }

  versionVector(): ReadonlyMap<string, number> {
    return new Map(this.seqs)
  }

  stateDigest(): Uint8Array {
    return automergeStateDigest(A.getHeads(this.current))
  }

  /** The highest sequence number of `actor` this replica holds (0: none). */
  seqOf(actor: string): number {
    return this.seqs.get(actor) ?? 0
  }

  /**
   * Per actor, the sequence numbers `[from, to)` of the changes an update holds (held here or not).
   * Throws MergeError when it does not decode.
   */
  seqRanges(update: Uint8Array): { from: Map<string, number>; to: Map<string, number> } {
    const from = new Map<string, number>()
    const to = new Map<string, number>()
    for (const b of decodeList(update, 'update')) {
      let c: A.DecodedChange
      try {
        c = A.decodeChange(b)
      } catch (e) {
        throw new MergeError('MalformedUpdate', 'not an Automerge change', { cause: e })
      }
      from.set(c.actor, Math.min(from.get(c.actor) ?? Infinity, c.seq - 1))
      to.set(c.actor, Math.max(to.get(c.actor) ?? 0, c.seq))
    }
    return { from, to }
  }

  /**
   * The whole document as Automerge saves it (compressed columns: a run of keystrokes costs a few
   * bytes): what storage keeps as a space's snapshot. Read back with `savedChanges`; never sent to a
   * peer, whose updates are change lists it checks change by change.
   */
  save(): Uint8Array {
    return A.save(this.current)
  }

  /** What the document holds: its operations, changes and actors (Automerge's own count). */
  size(): { ops: number; changes: number; actors: number } {
    const s = A.stats(this.current)
    return { ops: s.numOps, changes: s.numChanges, actors: s.numActors }
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (stateVector === undefined) return encodeList(A.getAllChanges(this.current))
    const theirs = decodeVersionVector(stateVector)
    // what they hold of each actor, as far as this replica holds it too
    const want = new Map<string, number>()
    let lacking = false
    for (const [actor, seq] of this.seqs) {
      const held = Math.min(seq, theirs.get(actor) ?? 0)
      if (held > 0) want.set(actor, held)
      if (held < seq) lacking = true
    }
    if (!lacking) return encodeList([])
    if (want.size === 0) return encodeList(A.getAllChanges(this.current))
    // the change of each actor at the number they hold: it and its ancestors are all they hold, since
    // an actor's change depends on its predecessor — when what they hold is causally closed
    const metas = A.getChangesMetaSince(this.current, [])
    const known = metas.filter((m) => want.get(m.actor) === m.seq).map((m) => m.hash)
    const since = A.getChangesSince(this.current, known)
    // what they lack: of each actor, the changes past their number (the genesis is every replica's)
    const lacks = metas.filter((m) => m.hash !== this.genesisHash && m.seq > (theirs.get(m.actor) ?? 0))
    if (since.length === lacks.length) return encodeList(since)
    // a vector that is not causally closed — a server's committed vector among several instances, where
    // one instance committed a change that builds on one another relayed and died before committing —
    // lacks ancestors of what it holds: those past its numbers, picked one by one, in the order held
    const backend = A.getBackend(this.current)
    return encodeList(lacks.map((m) => backend.getChangeByHash(m.hash)!))
  }

  /**
   * BAD-1 … BAD-6: decode and check every change against the document before any of it is applied,
   * so that Automerge can neither fail half-way nor keep a change pending: the dependencies are
   * present (or come in the same update), each actor's changes follow on, every operation is one a
   * space holds and refers only to objects, elements and actors that exist.
   */
  private validate(update: Uint8Array, domain: boolean): { bytes: Uint8Array[]; fresh: Decoded[] } {
    // (returns the bytes and decoded form of the changes the document does not have yet)
    const bytes = decodeList(update, 'update')
    const decoded = bytes.map((b) => {
      let change: Decoded
      try {
        change = A.decodeChange(b)
      } catch (e) {
        throw new MergeError(
          'MalformedUpdate',
          `not an Automerge change: ${e instanceof Error ? e.message : String(e)}`,
          {
            cause: e,
          },
        )
      }
      // bytes 4–7 of a change chunk are the first bytes of its hash: a corrupted change fails here
      if (bytesToHex(b.subarray(4, 8)) !== change.hash.slice(0, 8))
        throw new MergeError('MalformedUpdate', 'an Automerge change fails its checksum')
      return change
    })
    const inUpdate = new Set(decoded.map((c) => c.hash))
    const fresh: Decoded[] = []
    const seqs = new Map<string, number>()
    const texts = new Map(this.texts)
    const elemsOfUpdate = new Set<string>()
    const actors = (a: string): boolean => seqs.has(a) || this.seqs.has(a)
    const freshBytes: Uint8Array[] = []
    const seen = new Set<string>()
    /** BAD-7: the map writes of this update, checked once its structure is known to be sound. */
    const writes: [map: MapName, key: string, value: Scalar | undefined, actor: string][] = []
    // in causal order, whatever order they are listed in: the log of several instances need not be
    for (const index of causalOrder(decoded)) {
      const change = decoded[index]!
      if (change.hash === this.genesisHash || this.has(change.hash) || seen.has(change.hash)) continue // has it
      seen.add(change.hash)
      if (change.deps.length === 0)
        throw new MergeError('ForeignDocument', 'the change starts another document')
      for (const dep of change.deps)
        if (!inUpdate.has(dep) && !this.has(dep))
          throw new MergeError(
            'MissingDependencies',
            'an Automerge change depends on a change this replica does not have',
          )
      const last = seqs.get(change.actor) ?? this.seqs.get(change.actor) ?? 0
      if (change.seq !== last + 1)
        // its dependencies are here, so the actor's earlier changes must be too: a forged sequence
        throw new MergeError(
          'MalformedUpdate',
          `change ${change.seq} of an actor whose last change here is ${last}`,
        )
      seqs.set(change.actor, change.seq)
      change.ops.forEach((op, i) => {
        const id = `${change.startOp + i}@${change.actor}`
        this.checkOp(op, id, texts, elemsOfUpdate, actors)
        if (op.action === 'makeText' && op.key !== undefined) texts.set(id, op.key)
        const map = this.mapObjects.get(op.obj)
        if (domain && map !== undefined && op.key !== undefined)
          writes.push([map, op.key, opValue(op), change.actor])
      })
      fresh.push(change)
      freshBytes.push(bytes[index]!)
    }
    // BAD-7, in change order: what each (map, key) holds once the update's writes so far are in
    const written = new Map<string, Scalar | undefined>()
    for (const [map, key, value, actor] of writes) {
      const k = `${map}\u0000${key}`
      const before = written.has(k) ? written.get(k) : this.get(map, key)
      checkDomainWrite({
        map,
        key,
        value,
        writerOwns: (replica) => replica === actor,
        current: before,
        exists: before !== undefined,
      })
      written.set(k, value)
    }
    return { bytes: freshBytes, fresh }
  }

  private checkOp(
    op: Op,
    id: string,
    texts: ReadonlyMap<string, string>,
    elemsOfUpdate: Set<string>,
    actorKnown: (actor: string) => boolean,
  ): void {
    const foreign = (why: string): never => {
      throw new MergeError('ForeignDocument', why)
    }
    if (op.action !== 'set' && op.action !== 'del' && op.action !== 'makeText')
      foreign(`a space holds no "${op.action}" operation`)
    if (op.obj === '_root') foreign('a change may not alter the document root')
    for (const p of op.pred)
      if (!actorKnown(actorOf(p)) && actorOf(p) !== actorOf(id))
        foreign('an operation names an unknown actor')
    if (op.action === 'makeText') {
      if (op.obj !== this.bodiesObject) foreign('texts live only in note bodies')
      if (op.key === undefined || !isBodyOfNote(op.key)) foreign('a body names a note')
      return
    }
    if (this.mapObjects.has(op.obj)) {
      if (op.key === undefined || op.insert) foreign('a space map holds keyed values only')
      if (
        op.action === 'set' &&
        (!SCALAR_DATATYPES.has(op.datatype) || (typeof op.value === 'object' && op.value !== null))
      )
        foreign(`a space holds no ${String(op.datatype)} values`)
      return
    }
    const noteId = texts.get(op.obj)
    if (noteId === undefined)
      throw new MergeError(
        'MissingDependencies',
        'an operation writes to an object this replica does not have',
      )
    // NOTE-2: a note body holds characters, inserted or deleted, nothing else
    if (op.elemId === undefined) foreign('a note body is a text')
    if (op.action === 'set' && (!op.insert || typeof op.value !== 'string' || op.value === ''))
      foreign('a note body holds only inserted characters')
    const elem = op.elemId!
    if (elem !== '_head' && !elemsOfUpdate.has(elem)) {
      if (!actorKnown(actorOf(elem)))
        throw new MergeError('MissingDependencies', 'an operation refers to an unknown actor')
      let exists: boolean
      try {
        exists =
          typeof this.current.bodies[noteId] === 'string' &&
          A.getCursorPosition(this.current, ['bodies', noteId], elem) >= 0
      } catch {
        exists = false
      }
      if (!exists)
        throw new MergeError(
          'MissingDependencies',
          'an operation refers to a character this replica does not have',
        )
    }
    if (op.action === 'set') elemsOfUpdate.add(id)
  }

  /** Whether the document holds the change with this hash (`A.hasHeads` costs O(document) in 3.5). */
  private has(hash: string): boolean {
    return A.getMissingDeps(this.current, [hash]).length === 0
  }

  /** Validates against the document, then applies in place: no copy of the document (BAD-1 … BAD-6). */
  applyUpdate(update: Uint8Array, origin: string, checks?: UpdateChecks): void {
    this.prepareUpdate(update, checks ?? (OWN_ORIGINS.has(origin) ? 'structure' : 'all')).apply(origin)
  }

  /**
   * Validates an update (BAD-1 … BAD-7 with `checks` 'all') without applying it, and says what it
   * brings: the changes and operations this replica lacks, and per actor the sequence numbers
   * `[from, to)` they hold. `apply` applies it, once, and only before anything else changes this
   * replica (a server checks its budgets between the two). Throws MergeError, as `applyUpdate`.
   */
  prepareUpdate(update: Uint8Array, checks: UpdateChecks): PreparedUpdate {
    const { bytes, fresh } = this.validate(update, checks === 'all')
    const seqs = new Map<string, [from: number, to: number]>()
    let ops = 0
    for (const c of fresh) {
      ops += c.ops.length
      const r = seqs.get(c.actor)
      if (r) r[1] = c.seq
      else seqs.set(c.actor, [c.seq - 1, c.seq])
    }
    const at = this.current
    let applied = false
    return {
      changes: fresh.length,
      ops,
      seqs,
      apply: (origin: string) => {
        if (applied || this.current !== at)
          throw new Error('a prepared update applies once, to the replica it was checked against')
        applied = true
        if (fresh.length === 0) return
        const before = A.getHeads(this.current)
        try {
          ;[this.current] = A.applyChanges(this.current, bytes)
        } catch (e) {
          throw new MergeError('MalformedUpdate', 'the update failed to apply', { cause: e })
        }
        for (const c of fresh) this.note(c)
        if (fresh.length > 1 && !this.materializedRight(fresh))
          this.current = A.load<Root>(A.save(this.current), { actor: this.replicaId })
        this.emit(origin, false, before)
      },
    }
  }

  /**
   * Automerge 3.5 applies a batch of changes to its JavaScript document through patches, and a batch
   * holding the deletion of a value and a concurrent write of the same key with a lower operation
   * counter leaves the *deleted* value showing (its backend and a reload are right; one change at a
   * time is right too). After a batch, every key and text it touched is compared with the backend;
   * on any difference the document is loaded afresh.
   */
  private materializedRight(changes: readonly Decoded[]): boolean {
    const backend = A.getBackend(this.current)
    const keys = new Map<string, { obj: string; map: MapName; key: string }>()
    const texts = new Map<string, string>()
    for (const c of changes)
      for (const op of c.ops) {
        const map = this.mapObjects.get(op.obj)
        if (map !== undefined && op.key !== undefined)
          keys.set(`${map}:${op.key}`, { obj: op.obj, map, key: op.key })
        const note = this.texts.get(op.obj)
        if (note !== undefined) texts.set(op.obj, note)
      }
    for (const { obj, map, key } of keys.values()) {
      const held = backend.getAll(obj, key).length === 0 ? undefined : toScalar(backend.get(obj, key))
      if (held !== this.get(map, key)) return false
    }
    for (const [obj, note] of texts) if (backend.text(obj) !== this.text(note)) return false
    return true
  }

  onChange(listener: (c: EngineChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  destroy(): void {
    this.listeners.clear()
  }
}

/** Every Automerge document and change chunk begins with these bytes; a change list never does. */
const MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const

/**
 * Whether stored bytes are a saved document (`AutomergeEngine.save`) rather than a change list: a
 * list begins with its count, and a count of two bytes followed by an entry's length leaves the
 * fourth byte to the first change, whose first byte is 0x85, never 0x83.
 */
export const isSavedDocument = (bytes: Uint8Array): boolean =>
  bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b)

/** The changes of a saved document. Throws MergeError when it does not load. */
export const savedChangeList = (bytes: Uint8Array): Uint8Array[] => {
  let doc: A.Doc<unknown>
  try {
    doc = A.load(bytes)
  } catch (e) {
    throw new MergeError('MalformedUpdate', 'not a saved Automerge document', { cause: e })
  }
  try {
    return A.getAllChanges(doc)
  } finally {
    A.free(doc)
  }
}

/** The changes of a saved document, as a change list. Throws MergeError when it does not load. */
export const savedChanges = (bytes: Uint8Array): Uint8Array => encodeList(savedChangeList(bytes))
