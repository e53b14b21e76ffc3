import type { Engine, EngineKind } from './engine.js'
import { MergeError } from './errors.js'
import { isReplicaId, randomId, randomReplicaId } from './model/keys.js'
import { Origin } from './origins.js'
import { engineFactory, registerEngine } from './registry.js'
import { Space, type SpaceOptions } from './space.js'
import { YjsEngine } from './yjs/engine.js'

export { MergeError, isMergeError, type MergeErrorKind } from './errors.js'
export { OWN_ORIGINS, Origin } from './origins.js'
export type { EngineKind, Engine, EngineChange, TextAnchor, Scalar, UpdateChecks } from './engine.js'
export { normaliseName, randomReplicaId } from './model/keys.js'
export { MAX_QUANTITY } from './model/counter.js'
export {
  Space,
  SCHEMA_VERSION,
  ITEM_FIELDS,
  type CartItem,
  type CartTotals,
  type ChangeEvent,
  type ItemField,
  type ItemRecord,
  type Member,
  MEMBER_SEEN_EVERY,
  NOTE_UPDATED_EVERY,
  type Note,
  type SpaceOptions,
  type SpaceSnapshot,
} from './space.js'
export { YjsEngine } from './yjs/engine.js'
export {
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  MAX_EXPORT_ENTRIES,
  type ExportedLine,
  type ExportedNote,
  type SpaceExport,
  exportSpace,
  exportedState,
  mergeExport,
  readExport,
  replayExport,
  writeExport,
} from './export.js'
export type { RestoreSummary } from './restore.js'
export { automergeStateDigest, yjsStateDigest } from './digest.js'
export { validateYjsUpdate } from './yjs/validate.js'
export type { AutomergeEngine } from './automerge/engine.js'
export { isEngineLoaded, registerEngine, type EngineFactory } from './registry.js'

registerEngine('yjs', (spaceId, replicaId) => new YjsEngine(replicaId, spaceId))

/**
 * Makes spaces on `kind` openable: Yjs always is; Automerge is imported here on first use (a
 * separate chunk in a bundled app, with its wasm), or by importing `@converge/merge/automerge`.
 */
export const loadEngine = async (kind: EngineKind): Promise<void> => {
  if (kind === 'automerge') await import('./automerge/index.js')
  engineFactory(kind)
}

export interface OpenOptions extends SpaceOptions {
  readonly engine: EngineKind
  /** The space id. Automerge derives the document's shared first change from it; Yjs records it. */
  readonly spaceId: string
  /** A state from `encodeStateAsUpdate` (storage, or a peer) to start from. */
  readonly state?: Uint8Array
}

const makeEngine = (kind: EngineKind, spaceId: string, replicaId: string): Engine => {
  if (!isReplicaId(replicaId))
    throw new MergeError('InvalidArgument', 'a replica id is 16 lower-case hex digits')
  return engineFactory(kind)(spaceId, replicaId)
}

/**
 * Opens an existing space: from stored or received state, or empty (a device joining from a link,
 * which then syncs). Updates from peers arrive through `space.applyUpdate`.
 */
export const openSpace = (options: OpenOptions): Space => {
  const engine = makeEngine(
    options.engine,
    options.spaceId,
    options.replicaId ?? randomReplicaId(options.random),
  )
  const space = new Space(engine, options.spaceId, options)
  if (options.state) space.applyUpdate(options.state, Origin.Load)
  return space
}

/** Creates a new space (a new id unless given) and writes its metadata: schema version, name. */
export const createSpace = (
  options: Omit<OpenOptions, 'spaceId' | 'state'> & { spaceId?: string; name?: string },
): Space => {
  const spaceId = options.spaceId ?? randomId(options.random)
  const space = openSpace({ ...options, spaceId, readOnly: false })
  space.initialise(options.name ?? '')
  if (options.readOnly) space.setReadOnly(true)
  return space
}
