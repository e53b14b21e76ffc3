/**
 * What the sync client reads differently on a Yjs and an Automerge space (SPEC.md ENG-1…ENG-3;
 * PROTOCOL.md §P8): the vectors of durable acks, the updates it keeps on the device, and the number
 * its store counts a writer's changes by. Everything else — the document itself, what a peer lacks,
 * applying an update — is merge's `Space`, the same on both engines.
 */
import {
  type AutomergeEngine,
  type EngineKind,
  type Space,
  type YjsEngine,
  yjsStateDigest,
} from '@converge/merge'
import { decodeList, decodeVersionVector, encodeVersionVector } from '@converge/merge/validate'
import * as Y from 'yjs'

/** What a connection, the tabs and the store need of a replica: merge's `Space` fits, or a bare `Y.Doc`. */
export interface SyncDocument {
  readonly engine: EngineKind
  stateVector(): Uint8Array
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
  /** Every change, with its origin; returns the way to stop listening. */
  onUpdate(listener: (update: Uint8Array, origin: unknown) => void): () => void
  /**
   * PROBE-1 (merge): a hash of the whole state, equal on replicas that hold the same state. Without
   * it, no digest is sent (PROBE-3).
   */
  stateDigest?(): Uint8Array
  /** Whether a durable ack's vector covers every change of the replica (SYNC-1: "saved"; PROBE-3). */
  coveredBy?(acked: Uint8Array): boolean
}

/** A space as a SyncDocument (its change events carry the origin the change was made with). */
export const spaceDocument = (space: Space): SyncDocument => ({
  engine: space.engineKind,
  stateVector: () => space.stateVector(),
  encodeStateAsUpdate: (sv) => space.encodeStateAsUpdate(sv),
  onUpdate: (listener) => space.onUpdate((update, e) => listener(update, e.origin)),
  stateDigest: () => space.stateDigest(),
  coveredBy: (acked) => ackCovers(space, acked),
})

/** A bare Y.Doc as a SyncDocument (tests and tools that sync a document without the domain). */
export const yjsDocument = (doc: Y.Doc): SyncDocument => ({
  engine: 'yjs',
  stateVector: () => Y.encodeStateVector(doc),
  encodeStateAsUpdate: (sv) => Y.encodeStateAsUpdate(doc, sv),
  onUpdate: (listener) => {
    const f = (update: Uint8Array, origin: unknown): void => listener(update, origin)
    doc.on('update', f)
    return () => doc.off('update', f)
  },
  stateDigest: () => yjsStateDigest(doc),
  coveredBy: (acked) => {
    let server: Map<number, number>
    try {
      server = Y.decodeStateVector(acked)
    } catch {
      return false
    }
    for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc)))
      if ((server.get(client) ?? 0) < clock) return false
    return true
  },
})

export interface EngineCodec {
  readonly engine: EngineKind
  /** A vector from the server or storage, keyed as `Space.versionVector()` (Yjs: the client id in decimal). Throws when it does not decode. */
  decodeVector(bytes: Uint8Array): Map<string, number>
  encodeVector(vector: ReadonlyMap<string, number>): Uint8Array
  /**
   * ENG-2: the number the device's store counts a writer's changes by. Yjs: the client id. Automerge:
   * the first 13 hex digits of the actor (52 bits, a safe integer) — actors are random 64-bit ids, so
   * two writers of one space share it with a chance of about n² / 2⁵³.
   */
  writerNumber(writer: string): number
  /** Why bytes kept on the device are not an update of this engine, or undefined when they are. */
  checkUpdate(update: unknown): string | undefined
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const yjsCodec: EngineCodec = {
  engine: 'yjs',
  decodeVector: (bytes) => new Map([...Y.decodeStateVector(bytes)].map(([c, clock]) => [String(c), clock])),
  encodeVector: (v) => Y.encodeStateVector(new Map([...v].map(([c, clock]) => [Number(c), clock]))),
  writerNumber: (writer) => Number(writer),
  checkUpdate: (update) => {
    if (!(update instanceof Uint8Array)) return 'update is not a Uint8Array'
    try {
      Y.decodeUpdate(update)
    } catch (e) {
      return `update does not decode: ${reason(e)}`
    }
    return undefined
  },
}

const automergeCodec: EngineCodec = {
  engine: 'automerge',
  decodeVector: (bytes) => decodeVersionVector(bytes),
  encodeVector: (v) => encodeVersionVector(v),
  writerNumber: (writer) => parseInt(writer.slice(0, 13), 16),
  checkUpdate: (update) => {
    if (!(update instanceof Uint8Array)) return 'update is not a Uint8Array'
    try {
      decodeList(update, 'update')
    } catch (e) {
      return `update does not decode: ${reason(e)}`
    }
    return undefined
  },
}

export const codecOf = (engine: EngineKind): EngineCodec =>
  engine === 'automerge' ? automergeCodec : yjsCodec

/** ENG-2: a vector by the writer numbers the store counts changes by (two writers of one number: the higher clock). */
export const byWriterNumber = (
  codec: EngineCodec,
  vector: ReadonlyMap<string, number>,
): Map<number, number> => {
  const out = new Map<number, number>()
  for (const [writer, clock] of vector) {
    const n = codec.writerNumber(writer)
    out.set(n, Math.max(out.get(n) ?? 0, clock))
  }
  return out
}

/** ENG-2: this replica's own writer (as its store counts it) and its clock now. */
export const ownClock = (space: Space): { clientId: number; clock: number } => {
  if (space.engineKind === 'automerge') {
    const engine = space.engine as AutomergeEngine
    return { clientId: automergeCodec.writerNumber(space.replicaId), clock: engine.seqOf(space.replicaId) }
  }
  const doc = (space.engine as YjsEngine).doc
  return { clientId: doc.clientID, clock: Y.getState(doc.store, doc.clientID) }
}

/**
 * Whether the server's committed vector covers every change `space` holds (PROTOCOL.md §P4.1, §P8.2):
 * for every writer, the acked clock is at least the space's.
 */
export const ackCovers = (space: Space, acked: Uint8Array | null): boolean => {
  if (!acked) return false
  let server: Map<string, number>
  try {
    server = codecOf(space.engineKind).decodeVector(acked)
  } catch {
    return false
  }
  for (const [writer, clock] of space.versionVector()) if ((server.get(writer) ?? 0) < clock) return false
  return true
}
