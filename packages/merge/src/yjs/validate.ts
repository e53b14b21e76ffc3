import * as Y from 'yjs'
import { MergeError } from '../errors.js'
import { MAP_NAMES } from '../engine.js'

export const BODY_PREFIX = 'body:'
const MAP_ROOTS = new Set<string>(MAP_NAMES)

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * BAD-1 … BAD-3: decode the whole update before any of it touches the document, and check that it only
 * writes what a Converge space contains: scalar values in the flat root maps, characters in note bodies.
 * Yjs itself would integrate the structs of a truncated update before failing on its delete set, and
 * would accept anything from any document, so this runs first.
 */
export const validateYjsUpdate = (update: Uint8Array): void => {
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
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue // GC and Skip carry no content
    const content = struct.content
    const isText = content instanceof Y.ContentString
    if (!(content instanceof Y.ContentAny || isText || content instanceof Y.ContentDeleted)) {
      throw new MergeError('ForeignDocument', `a space holds no ${content.constructor.name}`)
    }
    // decoded (not integrated) items carry their parent as a root name or an ID
    // an item can only follow or precede what its own client wrote before it: Yjs would integrate the
    // structs before this one and then throw here, leaving the document half-changed
    for (const ref of [struct.origin, struct.rightOrigin])
      if (ref && ref.client === struct.id.client && ref.clock >= struct.id.clock)
        throw new MergeError('MalformedUpdate', 'an item refers to a later item of its own client')
    const parent = struct.parent as unknown
    if (parent === null) continue // positioned by its origin: the parent is that item's parent
    if (typeof parent !== 'string') {
      throw new MergeError('ForeignDocument', 'a space has no nested shared types')
    }
    if (MAP_ROOTS.has(parent)) {
      if (struct.parentSub === null || isText)
        throw new MergeError('ForeignDocument', `root "${parent}" only holds keyed values`)
    } else if (parent.startsWith(BODY_PREFIX)) {
      if (struct.parentSub !== null) throw new MergeError('ForeignDocument', `root "${parent}" is a text`)
    } else {
      throw new MergeError('ForeignDocument', `unknown root type "${parent.slice(0, 64)}"`)
    }
  }
}

export const decodeStateVectorChecked = (sv: Uint8Array): Map<number, number> => {
  try {
    return Y.decodeStateVector(sv)
  } catch (e) {
    throw new MergeError('MalformedUpdate', `not a Yjs state vector: ${describe(e)}`, { cause: e })
  }
}
