import * as A from '@automerge/automerge'
import type { Engine, EngineChange, EngineWriter, MapName, Scalar, TextAnchor } from '../engine.js'
import { MAP_NAMES } from '../engine.js'
import { MergeError } from '../errors.js'
import { bytesToHex, decodeList, encodeList, hexToBytes } from './frame.js'

type Root = Record<MapName, Record<string, unknown>> & { bodies: Record<string, string> }

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

const ALLOWED_ACTIONS = new Set(['set', 'del', 'makeText'])

/** The Automerge engine: the same flat maps as plain Automerge maps, note bodies as Automerge text. */
export class AutomergeEngine implements Engine {
  readonly kind = 'automerge' as const
  private current: A.Doc<Root>
  private readonly genesisHash: string
  private readonly bodiesObject: string
  private readonly listeners = new Set<(c: EngineChange) => void>()
  private depth = 0

  constructor(
    readonly spaceId: string,
    readonly replicaId: string,
  ) {
    const g = genesis(spaceId)
    const [genesisHash] = A.getHeads(g)
    if (genesisHash === undefined) throw new Error('unreachable: genesis has a head')
    this.genesisHash = genesisHash
    this.bodiesObject = A.getObjectId(g, 'bodies') ?? ''
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
    if (this.listeners.size === 0) return
    const changes = A.getChangesSince(this.current, before)
    if (changes.length === 0) return
    const change: EngineChange = { origin, local, update: encodeList(changes) }
    for (const l of this.listeners) l(change)
  }

  /** One Automerge change per call; inside `batch`, peers get one update at the end of the batch. */
  transact(origin: string, fn: (w: EngineWriter) => void): void {
    const before = A.getHeads(this.current)
    this.current = A.change(this.current, { message: origin }, (d) => {
      fn({
        set: (map, key, value) => {
          d[map][key] = toAutomerge(value)
        },
        delete: (map, key) => {
          delete d[map][key]
        },
        createText: (noteId, initial) => {
          d.bodies[noteId] = initial
        },
        spliceText: (noteId, index, deleteCount, insert) => {
          A.splice(d, ['bodies', noteId], index, deleteCount, insert)
        },
      })
    })
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
      // a cursor on a deleted character resolves to where it was; on a live one, step past it
      const alive = pos < this.text(noteId).length && A.getCursor(this.current, path, pos) === anchor.value
      return alive ? pos + 1 : pos
    } catch {
      return null
    }
  }

  stateVector(): Uint8Array {
    return encodeList(A.getHeads(this.current).map(hexToBytes))
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (stateVector === undefined) return encodeList(A.getAllChanges(this.current))
    const heads = decodeList(stateVector, 'state vector').map(bytesToHex)
    // heads we do not know (the peer has changes we lack) cannot bound what we send
    const known = heads.filter((h) => /^[0-9a-f]{64}$/.test(h) && A.hasHeads(this.current, [h]))
    return encodeList(A.getChangesSince(this.current, known))
  }

  /** BAD-1 … BAD-3: decode and check every change before any of it is applied. */
  private validate(update: Uint8Array): A.Change[] {
    const changes = decodeList(update, 'update')
    for (const bytes of changes) {
      let change: ReturnType<typeof A.decodeChange>
      try {
        change = A.decodeChange(bytes)
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
      if (bytesToHex(bytes.subarray(4, 8)) !== change.hash.slice(0, 8))
        throw new MergeError('MalformedUpdate', 'an Automerge change fails its checksum')
      if (change.hash === this.genesisHash) continue
      if (change.deps.length === 0)
        throw new MergeError('ForeignDocument', 'the change starts another document')
      for (const op of change.ops) {
        if (!ALLOWED_ACTIONS.has(op.action))
          throw new MergeError('ForeignDocument', `a space holds no "${op.action}" operation`)
        if (op.obj === '_root')
          throw new MergeError('ForeignDocument', 'a change may not alter the document root')
        if (op.action === 'makeText' && op.obj !== this.bodiesObject)
          throw new MergeError('ForeignDocument', 'texts live only in note bodies')
      }
    }
    return changes
  }

  /**
   * Applies to a copy and keeps it only if every change applied: Automerge can fail half-way (a change
   * whose operations name predecessors that do not exist) and leave a document it cannot save.
   */
  applyUpdate(update: Uint8Array, origin: string): void {
    const changes = this.validate(update)
    const before = A.getHeads(this.current)
    let next: A.Doc<Root>
    try {
      ;[next] = A.applyChanges(A.clone(this.current, { actor: this.replicaId }), changes)
      A.getChangesSince(next, before) // fails on a document the changes left inconsistent
    } catch (e) {
      throw new MergeError('MalformedUpdate', 'the update failed to apply', { cause: e })
    }
    this.current = next
    this.emit(origin, false, before)
  }

  onChange(listener: (c: EngineChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  destroy(): void {
    this.listeners.clear()
  }
}
