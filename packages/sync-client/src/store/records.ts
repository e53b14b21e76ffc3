/** Record shapes stored in IndexedDB and their validators (everything read back is treated as untrusted). */
import * as Y from 'yjs'

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

/** The compacted state of a space (`snapshots` store, key spaceId). */
export interface SnapshotRecord {
  spaceId: string
  update: Uint8Array
  /** local changes merged into `update` that the server had not yet acknowledged at compaction time */
  pending: PendingChange[]
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

/** Checks that `update` is a Uint8Array holding a decodable Yjs (v1) update. */
export function checkUpdate(update: unknown): string | undefined {
  if (!(update instanceof Uint8Array)) return 'update is not a Uint8Array'
  try {
    Y.decodeUpdate(update)
  } catch (e) {
    return `update does not decode: ${e instanceof Error ? e.message : String(e)}`
  }
  return undefined
}

export function parseUpdateRecord(value: unknown): Result<UpdateRecord> {
  if (!isObject(value)) return { ok: false, reason: 'record is not an object' }
  const bad = checkUpdate(value.update)
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

export function parseSnapshotRecord(value: unknown): Result<SnapshotRecord> {
  if (!isObject(value)) return { ok: false, reason: 'snapshot is not an object' }
  const bad = checkUpdate(value.update)
  if (bad) return { ok: false, reason: `snapshot ${bad}` }
  const pendingRaw = value.pending ?? []
  if (!Array.isArray(pendingRaw)) return { ok: false, reason: 'snapshot pending is not an array' }
  const pending: PendingChange[] = []
  for (const p of pendingRaw as unknown[]) {
    if (!isObject(p) || !isClientId(p.clientId) || p.clientId < 0 || !isClock(p.clock)) {
      return { ok: false, reason: 'snapshot pending entry is malformed' }
    }
    pending.push({ clientId: p.clientId, clock: p.clock })
  }
  return { ok: true, value: { spaceId: String(value.spaceId), update: value.update as Uint8Array, pending } }
}

/** Decodes a stored acked state vector; a missing or malformed one counts as "nothing acked". */
export function parseAcked(value: unknown): Map<number, number> {
  if (!isObject(value) || !(value.acked instanceof Uint8Array)) return new Map()
  try {
    return Y.decodeStateVector(value.acked)
  } catch {
    return new Map()
  }
}

export function parseSpaceRecord(value: unknown): Result<SpaceRecord> {
  if (!isObject(value)) return { ok: false, reason: 'catalog record is not an object' }
  const { id, name, writeToken, readToken, createdAt, lastOpenedAt, registered } = value
  if (typeof id !== 'string' || id === '') return { ok: false, reason: 'id is not a non-empty string' }
  if (typeof name !== 'string') return { ok: false, reason: 'name is not a string' }
  if (!optString(writeToken) || !optString(readToken)) return { ok: false, reason: 'token is not a string' }
  if (!isTime(createdAt) || !isTime(lastOpenedAt)) return { ok: false, reason: 'timestamps are not numbers' }
  if (typeof registered !== 'boolean') return { ok: false, reason: 'registered is not a boolean' }
  // Copy the known fields only: never store (or hand out) anything else that happened to be attached.
  const record: SpaceRecord = { id, name, createdAt, lastOpenedAt, registered }
  if (writeToken !== undefined) record.writeToken = writeToken
  if (readToken !== undefined) record.readToken = readToken
  return { ok: true, value: record }
}

/** Counts changes whose clock exceeds the acked clock of their client. */
export function countPending(changes: Iterable<PendingChange>, acked: Map<number, number>): number {
  let n = 0
  for (const c of changes) if (c.clientId >= 0 && c.clock > (acked.get(c.clientId) ?? 0)) n++
  return n
}
