/** Record shapes stored in IndexedDB and their validators (everything read back is treated as untrusted). */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type EngineCodec, byWriterNumber, codecOf } from '../engine-codec.js'

/** One space known on this device. */
export interface SpaceRecord {
  id: string
  name: string
  writeToken?: string
  readToken?: string
  /** ms since epoch */
  createdAt: number
  /** ms since epoch */
  lastOpenedAt: number
  /** false for a space created offline and not yet registered on the server */
  registered: boolean
  /** ENG-1: the engine the space was created with; absent in records written before engines (Yjs). */
  engine?: 'yjs' | 'automerge'
}

/** A local change not yet confirmed durable by the server: the Yjs client id and its clock after the change. */
export interface PendingChange {
  clientId: number
  clock: number
}

/** One entry of the append-only update log (`updates` store, autoIncrement key). */
export interface UpdateRecord {
  spaceId: string
  update: Uint8Array
  /** Yjs clientID of the local replica that made the change, or -1 for non-local updates */
  clientId: number
  /** that client's clock (state-vector entry) right after the change; 0 when clientId is -1 */
  clock: number
}

/** One client's local changes not yet acknowledged: their clocks, ascending. */
export interface PendingClocks {
  clientId: number
  clocks: number[]
}

/** The compacted state of a space (`snapshots` store, key spaceId), as read. */
export interface SnapshotRecord {
  spaceId: string
  update: Uint8Array
  /** local changes merged into `update` that the server had not yet acknowledged at compaction time */
  pending: PendingClocks[]
}

/**
 * A snapshot as stored: `pending` holds, per client, its clocks as lib0 varint deltas — a couple of
 * bytes per change rather than an object each (a device offline for a long session has one per
 * keystroke, rewritten by every compaction). Snapshots written before held `{ clientId, clock }`
 * objects; both are read.
 */
export interface StoredSnapshot {
  spaceId: string
  update: Uint8Array
  pending: { clientId: number; clocks: Uint8Array }[]
}

/** Groups clocks by client (ascending, without duplicates) and delta-encodes them for storage. */
export function encodePending(pending: Iterable<PendingClocks>): StoredSnapshot['pending'] {
  const byClient = new Map<number, number[]>()
  for (const { clientId, clocks } of pending) {
    const list = byClient.get(clientId) ?? []
    list.push(...clocks)
    byClient.set(clientId, list)
  }
  const out: StoredSnapshot['pending'] = []
  for (const [clientId, clocks] of byClient) {
    if (clocks.length === 0) continue
    clocks.sort((a, b) => a - b)
    const enc = encoding.createEncoder()
    let last = 0
    clocks.forEach((c, i) => {
      if (i > 0 && c === last) return // the same change counted twice (log and snapshot)
      encoding.writeVarUint(enc, c - last)
      last = c
    })
    out.push({ clientId, clocks: encoding.toUint8Array(enc) })
  }
  return out
}

function decodeClocks(bytes: Uint8Array): number[] | undefined {
  const clocks: number[] = []
  try {
    const dec = decoding.createDecoder(bytes)
    let last = 0
    while (decoding.hasContent(dec)) {
      last += decoding.readVarUint(dec)
      clocks.push(last)
    }
  } catch {
    return undefined
  }
  return clocks
}

/** Per-space sync metadata (`meta` store, key spaceId). */
export interface MetaRecord {
  spaceId: string
  /** encoded Yjs state vector the server last confirmed as durably stored */
  acked: Uint8Array
}

type Result<T> = { ok: true; value: T } | { ok: false; reason: string }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const isClock = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isClientId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= -1
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const optString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string'

const YJS = codecOf('yjs')

/** Checks that `update` is a Uint8Array holding a decodable Yjs (v1) update. */
export const checkUpdate = (update: unknown): string | undefined => YJS.checkUpdate(update)

/** `codec`: the space's engine (ENG-3): what a stored update must decode as. */
export function parseUpdateRecord(value: unknown, codec: EngineCodec = YJS): Result<UpdateRecord> {
  if (!isObject(value)) return { ok: false, reason: 'record is not an object' }
  const bad = codec.checkUpdate(value.update)
  if (bad) return { ok: false, reason: bad }
  // A malformed origin only means the change cannot be counted as local: the update itself is fine.
  const local = isClientId(value.clientId) && value.clientId >= 0 && isClock(value.clock)
  return {
    ok: true,
    value: {
      spaceId: String(value.spaceId),
      update: value.update as Uint8Array,
      clientId: local ? (value.clientId as number) : -1,
      clock: local ? (value.clock as number) : 0,
    },
  }
}

export function parseSnapshotRecord(value: unknown, codec: EngineCodec = YJS): Result<SnapshotRecord> {
  if (!isObject(value)) return { ok: false, reason: 'snapshot is not an object' }
  const bad = codec.checkUpdate(value.update)
  if (bad) return { ok: false, reason: `snapshot ${bad}` }
  const pendingRaw = value.pending ?? []
  if (!Array.isArray(pendingRaw)) return { ok: false, reason: 'snapshot pending is not an array' }
  const byClient = new Map<number, number[]>()
  for (const p of pendingRaw as unknown[]) {
    if (!isObject(p) || !isClientId(p.clientId) || p.clientId < 0)
      return { ok: false, reason: 'snapshot pending entry is malformed' }
    const list = byClient.get(p.clientId) ?? []
    if (isClock(p.clock))
      list.push(p.clock) // the format before compact clocks
    else {
      const clocks = p.clocks instanceof Uint8Array ? decodeClocks(p.clocks) : undefined
      if (!clocks) return { ok: false, reason: 'snapshot pending entry is malformed' }
      list.push(...clocks)
    }
    byClient.set(p.clientId, list)
  }
  const pending = [...byClient].map(([clientId, clocks]) => ({ clientId, clocks }))
  return { ok: true, value: { spaceId: String(value.spaceId), update: value.update as Uint8Array, pending } }
}

/**
 * Decodes a stored acked vector, keyed by writer as the engine names them; a missing or malformed
 * one counts as "nothing acked".
 */
export function parseAckedVector(value: unknown, codec: EngineCodec = YJS): Map<string, number> {
  if (!isObject(value) || !(value.acked instanceof Uint8Array)) return new Map()
  try {
    return codec.decodeVector(value.acked)
  } catch {
    return new Map()
  }
}

/** The stored acked vector by the writer numbers the store counts changes by (ENG-2). */
export function parseAcked(value: unknown, codec: EngineCodec = YJS): Map<number, number> {
  return byWriterNumber(codec, parseAckedVector(value, codec))
}

export function parseSpaceRecord(value: unknown): Result<SpaceRecord> {
  if (!isObject(value)) return { ok: false, reason: 'catalog record is not an object' }
  const { id, name, writeToken, readToken, createdAt, lastOpenedAt, registered, engine } = value
  if (typeof id !== 'string' || id === '') return { ok: false, reason: 'id is not a non-empty string' }
  if (typeof name !== 'string') return { ok: false, reason: 'name is not a string' }
  if (!optString(writeToken) || !optString(readToken)) return { ok: false, reason: 'token is not a string' }
  if (!isTime(createdAt) || !isTime(lastOpenedAt)) return { ok: false, reason: 'timestamps are not numbers' }
  if (typeof registered !== 'boolean') return { ok: false, reason: 'registered is not a boolean' }
  if (engine !== undefined && engine !== 'yjs' && engine !== 'automerge')
    return { ok: false, reason: 'engine is not yjs or automerge' }
  // Copy the known fields only: never store (or hand out) anything else that happened to be attached.
  const record: SpaceRecord = { id, name, createdAt, lastOpenedAt, registered }
  if (writeToken !== undefined) record.writeToken = writeToken
  if (readToken !== undefined) record.readToken = readToken
  if (engine === 'automerge') record.engine = engine
  return { ok: true, value: record }
}

/**
 * The local changes stored on a device that the server has not confirmed, and the stored ack they
 * were read against (STORE-7): per client its clocks above the acked one, ascending, each once.
 */
export interface Unconfirmed {
  readonly acked: Map<number, number>
  readonly pending: PendingClocks[]
}

/** Groups changes by client, keeping each (client, clock) once, ascending. */
export function groupByClient(changes: Iterable<PendingChange>): PendingClocks[] {
  const byClient = new Map<number, Set<number>>()
  for (const { clientId, clock } of changes) {
    const set = byClient.get(clientId) ?? new Set()
    set.add(clock)
    byClient.set(clientId, set)
  }
  return [...byClient].map(([clientId, clocks]) => ({ clientId, clocks: [...clocks].sort((a, b) => a - b) }))
}

/** The clocks of `pending` that the acked state vector does not cover. */
export function unackedClocks(
  pending: readonly PendingClocks[],
  acked: Map<number, number>,
): PendingClocks[] {
  return pending.map(({ clientId, clocks }) => {
    const a = acked.get(clientId) ?? 0
    return { clientId, clocks: clocks.filter((c) => c > a) }
  })
}
