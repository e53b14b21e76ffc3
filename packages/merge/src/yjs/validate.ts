import * as Y from 'yjs'
import { MAP_NAMES, type MapName, type Scalar } from '../engine.js'
import { MergeError } from '../errors.js'
import { SET_ONCE_META, checkDomainWrite, isBodyOfNote } from '../model/domain.js'
import { isReplicaId } from '../model/keys.js'
import { clientIdOf } from './client-id.js'

export const BODY_PREFIX = 'body:'
const MAP_ROOTS = new Set<string>(MAP_NAMES)

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Where a decoded item lives: a root map (with its key), a note body, or somewhere a space has none. */
type Place =
  { readonly kind: 'map'; readonly root: string; readonly key: string | null } | { readonly kind: 'body' }

const placeOfRoot = (root: string, key: string | null): Place => {
  if (MAP_ROOTS.has(root)) return { kind: 'map', root, key }
  if (root.startsWith(BODY_PREFIX)) {
    if (!isBodyOfNote(root.slice(BODY_PREFIX.length)))
      throw new MergeError('ForeignDocument', `a body root names no note: "${root.slice(0, 64)}"`)
    return { kind: 'body' }
  }
  throw new MergeError('ForeignDocument', `unknown root type "${root.slice(0, 64)}"`)
}

/** The maps whose current value no update may delete without writing a new one (BAD-7). */
const guarded = (root: string, key: string): boolean =>
  root === 'qty' || root === 'tomb' || (root === 'meta' && SET_ONCE_META.has(key))

export interface YjsValidation {
  readonly doc: Y.Doc
  readonly spaceId: string
  /**
   * BAD-7's domain rules (keys, value types and ranges, set-once meta, single-writer registers):
   * on for everything from a peer; off for what this replica stored itself, so a space saved before a
   * rule existed still opens.
   */
  readonly domain?: boolean
}

/**
 * BAD-1 … BAD-3, BAD-5 … BAD-7: decode the whole update before any of it touches the document, and check
 * that it only writes what a Converge space contains: scalar values in the flat root maps, characters
 * in note bodies, this space's id. With the document (`against`), also that it builds only on what
 * the document has: Yjs would otherwise keep structs whose predecessors are missing *pending* — and
 * apply their deletions at once, half-changing the document — and re-process them on every later
 * update. Such an update is refused whole with `MissingDependencies`; a state-vector exchange brings
 * what is missing.
 */
/** What a valid update adds at most: structs, and deleted ranges (each may split one more). */
export interface YjsUpdateSummary {
  readonly structs: number
  readonly deletions: number
}

export const validateYjsUpdate = (update: Uint8Array, against?: YjsValidation): YjsUpdateSummary => {
  if (!(update instanceof Uint8Array))
    throw new MergeError('MalformedUpdate', 'an update must be a Uint8Array')
  let decoded: ReturnType<typeof Y.decodeUpdate>
  try {
    decoded = Y.decodeUpdate(update)
  } catch (e) {
    throw new MergeError('MalformedUpdate', `not a Yjs update: ${describe(e)}`, { cause: e })
  }
  // Yjs integrates the structs before it reads the deletions, and then fails on an empty deletion
  // range it cannot keep for later (lib0 "Unexpected case"): refuse those before anything is applied
  for (const deletions of decoded.ds.clients.values())
    for (const d of deletions)
      if (!(d.len > 0) || !Number.isSafeInteger(d.clock + d.len))
        throw new MergeError('MalformedUpdate', 'an update deletes an empty or impossible range')

  const doc = against?.doc
  const store = doc?.store
  // what the document will have of each client once this update is in: its own state, extended by the
  // update's structs that follow on without a gap
  const have = new Map<number, number>()
  const stateOf = (client: number): number => have.get(client) ?? (store ? Y.getState(store, client) : 0)
  const byClient = new Map<number, Y.Item[]>() // the update's own items, to follow an origin inside it
  if (store) {
    for (const struct of decoded.structs) {
      const { client, clock } = struct.id
      const state = stateOf(client)
      if (clock > state)
        throw new MergeError(
          'MissingDependencies',
          `the update starts client ${client} at ${clock}; this replica has ${state}`,
        )
      if (!(struct instanceof Y.Skip)) have.set(client, Math.max(state, clock + struct.length))
    }
  }
  for (const struct of decoded.structs)
    if (struct instanceof Y.Item) {
      const list = byClient.get(struct.id.client)
      if (list) list.push(struct)
      else byClient.set(struct.id.client, [struct])
    }
  const available = (id: Y.ID): boolean => !store || id.clock < stateOf(id.client)
  const isNew = (s: Y.AbstractStruct): boolean =>
    !store || s.id.clock + s.length > Y.getState(store, s.id.client)

  let rootNames: Map<unknown, string> | null = null
  const rootName = (type: unknown): string | undefined => {
    if (!rootNames) rootNames = new Map([...(doc?.share ?? [])].map(([name, t]) => [t, name]))
    return rootNames.get(type)
  }
  const findInUpdate = (id: Y.ID): Y.Item | null => {
    const list = byClient.get(id.client)
    if (!list) return null
    let lo = 0
    let hi = list.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const s = list[mid]!
      if (id.clock < s.id.clock) hi = mid - 1
      else if (id.clock >= s.id.clock + s.length) lo = mid + 1
      else return s
    }
    return null
  }
  const places = new Map<Y.Item, Place | null | 'unknown'>()
  /** The place of the item at `id`: in this update (following its origins), or in the document. */
  const placeOf = (id: Y.ID, depth: number): Place | null | 'unknown' => {
    const inUpdate = findInUpdate(id)
    if (inUpdate) return placeOfStruct(inUpdate, depth + 1)
    if (!store) return 'unknown'
    let item: Y.AbstractStruct
    try {
      item = Y.getItem(store, id)
    } catch {
      return null
    }
    if (!(item instanceof Y.Item)) return 'unknown' // garbage-collected: its place no longer matters
    const parent = item.parent as Y.AbstractType<unknown> | null
    if (!parent || parent._item !== null) return null
    const name = rootName(parent)
    return name === undefined ? null : placeOfRoot(name, item.parentSub)
  }
  const placeOfStruct = (struct: Y.Item, depth: number): Place | null | 'unknown' => {
    const known = places.get(struct)
    if (known !== undefined) return known
    const parent = struct.parent as unknown
    let place: Place | null | 'unknown'
    if (typeof parent === 'string') place = placeOfRoot(parent, struct.parentSub)
    else if (parent !== null) throw new MergeError('ForeignDocument', 'a space has no nested shared types')
    else if (depth > 1000) place = 'unknown'
    else {
      // positioned by a neighbour: it lives where that neighbour lives
      const ref = struct.origin ?? struct.rightOrigin
      place = ref ? placeOf(ref, depth) : null
    }
    places.set(struct, place)
    return place
  }

  /** BAD-7: the map writes of this update, checked once its structure is known to be sound. */
  const writes: [root: string, key: string, value: unknown, client: number][] = []
  /** BAD-7: this update's structs for each guarded (map, key), live or deleted. */
  const guardedStructs = new Map<string, Y.Item[]>()
  /** BAD-7: what each (map, key) holds once this update's writes so far are in. */
  const written = new Map<string, Scalar>()
  const writtenKey = (root: string, key: string): string => `${root}${SEPARATOR}${key}`
  const checkWrite = (root: string, key: string, value: unknown, client: number): void => {
    if (value === undefined || (value !== null && typeof value === 'object'))
      throw new MergeError('InvalidValue', `${root} holds scalar values only`)
    const k = writtenKey(root, key)
    const map = doc!.getMap(root)
    const before = written.get(k)
    checkDomainWrite({
      map: root as MapName,
      key,
      value: value as Scalar,
      // Yjs has no authors: a replica's client id is derived from its replica id (clientIdOf)
      writerOwns: (replica) => isReplicaId(replica) && clientIdOf(replica) === client,
      current: before !== undefined ? before : (map.get(key) as Scalar | undefined),
      exists: before !== undefined || map.has(key),
    })
    written.set(k, value as Scalar)
  }

  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue // GC and Skip carry no content
    const content = struct.content
    const isText = content instanceof Y.ContentString
    if (!(content instanceof Y.ContentAny || isText || content instanceof Y.ContentDeleted))
      throw new MergeError('ForeignDocument', `a space holds no ${content.constructor.name}`)
    // an item can only follow or precede what its own client wrote before it: Yjs would integrate the
    // structs before this one and then throw here, leaving the document half-changed
    for (const ref of [struct.origin, struct.rightOrigin]) {
      if (!ref) continue
      if (ref.client === struct.id.client && ref.clock >= struct.id.clock)
        throw new MergeError('MalformedUpdate', 'an item refers to a later item of its own client')
      if (!available(ref))
        throw new MergeError(
          'MissingDependencies',
          `an item follows ${ref.client}:${ref.clock}, which this replica does not have`,
        )
    }
    if (!isNew(struct)) continue // already integrated: Yjs ignores it
    const place = placeOfStruct(struct, 0)
    if (place === 'unknown') continue // without the document, a neighbour's place is not known here
    if (place === null)
      throw new MergeError(
        'MissingDependencies',
        'an item is positioned next to one this replica does not have',
      )
    if (place.kind === 'map') {
      if (place.key === null || isText)
        throw new MergeError('ForeignDocument', `root "${place.root}" only holds keyed values`)
      // Yjs writes a map entry after the key's current value, never before a neighbour: one placed
      // before another value is not the key's value, and with that value deleted the key would vanish
      if (struct.rightOrigin !== null)
        throw new MergeError('MalformedUpdate', 'a map entry is placed before another value')
      if (guarded(place.root, place.key)) {
        const k = writtenKey(place.root, place.key)
        const list = guardedStructs.get(k)
        if (list) list.push(struct)
        else guardedStructs.set(k, [struct])
      }
      if (content instanceof Y.ContentAny) {
        if (content.arr.length !== 1) throw new MergeError('ForeignDocument', 'a map entry holds one value')
        const value: unknown = content.arr[0]
        // BAD-3: an update that carries another space's id is another space's content
        if (against && place.root === 'meta' && place.key === 'id' && value !== against.spaceId)
          throw new MergeError('ForeignDocument', 'the update belongs to another space')
        if (doc && against?.domain !== false) writes.push([place.root, place.key, value, struct.id.client])
      }
    } else if (!(isText || content instanceof Y.ContentDeleted)) {
      // BAD-6: only characters in a note body, also for items placed by reference to a neighbour
      throw new MergeError('ForeignDocument', 'a note body holds only text')
    } else if (typeof struct.parent !== 'string' && struct.parentSub !== null) {
      throw new MergeError('ForeignDocument', 'a note body is a text')
    }
  }
  // BAD-5: deletions only of what the document has (or this update brings)
  if (store)
    for (const [client, deletions] of decoded.ds.clients)
      for (const d of deletions)
        if (d.clock + d.len > stateOf(client))
          throw new MergeError(
            'MissingDependencies',
            `the update deletes ${client}:${d.clock}+${d.len}, which this replica does not have`,
          )
  for (const [root, key, value, client] of writes) checkWrite(root, key, value, client)
  // checkWrite's getMap turns a root the document has not read yet into a Y.Map, which takes its items
  // over: root names looked up before then name the old type
  rootNames = null
  // BAD-7: a set-once meta key, a counter or a tombstone is only ever replaced (by a write this update
  // brings, checked above), never deleted
  let sortedDeletions: ReturnType<typeof Y.mergeDeleteSets> | null = null
  // Y.isDeleted searches sorted, merged ranges: a hostile update's may overlap or be out of order
  const deletedByUpdate = (id: Y.ID): boolean =>
    Y.isDeleted((sortedDeletions ??= Y.mergeDeleteSets([decoded.ds])), id)
  if (store && against?.domain !== false)
    for (const [client, deletions] of decoded.ds.clients) {
      const structs = store.clients.get(client)
      if (!structs) continue
      const state = Y.getState(store, client)
      for (const d of deletions) {
        if (d.clock >= state) continue
        const end = Math.min(d.clock + d.len, state)
        for (let i = Y.findIndexSS(structs, d.clock); i < structs.length; i++) {
          const s = structs[i]!
          if (s.id.clock >= end) break
          if (!(s instanceof Y.Item) || s.deleted || s.parentSub === null) continue
          const parent = s.parent as Y.AbstractType<unknown> | null
          if (!parent || parent._item !== null) continue
          const root = rootName(parent)
          if (root === undefined || !guarded(root, s.parentSub)) continue
          if ((parent as unknown as { _map: Map<string, Y.Item> })._map.get(s.parentSub) !== s) continue
          if (!replaces(s, guardedStructs.get(writtenKey(root, s.parentSub)), deletedByUpdate))
            throw new MergeError('InvalidValue', `${root}.${s.parentSub.slice(0, 64)} is never deleted`)
        }
      }
    }
  let deletions = 0
  for (const ranges of decoded.ds.clients.values()) deletions += ranges.length
  return { structs: decoded.structs.length, deletions }
}

const SEPARATOR = '\u0000'

/**
 * BAD-7: whether the update's structs for a guarded key (`mine`) leave it a value once its current
 * value `current` is deleted. The key's value after the update is the last entry of its chain: one of
 * the update's entries that no other of them follows (a leaf), or `current` itself if none lands after
 * it. So every leaf must be a live value (not `ContentDeleted`, not deleted by the update), and one of
 * them must land after `current`: an entry follows `current`, follows what `current` follows with a
 * greater client id (Yjs orders concurrent writes of a key by client id), or is a run of deleted values
 * that holds `current` and goes on past it (a full update from a replica whose replaced values Yjs
 * merged into one struct: what follows `current` in it lands after it). Anything subtler is refused.
 */
const replaces = (
  current: Y.Item,
  mine: readonly Y.Item[] | undefined,
  deleted: (id: Y.ID) => boolean,
): boolean => {
  if (!mine || mine.length === 0) return false
  const followed = new Set<string>()
  for (const w of mine) if (w.origin) followed.add(`${w.origin.client}:${w.origin.clock}`)
  let after = false
  const last = current.lastId
  for (const w of mine) {
    if (Y.compareIDs(w.origin, last)) after = true
    else if (Y.compareIDs(w.origin, current.origin) && w.id.client > current.id.client) after = true
    // a run that holds `current` and goes on past it (a full update from a replica whose deleted values
    // Yjs merged into one struct): this replica integrates only the part past `current`, after it
    else if (
      w.id.client === last.client &&
      w.id.clock <= last.clock &&
      last.clock < w.id.clock + w.length - 1
    )
      after = true
    const leaf = !followed.has(`${w.id.client}:${w.id.clock + w.length - 1}`)
    if (leaf && (!(w.content instanceof Y.ContentAny) || deleted(w.id))) return false
  }
  return after
}

export const decodeStateVectorChecked = (sv: Uint8Array): Map<number, number> => {
  try {
    return Y.decodeStateVector(sv)
  } catch (e) {
    throw new MergeError('MalformedUpdate', `not a Yjs state vector: ${describe(e)}`, { cause: e })
  }
}
