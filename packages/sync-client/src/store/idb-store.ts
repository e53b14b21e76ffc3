/**
 * IdbStore — the browser's durable copy of every space, in IndexedDB through `idb`.
 *
 * Layout (database `converge`, schema version {@link DB_VERSION}, created/migrated by {@link upgrade}):
 * - `catalog`   keyPath `id`: one {@link SpaceRecord} per space on this device (name, tokens, `registered`).
 * - `updates`   autoIncrement key, index `spaceId`: the append-only log of Yjs updates, one
 *               {@link UpdateRecord} each, tagged with the local replica's `clientId` and its clock after
 *               the change (`clientId` -1 for updates that came from elsewhere).
 * - `snapshots` keyPath `spaceId`: the document built from everything removed from the log, as Yjs
 *               encodes a whole document (STORE-20), plus the list of local changes in it that the
 *               server had not acknowledged yet (`pending`).
 * - `meta`      keyPath `spaceId`: the last state vector the server confirmed as durably stored (`acked`).
 *
 * A space's state is `snapshot ⊕ log` (Yjs updates merge idempotently and commutatively, so the order
 * and any overlap between the two does not matter). `load` only reads. `append` adds log records and
 * resolves after the transaction's `complete` event — only then is a change "saved on this device".
 * The appends of one task share one transaction, issued at the end of the task (or at once by
 * `flushAppends`); each task's transaction is issued without waiting for the one before: IndexedDB
 * commits readwrite transactions on the same store in the order they were created.
 * `unconfirmed` = local changes (log records with clientId ≥ 0, plus snapshot `pending`), each
 * (client, clock) once, whose clock exceeds the acked state vector's clock for their client;
 * `pendingCount` counts them.
 *
 * Multiple tabs: each tab has its own Y.Doc (own clientID) and its own IdbStore connection to the same
 * database. Correctness rests on one IndexedDB guarantee: readwrite transactions with overlapping scopes
 * never interleave — they run one after the other, across connections and tabs. `compact` never holds
 * the log while it merges (STORE-19): it reads the snapshot and the space's log records in a read-only
 * transaction, merges outside any transaction, then in one short readwrite transaction over
 * `updates`+`snapshots` writes the merged snapshot and deletes exactly the keys it read — only if every
 * one of them is still there. A concurrent `append` from any tab is therefore either read (merged, and
 * deleted together with the snapshot's write) or has a key the compaction never read and stays in the
 * log. Records are only ever deleted by a compaction (which deletes at least one record it read) or by
 * `removeSpace`, and keys are never reused: so if another compaction (any tab) committed between this
 * one's read and its write, some key this one read is gone, and this one writes nothing — the other's
 * snapshot stands. An update is never lost and no local record is counted twice; `pending` moves from
 * log to snapshot in the same atomic step. Every write is a single transaction, and a failed one
 * (quota, crash) aborts atomically, leaving earlier data intact. A tab that upgrades the schema triggers `versionchange` in the others: they flush queued
 * appends, close their connection and reject later calls with `StoreError('VersionChange')`.
 *
 * Corrupt log/snapshot records are skipped on read and reported via `onCorrupt` — never deleted (neither
 * by `load` nor by `compact`, which leaves them in the log and refuses to overwrite a corrupt snapshot).
 */
import { wrap, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb'
import { type EngineKind, loadEngine, openSpace } from '@converge/merge'
import * as Y from 'yjs'
import { browser } from '../browser.js'
import { type EngineCodec, codecOf } from '../engine-codec.js'
import { applyInPasses } from '../local-store.js'
import { isQuotaError, StoreError } from './errors.js'
import {
  encodePending,
  groupByClient,
  parseAcked,
  parseAckedVector,
  parseSnapshotRecord,
  parseSpaceRecord,
  parseUpdateRecord,
  type MetaRecord,
  type PendingChange,
  type SnapshotRecord,
  type StoredSnapshot,
  unackedClocks,
  type SpaceRecord,
  type Unconfirmed,
  type UpdateRecord,
} from './records.js'

export const DEFAULT_DB_NAME = 'converge'
export const DB_VERSION = 1

export interface ConvergeDBSchema extends DBSchema {
  catalog: { key: string; value: SpaceRecord }
  updates: { key: number; value: UpdateRecord; indexes: { spaceId: string } }
  snapshots: { key: string; value: StoredSnapshot }
  meta: { key: string; value: MetaRecord }
}

export type ConvergeDB = IDBPDatabase<ConvergeDBSchema>

/**
 * The schema migration, run inside the `versionchange` transaction. Each step upgrades from the version
 * before it, so a database at any older version is brought up to {@link DB_VERSION}.
 */
export function upgrade(db: ConvergeDB, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('catalog', { keyPath: 'id' })
    const updates = db.createObjectStore('updates', { autoIncrement: true })
    updates.createIndex('spaceId', 'spaceId', { unique: false })
    db.createObjectStore('snapshots', { keyPath: 'spaceId' })
    db.createObjectStore('meta', { keyPath: 'spaceId' })
  }
}

export interface IdbStoreOptions {
  /** database name; default 'converge' */
  dbName?: string
  /**
   * the IndexedDB factory; default the browser's `indexedDB`. Passing the key with `undefined`/`null` means
   * "no IndexedDB" (→ `StoreError('Unavailable')`).
   */
  indexedDB?: IDBFactory | null
  /**
   * a stored record failed validation and was skipped; it is left in storage. `key` is the log record's
   * key, or the spaceId for a snapshot; listSpaces reports bad catalog records as (id, id, reason).
   */
  onCorrupt?: (spaceId: string, key: IDBValidKey, reason: string) => void
  /** another connection upgraded (or deleted) the database; this store is now closed */
  onVersionChange?: () => void
}

export interface LoadResult {
  /** the snapshot's update (if any) followed by the valid log updates in key order */
  updates: Uint8Array[]
  /** number of valid log records returned (excluding the snapshot) — a compaction hint */
  records: number
}

export type ChangeOrigin = { clientId: number; clock: number } | null

interface QueuedAppend {
  record: UpdateRecord
  resolve: () => void
  reject: (e: unknown) => void
}

type State = 'open' | 'closed' | 'versionchange' | 'lost'

export class IdbStore {
  readonly dbName: string
  #db: ConvergeDB
  #state: State = 'open'
  #queue: QueuedAppend[] = []
  #flushScheduled = false
  /** ENG-3: each space's engine, as the session that opened it said (`useEngine`); Yjs otherwise. */
  readonly #engines = new Map<string, EngineKind>()
  readonly #onCorrupt: IdbStoreOptions['onCorrupt']
  readonly #onVersionChange: IdbStoreOptions['onVersionChange']

  private constructor(db: ConvergeDB, dbName: string, options: IdbStoreOptions) {
    this.#db = db
    this.dbName = dbName
    this.#onCorrupt = options.onCorrupt
    this.#onVersionChange = options.onVersionChange
    db.addEventListener('versionchange', () => {
      if (this.#state !== 'open') return
      this.#flush() // queued appends still get their transaction before the connection closes
      this.#state = 'versionchange'
      db.close()
      try {
        this.#onVersionChange?.()
      } catch (e) {
        console.error('IdbStore onVersionChange callback threw', e)
      }
    })
    // Fired only on abnormal closure (e.g. the user cleared site data).
    db.addEventListener('close', () => {
      if (this.#state === 'open') this.#state = 'lost'
    })
  }

  /** Opens (creating or migrating) the database. Rejects with StoreError 'Unavailable' or 'VersionChange'. */
  static async open(options: IdbStoreOptions = {}): Promise<IdbStore> {
    const dbName = options.dbName ?? DEFAULT_DB_NAME
    const factory = 'indexedDB' in options ? options.indexedDB : browser.indexedDB()
    if (!factory || typeof factory.open !== 'function') {
      throw new StoreError('Unavailable', 'IndexedDB is not available in this environment')
    }
    if (!browser.hasIndexedDBInterfaces()) {
      throw new StoreError(
        'Unavailable',
        'the IndexedDB interfaces (IDBRequest, IDBTransaction…) are missing',
      )
    }
    const db = await openDatabase(factory, dbName)
    return new IdbStore(db, dbName, options)
  }

  /** Closes the connection after flushing queued appends; later calls reject with StoreError 'Failed'. */
  close(): void {
    if (this.#state !== 'open') return
    this.#flush()
    this.#state = 'closed'
    this.#db.close() // in-flight transactions still complete
  }

  // ---------------------------------------------------------------- catalog

  /** All valid catalog records (key order). A record that does not parse is skipped and reported via onCorrupt. */
  listSpaces(): Promise<SpaceRecord[]> {
    return this.#run('listSpaces', async (db) => {
      const tx = db.transaction('catalog', 'readonly')
      const [keys, values] = await inTransaction(tx, () =>
        issue(
          () => tx.store.getAllKeys(),
          () => tx.store.getAll() as Promise<unknown[]>,
        ),
      )
      const spaces: SpaceRecord[] = []
      values.forEach((value, i) => {
        const parsed = parseSpaceRecord(value)
        if (parsed.ok) spaces.push(parsed.value)
        else this.#reportCorrupt(String(keys[i]), keys[i]!, `catalog: ${parsed.reason}`)
      })
      return spaces
    })
  }

  /** The catalog record, `undefined` if absent; StoreError 'Corrupt' if the stored record does not parse. */
  getSpace(id: string): Promise<SpaceRecord | undefined> {
    return this.#run('getSpace', async (db) => {
      const value: unknown = await db.get('catalog', id)
      if (value === undefined) return undefined
      const parsed = parseSpaceRecord(value)
      if (!parsed.ok) throw new StoreError('Corrupt', `catalog record ${id}: ${parsed.reason}`)
      return parsed.value
    })
  }

  /** Inserts or replaces a catalog record (StoreError 'Corrupt' if the record is malformed). */
  putSpace(record: SpaceRecord): Promise<void> {
    return this.#run('putSpace', async (db) => {
      const parsed = parseSpaceRecord(record)
      if (!parsed.ok)
        throw new StoreError('Corrupt', `refusing to store an invalid catalog record: ${parsed.reason}`)
      const tx = db.transaction('catalog', 'readwrite')
      await inTransaction(tx, () => tx.store.put(parsed.value))
    })
  }

  /** Deletes the catalog record, log, snapshot and meta of one space, in one transaction. */
  removeSpace(id: string): Promise<void> {
    return this.#run('removeSpace', async (db) => {
      const tx = db.transaction(['catalog', 'updates', 'snapshots', 'meta'], 'readwrite')
      await inTransaction(tx, async () => {
        const updates = tx.objectStore('updates')
        const keys = await updates.index('spaceId').getAllKeys(id)
        await issue(
          () => tx.objectStore('catalog').delete(id),
          () => tx.objectStore('snapshots').delete(id),
          () => tx.objectStore('meta').delete(id),
          ...keys.map((k) => () => updates.delete(k)),
        )
      })
    })
  }

  // ---------------------------------------------------------------- updates

  /** Reads the snapshot and the log of a space. Never writes; corrupt records are skipped and reported. */
  load(spaceId: string): Promise<LoadResult> {
    return this.#run('load', async (db) => {
      const { snapshot, log, corrupt } = await readSpace(db, spaceId, this.#codec(spaceId))
      corrupt.forEach(([key, reason]) => this.#reportCorrupt(spaceId, key, reason))
      const updates = log.map((r) => r.record.update)
      if (snapshot) updates.unshift(snapshot.update)
      return { updates, records: log.length }
    })
  }

  /**
   * Appends one update to the log; resolves after the transaction's `complete` event (durable on this
   * device). Appends issued in the same turn share one transaction — they commit or fail together.
   * `origin` is the local replica's Yjs clientID and its clock after the change, or null for updates
   * that did not originate here (they are stored but never counted as pending).
   */
  append(spaceId: string, update: Uint8Array, origin: ChangeOrigin): Promise<void> {
    if (typeof spaceId !== 'string' || !(update instanceof Uint8Array)) {
      return Promise.reject(
        new StoreError('Failed', 'append: spaceId must be a string and update a Uint8Array'),
      )
    }
    if (
      origin !== null &&
      !(Number.isSafeInteger(origin.clientId) && origin.clientId >= 0 && Number.isSafeInteger(origin.clock))
    ) {
      return Promise.reject(
        new StoreError('Failed', 'append: origin must be { clientId ≥ 0, clock } or null'),
      )
    }
    // Structured clone stores the whole underlying ArrayBuffer of a view: copy views into larger buffers.
    const bytes =
      update.byteOffset === 0 && update.byteLength === update.buffer.byteLength ? update : update.slice()
    const record: UpdateRecord = {
      spaceId,
      update: bytes,
      clientId: origin ? origin.clientId : -1,
      clock: origin ? origin.clock : 0,
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject })
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        queueMicrotask(() => this.#flush())
      }
    })
  }

  /**
   * Merges the snapshot and all valid log records of a space into a new snapshot and deletes exactly the
   * records it read (STORE-4). No-op when there is nothing to shrink (no log record, or a single one and
   * no snapshot) or when the stored snapshot is corrupt. Three steps, so that appends issued meanwhile
   * wait for neither the merge nor a long transaction (STORE-19): a read-only transaction reads; the
   * merge runs outside any transaction; a short readwrite transaction writes the snapshot and deletes
   * the records read — unless one of them is gone (another compaction, in any tab, or `removeSpace`
   * came first), in which case it writes nothing (see the header).
   */
  compact(spaceId: string): Promise<void> {
    return this.#run('compact', async (db) => {
      const read = db.transaction(['updates', 'snapshots', 'meta'], 'readonly')
      const [snapRaw, keys, values, metaRaw] = await inTransaction(read, () =>
        issue(
          () => read.objectStore('snapshots').get(spaceId) as Promise<unknown>,
          () => read.objectStore('updates').index('spaceId').getAllKeys(spaceId),
          () => read.objectStore('updates').index('spaceId').getAll(spaceId) as Promise<unknown[]>,
          () => read.objectStore('meta').get(spaceId) as Promise<unknown>,
        ),
      )
      const codec = this.#codec(spaceId)
      const { snapshot, log, corrupt } = parseSpace(spaceId, snapRaw, keys, values, codec)
      corrupt.forEach(([key, reason]) => this.#reportCorrupt(spaceId, key, reason))
      if (snapRaw !== undefined && !snapshot) return // never overwrite what we cannot read
      if (log.length === 0 || (log.length === 1 && !snapshot)) return
      const merged = await documentState(codec.engine, spaceId, [
        ...(snapshot ? [snapshot.update] : []),
        ...log.map((r) => r.record.update),
      ])
      if (!merged) return // ENG-3: a record that does not apply: the log stays as it is
      const acked = parseAcked(metaRaw, codec)
      const fromLog = log
        .filter(({ record: { clientId } }) => clientId >= 0)
        .map(({ record: { clientId, clock } }) => ({ clientId, clocks: [clock] }))
      const pending = encodePending(unackedClocks([...(snapshot?.pending ?? []), ...fromLog], acked))
      const write = db.transaction(['updates', 'snapshots'], 'readwrite')
      await inTransaction(write, async () => {
        const updates = write.objectStore('updates')
        const present = new Set(await updates.index('spaceId').getAllKeys(spaceId))
        if (!log.every((r) => present.has(r.key))) return // another compaction's snapshot stands
        // The records read usually hold every key between the first and the last: then one range
        // deletes them all, rather than a request per record holding the appends behind this write.
        const span = IDBKeyRange.bound(log[0]!.key, log[log.length - 1]!.key)
        const contiguous = (await updates.count(span)) === log.length
        await issueAndCommit(
          write,
          () => write.objectStore('snapshots').put({ spaceId, update: merged, pending }),
          ...(contiguous ? [() => updates.delete(span)] : log.map((r) => () => updates.delete(r.key))),
        )
      })
    })
  }

  // ---------------------------------------------------------------- acknowledgements

  /**
   * Records the state vector the server confirmed as durably stored. Merged with the stored one by
   * per-client maximum, so a late, older ack (e.g. from another tab) never moves it backwards.
   */
  setAcked(spaceId: string, stateVector: Uint8Array): Promise<void> {
    const codec = this.#codec(spaceId)
    return this.#run('setAcked', async (db) => {
      let incoming: Map<string, number>
      try {
        incoming = codec.decodeVector(stateVector)
      } catch (e) {
        throw new StoreError('Failed', `setAcked: not a valid ${codec.engine} vector`, { cause: e })
      }
      const tx = db.transaction('meta', 'readwrite')
      await inTransaction(tx, async () => {
        const merged = parseAckedVector(await tx.store.get(spaceId), codec)
        for (const [writer, clock] of incoming) merged.set(writer, Math.max(clock, merged.get(writer) ?? 0))
        await tx.store.put({ spaceId, acked: codec.encodeVector(merged) })
      })
    })
  }

  /** The acked vector by writer number (ENG-2; empty map if none). */
  getAcked(spaceId: string): Promise<Map<number, number>> {
    const codec = this.#codec(spaceId)
    return this.#run('getAcked', async (db) => parseAcked(await db.get('meta', spaceId), codec))
  }

  /**
   * ENG-3: the engine of a space's records (a session says it when it opens the space; Yjs until
   * then): what its updates must decode as, how its acks read, how a compaction merges.
   */
  useEngine(spaceId: string, engine: EngineKind): void {
    this.#engines.set(spaceId, engine)
  }

  #codec(spaceId: string): EngineCodec {
    return codecOf(this.#engines.get(spaceId) ?? 'yjs')
  }

  /**
   * The local changes stored on this device that the server has not confirmed as durable (STORE-7):
   * log records with a client id, plus the snapshot's `pending`, each (client, clock) once, above the
   * stored ack; and that ack. It reads the whole log of the space: a session reads it when it opens
   * and when its tab starts to lead, and keeps the count itself from then on (LOCAL-3).
   */
  unconfirmed(spaceId: string): Promise<Unconfirmed> {
    return this.#run('unconfirmed', async (db) => {
      const tx = db.transaction(['updates', 'snapshots', 'meta'], 'readonly')
      const [snapRaw, values, metaRaw] = await inTransaction(tx, () =>
        issue(
          () => tx.objectStore('snapshots').get(spaceId) as Promise<unknown>,
          () => tx.objectStore('updates').index('spaceId').getAll(spaceId) as Promise<unknown[]>,
          () => tx.objectStore('meta').get(spaceId) as Promise<unknown>,
        ),
      )
      const codec = this.#codec(spaceId)
      const acked = parseAcked(metaRaw, codec)
      const snapshot = snapRaw === undefined ? undefined : parseSnapshotRecord(snapRaw, codec)
      const local: PendingChange[] = []
      if (snapshot?.ok)
        for (const { clientId, clocks } of snapshot.value.pending)
          for (const clock of clocks) local.push({ clientId, clock })
      for (const v of values) {
        // Cheap shape check only (no update decoding): the log may be long.
        if (typeof v !== 'object' || v === null || !((v as UpdateRecord).update instanceof Uint8Array))
          continue
        const { clientId, clock } = v as UpdateRecord
        if (Number.isSafeInteger(clientId) && clientId >= 0 && Number.isSafeInteger(clock))
          local.push({ clientId, clock })
      }
      const pending = groupByClient(local.filter((c) => c.clock > (acked.get(c.clientId) ?? 0)))
      return { acked, pending }
    })
  }

  /** Number of local changes stored on this device that the server has not confirmed as durable. */
  async pendingCount(spaceId: string): Promise<number> {
    const { pending } = await this.unconfirmed(spaceId)
    return pending.reduce((n, p) => n + p.clocks.length, 0)
  }

  /**
   * Issues the transaction of the appends made in this task now rather than at its end: for the
   * page's last moments (`pagehide`, `freeze`), when no later task may come (LOCAL-5).
   */
  flushAppends(): void {
    if (this.#state === 'open') this.#flush()
  }

  // ---------------------------------------------------------------- internals

  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#queue
    if (batch.length === 0) return
    this.#queue = []
    // #run creates the transaction synchronously (before its first await), which close() relies on.
    this.#run('append', async (db) => {
      const tx = db.transaction('updates', 'readwrite')
      await inTransaction(tx, () => issueAndCommit(tx, ...batch.map((b) => () => tx.store.put(b.record))))
    }).then(
      () => batch.forEach((b) => b.resolve()),
      (e: unknown) => batch.forEach((b) => b.reject(e)),
    )
  }

  #run<T>(op: string, fn: (db: ConvergeDB) => Promise<T>): Promise<T> {
    if (this.#state !== 'open') return Promise.reject(this.#stateError(op))
    let result: Promise<T>
    try {
      result = fn(this.#db)
    } catch (e) {
      result = Promise.reject(this.#toStoreError(op, e))
    }
    return result.catch((e: unknown) => {
      throw this.#toStoreError(op, e)
    })
  }

  #stateError(op: string): StoreError {
    switch (this.#state) {
      case 'versionchange':
        return new StoreError('VersionChange', `${op}: the database was upgraded by another tab; reload`)
      case 'lost':
        return new StoreError('Unavailable', `${op}: the database connection was closed by the browser`)
      default:
        return new StoreError('Failed', `${op}: the store is closed`)
    }
  }

  #toStoreError(op: string, e: unknown): StoreError {
    if (e instanceof StoreError) return e
    if (isQuotaError(e)) return new StoreError('QuotaExceeded', `${op}: storage quota exceeded`, { cause: e })
    if (this.#state !== 'open') return this.#stateError(op)
    return new StoreError('Failed', `${op} failed: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    })
  }

  #reportCorrupt(spaceId: string, key: IDBValidKey, reason: string): void {
    try {
      this.#onCorrupt?.(spaceId, key, reason)
    } catch (e) {
      console.error('IdbStore onCorrupt callback threw', e)
    }
  }
}

// ------------------------------------------------------------------ helpers

/**
 * STORE-20: what a compaction stores — the state of a document built from the updates it read, as Yjs
 * encodes a whole document (`encodeStateAsUpdate`): deleted text is collected (a length instead of its
 * characters) and a run of keystrokes is one struct. `Y.mergeUpdates` would keep every keystroke a
 * struct of its own and every deleted character, and a reopen would integrate them all again (after the
 * automerge-paper trace: 1 MB instead of 311 KB, and 190 ms instead of 14 ms to apply). Structs waiting
 * for a missing one (another tab's record read before the one it builds on) are kept: Yjs encodes the
 * pending ones too. Updates that parse but do not apply (never written by this code) fall back to the
 * plain merge, which loses nothing either.
 */
async function documentState(
  engine: EngineKind,
  spaceId: string,
  updates: Uint8Array[],
): Promise<Uint8Array | null> {
  if (engine !== 'yjs') return otherEngineState(engine, spaceId, updates)
  const doc = new Y.Doc({ gc: true })
  try {
    for (const u of updates) Y.applyUpdate(doc, u)
    return Y.encodeStateAsUpdate(doc)
  } catch (e) {
    console.warn('IdbStore: compaction fell back to merging updates', e)
    return Y.mergeUpdates(updates)
  } finally {
    doc.destroy()
  }
}

/**
 * ENG-3: a compaction on another engine (Automerge): the records applied to a replica of their own,
 * in passes (a record built on one stored after it waits for the next), and the state it then
 * encodes — each change once, in an order that applies. Null when a record never applies: the log
 * is then kept as it is, and nothing it holds is lost.
 */
async function otherEngineState(
  engine: EngineKind,
  spaceId: string,
  updates: Uint8Array[],
): Promise<Uint8Array | null> {
  await loadEngine(engine)
  const space = openSpace({ engine, spaceId })
  try {
    const { refused, waiting } = applyInPasses(space, updates)
    return refused.length === 0 && waiting === null ? space.encodeStateAsUpdate() : null
  } catch {
    return null // a record that does not apply, whatever the error: nothing is compacted
  } finally {
    space.destroy()
  }
}

interface ParsedSpace {
  snapshot: SnapshotRecord | undefined
  log: { key: number; record: UpdateRecord }[]
  corrupt: [IDBValidKey, string][]
}

async function readSpace(db: ConvergeDB, spaceId: string, codec: EngineCodec): Promise<ParsedSpace> {
  const tx = db.transaction(['snapshots', 'updates'], 'readonly')
  const [snapRaw, keys, values] = await inTransaction(tx, () =>
    issue(
      () => tx.objectStore('snapshots').get(spaceId) as Promise<unknown>,
      () => tx.objectStore('updates').index('spaceId').getAllKeys(spaceId),
      () => tx.objectStore('updates').index('spaceId').getAll(spaceId) as Promise<unknown[]>,
    ),
  )
  return parseSpace(spaceId, snapRaw, keys, values, codec)
}

function parseSpace(
  spaceId: string,
  snapRaw: unknown,
  keys: number[],
  values: unknown[],
  codec: EngineCodec,
): ParsedSpace {
  const corrupt: [IDBValidKey, string][] = []
  let snapshot: SnapshotRecord | undefined
  if (snapRaw !== undefined) {
    const parsed = parseSnapshotRecord(snapRaw, codec)
    if (parsed.ok) snapshot = parsed.value
    else corrupt.push([spaceId, parsed.reason])
  }
  const log: ParsedSpace['log'] = []
  values.forEach((value, i) => {
    const key = keys[i]!
    const parsed = parseUpdateRecord(value, codec)
    if (parsed.ok) log.push({ key, record: parsed.value })
    else corrupt.push([key, parsed.reason])
  })
  return { snapshot, log, corrupt }
}

/**
 * Runs `body` (which must issue its first request synchronously and await only IndexedDB requests) and
 * resolves after the transaction completes. On any failure the transaction is aborted — including a
 * synchronous throw, which IndexedDB would otherwise not treat as an abort — so nothing partial commits.
 */
async function inTransaction<T, S extends StoreNames<ConvergeDBSchema>[]>(
  tx: IDBPTransaction<ConvergeDBSchema, S, IDBTransactionMode>,
  body: () => Promise<T>,
): Promise<T> {
  const done = tx.done
  done.catch(() => {}) // observed below; avoid an unhandled rejection when body fails first
  try {
    const result = await body()
    await done
    return result
  } catch (e) {
    try {
      tx.abort()
    } catch {
      // already committed or aborted
    }
    const txError = (tx as unknown as { error: DOMException | null }).error
    throw isAbortError(e) && txError ? txError : e
  }
}

/**
 * Issues IndexedDB requests in order and awaits them all. If issuing one throws synchronously (e.g.
 * DataCloneError, or a quota error some engines throw from put), the requests already issued will be
 * aborted with the transaction: their rejections are marked handled so they don't surface as unhandled.
 */
function issue<T extends unknown[]>(...thunks: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  return issueThen(null, thunks)
}

/**
 * `issue`, then — once every request is issued, and only then — commits the transaction at once
 * (`IDBTransaction.commit`, where the browser has it). Left to commit by itself, a transaction commits
 * only after its requests' success events were dispatched on this thread and asked for nothing more:
 * on a page busy with typing those events queue behind the input, and the change, though handed
 * over, is not yet on the disk when the browser dies (LOCAL-6).
 */
function issueAndCommit<T extends unknown[]>(
  tx: { commit?: () => void },
  ...thunks: { [K in keyof T]: () => Promise<T[K]> }
): Promise<T> {
  return issueThen(tx, thunks)
}

function issueThen<T extends unknown[]>(
  tx: { commit?: () => void } | null,
  thunks: { [K in keyof T]: () => Promise<T[K]> },
): Promise<T> {
  const issued: Promise<unknown>[] = []
  try {
    for (const thunk of thunks) issued.push(thunk())
    if (typeof tx?.commit === 'function') tx.commit()
  } catch (e) {
    for (const p of issued) p.catch(() => {})
    return Promise.reject(e instanceof Error ? e : new Error(String(e), { cause: e }))
  }
  return Promise.all(issued) as Promise<T>
}

const isAbortError = (e: unknown) =>
  typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError'

function openDatabase(factory: IDBFactory, name: string): Promise<ConvergeDB> {
  return new Promise<ConvergeDB>((resolve, reject) => {
    let settled = false
    let request: IDBOpenDBRequest
    try {
      request = factory.open(name, DB_VERSION)
    } catch (e) {
      reject(new StoreError('Unavailable', `cannot open IndexedDB database ${name}`, { cause: e }))
      return
    }
    request.onupgradeneeded = (event) => {
      try {
        upgrade(wrap(request.result) as unknown as ConvergeDB, event.oldVersion)
      } catch (e) {
        console.error('IdbStore schema upgrade failed', e)
        request.transaction?.abort()
      }
    }
    request.onblocked = () => {
      if (settled) return
      settled = true
      reject(
        new StoreError(
          'Unavailable',
          `opening ${name} is blocked by another tab holding an older version open`,
        ),
      )
    }
    request.onsuccess = () => {
      const db = request.result
      if (settled) {
        db.close() // we already gave up (blocked); do not leak the connection
        return
      }
      settled = true
      resolve(wrap(db) as unknown as ConvergeDB)
    }
    request.onerror = (event) => {
      event.preventDefault()
      if (settled) return
      settled = true
      const err = request.error
      reject(
        err?.name === 'VersionError'
          ? new StoreError('VersionChange', `database ${name} is newer than this code (reload)`, {
              cause: err,
            })
          : new StoreError(
              'Unavailable',
              `cannot open IndexedDB database ${name}: ${err?.message ?? 'error'}`,
              {
                cause: err,
              },
            ),
      )
    }
  })
}
