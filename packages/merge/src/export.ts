/**
 * A space as one file and back (SPEC.md EXPORT-1…EXPORT-4): what "take my data with me" means.
 *
 * The file is JSON a person can read — the cart, the notes, the space's name and schema version —
 * with the CRDT state beside it (`state`, base64 of `encodeStateAsUpdate()`) for fidelity:
 * - imported into the same space (same id and engine), the state is merged as any peer's update
 *   is, checked change by change (BAD-1…7), so nothing of either side is lost (EXPORT-3);
 * - imported as a new space, the readable part is replayed through the commands (a new space has
 *   its own id, which an Automerge document's genesis is derived from), so the new space holds the
 *   same cart and notes with a history of its own (EXPORT-2).
 * A file is untrusted input: its shape is checked before anything is applied, and every value goes
 * through the commands' own checks (EXPORT-4).
 */
import * as buffer from 'lib0/buffer'
import type { EngineKind } from './engine.js'
import { MergeError } from './errors.js'
import type { CartItem, Note, Space } from './space.js'

export const EXPORT_FORMAT = 'converge-space'
/** The version of the file's layout (not of the document's schema, which `schemaVersion` says). */
export const EXPORT_FORMAT_VERSION = 1
/** The most lines and notes a file may hold: far above any household's list, a bound on the work. */
export const MAX_EXPORT_ENTRIES = 10_000

export interface ExportedLine {
  readonly name: string
  readonly quantity: number
  readonly unit: string
  readonly note: string
  readonly category: string
  readonly priceCents: number | null
  readonly checked: boolean
  readonly checkedBy: string | null
}

export interface ExportedNote {
  readonly id: string
  readonly title: string
  readonly body: string
  readonly createdAt: number
  readonly updatedAt: number
  readonly pinned: boolean
  readonly trashed: boolean
}

export interface SpaceExport {
  readonly format: typeof EXPORT_FORMAT
  readonly formatVersion: number
  readonly schemaVersion: number
  readonly engine: EngineKind
  readonly spaceId: string
  readonly name: string
  readonly exportedAt: string
  readonly cart: readonly ExportedLine[]
  readonly notes: readonly ExportedNote[]
  /** base64 of the whole document (`encodeStateAsUpdate()`) on `engine`. */
  readonly state: string
}

const line = (i: CartItem): ExportedLine => ({
  name: i.name,
  quantity: i.quantity,
  unit: i.unit,
  note: i.note,
  category: i.category,
  priceCents: i.priceCents,
  checked: i.checked,
  checkedBy: i.checkedBy,
})

const note = (n: Note): ExportedNote => ({
  id: n.id,
  title: n.title,
  body: n.body,
  createdAt: n.createdAt,
  updatedAt: n.updatedAt,
  pinned: n.pinnedAt !== null,
  trashed: n.trashed,
})

/** EXPORT-1: the space as a file's JSON (stringify it to save). */
export function exportSpace(space: Space, now: () => number = Date.now): SpaceExport {
  return {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    schemaVersion: space.schemaVersion,
    engine: space.engineKind,
    spaceId: space.id,
    name: space.name,
    exportedAt: new Date(now()).toISOString(),
    cart: space.items().map(line),
    notes: [...space.notes(), ...space.notes({ trashed: true })].map(note),
    state: buffer.toBase64(space.encodeStateAsUpdate()),
  }
}

const bad = (what: string): MergeError =>
  new MergeError('InvalidArgument', `not a Converge space file: ${what}`)
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (o: Record<string, unknown>, k: string): string => {
  if (typeof o[k] !== 'string') throw bad(`${k} is not a string`)
  return o[k]
}
const num = (o: Record<string, unknown>, k: string): number => {
  if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw bad(`${k} is not a number`)
  return o[k]
}
const bool = (o: Record<string, unknown>, k: string): boolean => {
  if (typeof o[k] !== 'boolean') throw bad(`${k} is not true or false`)
  return o[k]
}
const list = (o: Record<string, unknown>, k: string): unknown[] => {
  const v = o[k]
  if (!Array.isArray(v)) throw bad(`${k} is not a list`)
  if (v.length > MAX_EXPORT_ENTRIES) throw bad(`${k} holds more than ${MAX_EXPORT_ENTRIES} entries`)
  return v
}

/**
 * EXPORT-4: reads a file's parsed JSON, checking its shape (every field, its type, the entries'
 * number); throws MergeError InvalidArgument naming what is wrong. Values are checked again by the
 * commands when the file is imported.
 */
export function readExport(json: unknown): SpaceExport {
  if (!isObject(json)) throw bad('not an object')
  if (json.format !== EXPORT_FORMAT) throw bad(`format is not "${EXPORT_FORMAT}"`)
  const formatVersion = num(json, 'formatVersion')
  if (formatVersion > EXPORT_FORMAT_VERSION)
    throw new MergeError('SchemaTooNew', `the file's format ${formatVersion} is newer than this app's`)
  const engine = str(json, 'engine')
  if (engine !== 'yjs' && engine !== 'automerge') throw bad('engine is not yjs or automerge')
  const cart = list(json, 'cart').map((l): ExportedLine => {
    if (!isObject(l)) throw bad('a cart line is not an object')
    const price = l.priceCents === null ? null : num(l, 'priceCents')
    const by = l.checkedBy === null ? null : str(l, 'checkedBy')
    return {
      name: str(l, 'name'),
      quantity: num(l, 'quantity'),
      unit: str(l, 'unit'),
      note: str(l, 'note'),
      category: str(l, 'category'),
      priceCents: price,
      checked: bool(l, 'checked'),
      checkedBy: by,
    }
  })
  const notes = list(json, 'notes').map((n): ExportedNote => {
    if (!isObject(n)) throw bad('a note is not an object')
    return {
      id: str(n, 'id'),
      title: str(n, 'title'),
      body: str(n, 'body'),
      createdAt: num(n, 'createdAt'),
      updatedAt: num(n, 'updatedAt'),
      pinned: bool(n, 'pinned'),
      trashed: bool(n, 'trashed'),
    }
  })
  const state = str(json, 'state')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(state)) throw bad('state is not base64')
  return {
    format: EXPORT_FORMAT,
    formatVersion,
    schemaVersion: num(json, 'schemaVersion'),
    engine,
    spaceId: str(json, 'spaceId'),
    name: str(json, 'name'),
    exportedAt: str(json, 'exportedAt'),
    cart,
    notes,
    state,
  }
}

/** The file's CRDT state, as an update of its engine. */
export const exportedState = (file: SpaceExport): Uint8Array => buffer.fromBase64(file.state)

/**
 * EXPORT-3: merges a file of this very space (same id and engine) into `space`, as a peer's update:
 * every change checked before any is applied (BAD-1…7), under `origin` (default Local: stored and
 * sent like the person's own change). Throws MergeError InvalidArgument for a file of another space,
 * and what `applyUpdate` throws for a state that does not check.
 */
export function mergeExport(space: Space, file: SpaceExport, origin = 'local-ui'): void {
  if (file.spaceId !== space.id || file.engine !== space.engineKind)
    throw new MergeError('InvalidArgument', 'the file is of another space: import it as a new space')
  space.applyUpdate(exportedState(file), origin, 'all')
}

/**
 * EXPORT-2: writes the file's cart and notes into `space` (new and initialised) through the
 * commands, in the file's order — a line checked off stays checked, a pinned note pinned, a trashed
 * one in the trash — as one transaction. Check the file first with `replayExport` (a command that
 * refuses a value would leave what came before it written).
 */
export function writeExport(space: Space, file: SpaceExport): void {
  space.transact(() => {
    if (file.name && file.name !== space.name) space.rename(file.name)
    for (const l of file.cart) {
      const fields: Partial<Record<'unit' | 'note' | 'category' | 'priceCents', string | number>> = {}
      if (l.unit) fields.unit = l.unit
      if (l.note) fields.note = l.note
      if (l.category) fields.category = l.category
      if (l.priceCents !== null) fields.priceCents = l.priceCents
      const key = space.addItem(l.name, { quantity: l.quantity, fields })
      if (l.checked) space.check(key, l.checkedBy || 'import')
    }
    for (const n of file.notes) {
      const id = space.createNote({ title: n.title, body: n.body })
      if (n.pinned) space.pinNote(id)
      if (n.trashed) space.trashNote(id)
    }
  })
}

/**
 * EXPORT-2: a new space holding the file's cart and notes (`writeExport` into the space `create`
 * makes, new and empty, e.g. `() => createSpace({ engine })`). All or nothing: when a command refuses
 * a value (EXPORT-4), the new space is destroyed and the error thrown, so no half-imported space is
 * ever seen — which also makes it the check to run before writing a file into a space of one's own.
 */
export function replayExport(file: SpaceExport, create: () => Space): Space {
  const space = create()
  try {
    writeExport(space, file)
    return space
  } catch (e) {
    space.destroy()
    throw e
  }
}
