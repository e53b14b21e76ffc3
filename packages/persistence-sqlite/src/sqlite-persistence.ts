import { statSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import {
  StorageError,
  knownEngine,
  silentLogger,
  systemScheduler,
  type Logger,
  type NewTrip,
  type Persistence,
  type RecordOutcome,
  type Scheduler,
  type SpaceEngine,
  type SpaceHistory,
  type SpaceRegistry,
  type StoredSpace,
  type StoredVersion,
  type Trip,
  type TripLedger,
  type TripLine,
  type TripStatus,
  type VersionInfo,
} from '@converge/server-core'

export interface SqlitePersistenceOptions {
  /** Path of the database file; its directory must exist. Created when missing. */
  file: string
  logger?: Logger
  /** When the appends of one turn are committed together: at the turn's end (default `systemScheduler`). */
  scheduler?: Scheduler
}

/** How long a write waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000

/**
 * The schema migrations: entry `i` brings the database from `PRAGMA user_version` i to i + 1.
 * Append new entries; never edit a released one.
 */
export const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE snapshots (
        space_id    TEXT PRIMARY KEY,
        data        BLOB NOT NULL,
        bytes       INTEGER NOT NULL,
        through_seq INTEGER NOT NULL
      );
      CREATE TABLE updates (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        space_id TEXT NOT NULL,
        data     BLOB NOT NULL
      );
      CREATE INDEX updates_space_seq ON updates (space_id, seq);
    `)
  },
  (db) => {
    db.exec(`CREATE TABLE spaces (space_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);`)
  },
  (db) => {
    // the link generation of each space (PROTOCOL.md §P5.10): 0 until its links are first reset
    db.exec(`ALTER TABLE spaces ADD COLUMN link_gen INTEGER NOT NULL DEFAULT 0;`)
  },
  (db) => {
    // the CRDT engine of each space (REG-10): what spaces registered before it were written in
    db.exec(`ALTER TABLE spaces ADD COLUMN engine TEXT NOT NULL DEFAULT 'yjs';`)
  },
  (db) => {
    // the trip ledger (TRIP-n): a space holds at most one pending trip, and at most one not void per
    // base version; one trip per (space, Idempotency-Key), ever
    db.exec(`
      CREATE TABLE trips (
        id                TEXT NOT NULL PRIMARY KEY,
        space_id          TEXT NOT NULL,
        idempotency_key   TEXT NOT NULL,
        base_version      TEXT NOT NULL,
        finished_by       TEXT NOT NULL,
        finished_at       INTEGER NOT NULL,
        lines             TEXT NOT NULL,
        total_cents       INTEGER NOT NULL,
        unpriced_lines    INTEGER NOT NULL,
        removal           BLOB NOT NULL,
        status            TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'void')),
        completed_version TEXT CHECK ((completed_version IS NOT NULL) = (status = 'complete')),
        void_reason       TEXT CHECK ((void_reason IS NOT NULL) = (status = 'void')),
        UNIQUE (space_id, idempotency_key)
      );
      CREATE UNIQUE INDEX trips_one_pending ON trips (space_id) WHERE status = 'pending';
      CREATE UNIQUE INDEX trips_base_version ON trips (space_id, base_version) WHERE status <> 'void';
      CREATE INDEX trips_newest ON trips (space_id, finished_at, id);
      CREATE INDEX trips_pending ON trips (finished_at, id) WHERE status = 'pending';
    `)
  },
  (db) => {
    // the version history of each space (HISTORY-n): ids from one AUTOINCREMENT, never reused; the
    // index (with the rowid it ends in) lists a space's versions newest first
    db.exec(`
      CREATE TABLE versions (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        space_id TEXT NOT NULL,
        at       INTEGER NOT NULL,
        changes  INTEGER NOT NULL,
        authors  TEXT NOT NULL,
        bytes    INTEGER NOT NULL,
        state    BLOB NOT NULL
      );
      CREATE INDEX versions_space_at ON versions (space_id, at);
    `)
  },
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Brings the schema to SCHEMA_VERSION, one migration per transaction. Returns the version found. */
export function migrate(db: Database.Database): number {
  const found = db.pragma('user_version', { simple: true }) as number
  if (found > SCHEMA_VERSION) {
    throw new Error(`schema version ${found} is newer than this code supports (${SCHEMA_VERSION})`)
  }
  for (let version = found; version < SCHEMA_VERSION; version++) {
    const step = MIGRATIONS[version]!
    db.transaction(() => {
      step(db)
      db.pragma(`user_version = ${version + 1}`)
    }).immediate()
  }
  return found
}

interface SnapshotRow {
  data: Buffer
  bytes: number
  through_seq: number
}

interface UpdateRow {
  seq: number
  data: Buffer
}

/** A row of `trips`. */
interface TripRow {
  id: string
  space_id: string
  idempotency_key: string
  base_version: string
  finished_by: string
  finished_at: number
  lines: string
  total_cents: number
  unpriced_lines: number
  removal: Buffer
  status: string
  completed_version: string | null
  void_reason: string | null
}

/** A row of `versions`, without its state. */
interface VersionRow {
  id: number
  space_id: string
  at: number
  changes: number
  authors: string
  bytes: number
}

const VERSION_COLUMNS = 'id, space_id, at, changes, authors, bytes'

const TRIP_COLUMNS = `id, space_id, idempotency_key, base_version, finished_by, finished_at, lines, total_cents,
  unpriced_lines, removal, status, completed_version, void_reason`

/**
 * Persistence (and the SpaceRegistry, table `spaces`, with each space's link generation) on one SQLite file through better-sqlite3. Updates go to an append-only `updates`
 * table (one global AUTOINCREMENT position, so positions increase per space and are never reused);
 * a compaction upserts the space's row in `snapshots` and deletes the updates it covers, in one
 * transaction. WAL + synchronous=FULL: an append's transaction is fsynced before its promise resolves.
 *
 * The TripLedger is table `trips`, on the main connection: each method is one IMMEDIATE transaction
 * (the write lock from its first read), so a read-then-insert in `record` cannot interleave with
 * another's; the unique indexes hold the rules should anything else write the table.
 *
 * The SpaceHistory is table `versions`, on the main connection too: each call is one statement (a
 * delete of several ids, one transaction), fsynced before it resolves.
 */
export class SqlitePersistence implements Persistence, SpaceRegistry, TripLedger, SpaceHistory {
  readonly file: string
  private readonly logger: Logger
  private readonly scheduler: Scheduler
  private db: Database.Database | null
  private readonly stmt: {
    snapshot: Database.Statement<[string], SnapshotRow>
    updates: Database.Statement<[string], UpdateRow>
    snapshotSeq: Database.Statement<[string], { through_seq: number }>
    lastUpdateSeq: Database.Statement<[string], { seq: number | null }>
    insertUpdate: Database.Statement<[string, Uint8Array]>
    upsertSnapshot: Database.Statement<[string, Uint8Array, number, number]>
    deleteUpdates: Database.Statement<[string, number]>
    registerSpace: Database.Statement<[string, number, string]>
    spaceEngine: Database.Statement<[string], { engine: string }>
    linkGeneration: Database.Statement<[string], { link_gen: number }>
    bumpLinkGeneration: Database.Statement<[string, number], { link_gen: number }>
    tripByKey: Database.Statement<[string, string], TripRow>
    tripHolding: Database.Statement<[string, string], TripRow>
    tripIdTaken: Database.Statement<[string], { one: number }>
    insertTrip: Database.Statement<[TripInsert]>
    trip: Database.Statement<[string, string], TripRow>
    settleTrip: Database.Statement<[string, string | null, string | null, string, string], TripRow>
    trips: Database.Statement<[string, number], TripRow>
    pendingTrips: Database.Statement<[], TripRow>
    insertVersion: Database.Statement<[string, number, number, string, number, Uint8Array]>
    versions: Database.Statement<[string, number], VersionRow>
    version: Database.Statement<[string, number], VersionRow & { state: Buffer }>
    deleteVersion: Database.Statement<[string, number]>
  }
  private readonly loadTx: (spaceId: string) => StoredSpace
  private readonly lastSeqTx: (spaceId: string) => number
  /** The thread that commits appends (its own connection), so an fsync never blocks the event loop. */
  private readonly appender: Worker
  private appenderFailed: Error | null = null
  private nextRequest = 1
  private readonly requests = new Map<number, { resolve(m: WorkerReply): void; reject(e: unknown): void }>()
  /** Appends waiting for the next transaction. */
  private queued: PendingAppend[] = []
  /** A batch is on the append thread. */
  private committing = false
  /** Waiting (in `close`) for the append thread to be done with every batch, queued and in flight. */
  private idleWaiters: (() => void)[] = []
  private readonly compactTx: (spaceId: string, snapshot: Uint8Array, throughSeq: number) => void
  private readonly recordTx: (trip: NewTrip) => RecordOutcome
  private readonly settleTx: (spaceId: string, id: string, to: Settled) => Trip
  private readonly deleteVersionsTx: (spaceId: string, ids: readonly number[]) => number

  constructor(options: SqlitePersistenceOptions) {
    this.file = options.file
    this.logger = options.logger ?? silentLogger
    this.scheduler = options.scheduler ?? systemScheduler
    let db: Database.Database | null = null
    try {
      db = new Database(this.file, { timeout: BUSY_TIMEOUT_MS })
      // Read the header before any write: a file that is not a database fails here, untouched.
      db.pragma('schema_version', { simple: true })
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
      const mode = db.pragma('journal_mode = WAL', { simple: true }) as string
      if (mode.toLowerCase() !== 'wal') throw new Error(`journal_mode is ${mode}, WAL could not be set`)
      db.pragma('synchronous = FULL')
      const found = migrate(db)
      this.stmt = {
        snapshot: db.prepare('SELECT data, bytes, through_seq FROM snapshots WHERE space_id = ?'),
        updates: db.prepare('SELECT seq, data FROM updates WHERE space_id = ? ORDER BY seq'),
        snapshotSeq: db.prepare('SELECT through_seq FROM snapshots WHERE space_id = ?'),
        lastUpdateSeq: db.prepare('SELECT max(seq) AS seq FROM updates WHERE space_id = ?'),
        insertUpdate: db.prepare('INSERT INTO updates (space_id, data) VALUES (?, ?)'),
        upsertSnapshot: db.prepare(
          `INSERT INTO snapshots (space_id, data, bytes, through_seq) VALUES (?, ?, ?, ?)
           ON CONFLICT (space_id) DO UPDATE
           SET data = excluded.data, bytes = excluded.bytes, through_seq = excluded.through_seq`,
        ),
        deleteUpdates: db.prepare('DELETE FROM updates WHERE space_id = ? AND seq <= ?'),
        registerSpace: db.prepare(
          'INSERT OR IGNORE INTO spaces (space_id, created_at, engine) VALUES (?, ?, ?)',
        ),
        spaceEngine: db.prepare('SELECT engine FROM spaces WHERE space_id = ?'),
        linkGeneration: db.prepare('SELECT link_gen FROM spaces WHERE space_id = ?'),
        bumpLinkGeneration: db.prepare(
          `INSERT INTO spaces (space_id, created_at, link_gen) VALUES (?, ?, 1)
           ON CONFLICT (space_id) DO UPDATE SET link_gen = link_gen + 1
           RETURNING link_gen`,
        ),
        tripByKey: db.prepare(`SELECT ${TRIP_COLUMNS} FROM trips WHERE space_id = ? AND idempotency_key = ?`),
        // the pending trip first: it is the one that holds the space (TRIP-3)
        tripHolding: db.prepare(
          `SELECT ${TRIP_COLUMNS} FROM trips
           WHERE space_id = ? AND (status = 'pending' OR (status <> 'void' AND base_version = ?))
           ORDER BY status = 'pending' DESC LIMIT 1`,
        ),
        tripIdTaken: db.prepare('SELECT 1 AS one FROM trips WHERE id = ?'),
        insertTrip: db.prepare(
          `INSERT INTO trips (${TRIP_COLUMNS})
           VALUES (@id, @spaceId, @idempotencyKey, @baseVersion, @finishedBy, @finishedAt, @lines,
                   @totalCents, @unpricedLines, @removal, 'pending', NULL, NULL)`,
        ),
        trip: db.prepare(`SELECT ${TRIP_COLUMNS} FROM trips WHERE space_id = ? AND id = ?`),
        settleTrip: db.prepare(
          `UPDATE trips SET status = ?, completed_version = ?, void_reason = ?
           WHERE space_id = ? AND id = ? AND status = 'pending'
           RETURNING ${TRIP_COLUMNS}`,
        ),
        trips: db.prepare(
          `SELECT ${TRIP_COLUMNS} FROM trips WHERE space_id = ? ORDER BY finished_at DESC, id DESC LIMIT ?`,
        ),
        pendingTrips: db.prepare(
          `SELECT ${TRIP_COLUMNS} FROM trips WHERE status = 'pending' ORDER BY finished_at, id`,
        ),
        insertVersion: db.prepare(
          'INSERT INTO versions (space_id, at, changes, authors, bytes, state) VALUES (?, ?, ?, ?, ?, ?)',
        ),
        versions: db.prepare(
          `SELECT ${VERSION_COLUMNS} FROM versions WHERE space_id = ? ORDER BY at DESC, id DESC LIMIT ?`,
        ),
        version: db.prepare(`SELECT ${VERSION_COLUMNS}, state FROM versions WHERE space_id = ? AND id = ?`),
        deleteVersion: db.prepare('DELETE FROM versions WHERE space_id = ? AND id = ?'),
      }
      this.db = db
      this.logger.info(
        { file: this.file, schemaVersion: SCHEMA_VERSION, migratedFrom: found },
        'sqlite persistence opened',
      )
    } catch (err) {
      try {
        db?.close()
      } catch {
        // the open error is the one to report
      }
      throw this.wrap(err, 'open', null)
    }

    const { stmt } = this

    const lastSeqOf = (spaceId: string, snapshotSeq: number | undefined): number =>
      Math.max(snapshotSeq ?? 0, stmt.lastUpdateSeq.get(spaceId)?.seq ?? 0)

    // A read transaction, so the snapshot and the updates are one consistent state.
    const loadTx = db.transaction((spaceId: string): StoredSpace => {
      const snap = stmt.snapshot.get(spaceId)
      const rows = stmt.updates.all(spaceId)
      const updates = rows.map((r) => view(r.data))
      const snapshot = snap ? view(snap.data) : null
      const bytes = (snapshot?.byteLength ?? 0) + updates.reduce((sum, u) => sum + u.byteLength, 0)
      const lastSeq = Math.max(snap?.through_seq ?? 0, rows.at(-1)?.seq ?? 0)
      return { snapshot, updates, lastSeq, bytes }
    })
    this.loadTx = (spaceId) => loadTx.deferred(spaceId)

    const lastSeqTx = db.transaction((spaceId: string): number =>
      lastSeqOf(spaceId, stmt.snapshotSeq.get(spaceId)?.through_seq),
    )
    this.lastSeqTx = (spaceId) => lastSeqTx.deferred(spaceId)

    const compactTx = db.transaction((spaceId: string, snapshot: Uint8Array, throughSeq: number): void => {
      const snapshotSeq = stmt.snapshotSeq.get(spaceId)?.through_seq
      const lastSeq = lastSeqOf(spaceId, snapshotSeq)
      if (throughSeq > lastSeq) {
        throw new RangeError(`throughSeq ${throughSeq} is past the last position ${lastSeq}`)
      }
      // A compaction older than the stored snapshot would replace newer state with older: ignore it.
      if (snapshotSeq !== undefined && throughSeq < snapshotSeq) {
        this.logger.warn({ file: this.file, spaceId, throughSeq, snapshotSeq }, 'stale compaction ignored')
        return
      }
      stmt.upsertSnapshot.run(spaceId, snapshot, snapshot.byteLength, throughSeq)
      stmt.deleteUpdates.run(spaceId, throughSeq)
    })
    this.compactTx = (spaceId, snapshot, throughSeq) => compactTx.immediate(spaceId, snapshot, throughSeq)

    // TRIP-1…3: read first (replay, then the trip holding the slot), then insert
    const recordTx = db.transaction((trip: NewTrip): RecordOutcome => {
      const same = stmt.tripByKey.get(trip.spaceId, trip.idempotencyKey)
      if (same) return { outcome: 'replay', trip: tripOf(same) }
      const holder = stmt.tripHolding.get(trip.spaceId, trip.baseVersion)
      if (holder) return { outcome: 'conflict', trip: tripOf(holder) }
      if (stmt.tripIdTaken.get(trip.id)) throw new Error(`trip id "${trip.id}" is taken`)
      stmt.insertTrip.run({
        id: trip.id,
        spaceId: trip.spaceId,
        idempotencyKey: trip.idempotencyKey,
        baseVersion: trip.baseVersion,
        finishedBy: trip.finishedBy,
        finishedAt: trip.finishedAt,
        lines: JSON.stringify(trip.lines.map(lineOf)),
        totalCents: trip.totalCents,
        unpricedLines: trip.unpricedLines,
        removal: trip.removal,
      })
      const row = stmt.trip.get(trip.spaceId, trip.id)
      if (!row) throw new Error('the recorded trip is not there')
      return { outcome: 'recorded', trip: tripOf(row) }
    })
    this.recordTx = (trip) => recordTx.immediate(trip)

    // TRIP-4: only a pending trip changes; any other is returned as it is
    const settleTx = db.transaction((spaceId: string, id: string, to: Settled): Trip => {
      const changed = stmt.settleTrip.get(to.status, to.completedVersion, to.voidReason, spaceId, id)
      if (changed) return tripOf(changed)
      const row = stmt.trip.get(spaceId, id)
      if (!row) throw new RangeError(`no trip "${id}"`)
      return tripOf(row)
    })
    this.settleTx = (spaceId, id, to) => settleTx.immediate(spaceId, id, to)

    // HISTORY-5: an id deleted twice (or twice in one call) counts once
    const deleteVersionsTx = db.transaction((spaceId: string, ids: readonly number[]): number => {
      let deleted = 0
      for (const id of new Set(ids))
        if (Number.isSafeInteger(id)) deleted += stmt.deleteVersion.run(spaceId, id).changes
      return deleted
    })
    this.deleteVersionsTx = (spaceId, ids) => deleteVersionsTx.immediate(spaceId, ids)

    this.appender = new Worker(new URL('./append-worker.js', import.meta.url), {
      workerData: { file: this.file, busyTimeoutMs: BUSY_TIMEOUT_MS },
      execArgv: [],
    })
    this.appender.unref() // it holds no work of its own: pending appends hold their callers
    this.appender.on('message', (m: WorkerReply) => {
      const request = this.requests.get(m.id)
      this.requests.delete(m.id)
      request?.resolve(m)
    })
    const lost = (e: Error): void => {
      this.appenderFailed ??= e
      for (const r of this.requests.values()) r.reject(e)
      this.requests.clear()
    }
    this.appender.on('error', lost)
    this.appender.on('exit', (code) => lost(new Error(`the append thread exited (code ${code})`)))
  }

  /** Sends one request to the append thread. */
  private ask(message: { batch: readonly PendingAppend[] } | { close: true }): Promise<WorkerReply> {
    if (this.appenderFailed) return Promise.reject(this.appenderFailed)
    const id = this.nextRequest++
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject })
      const body =
        'close' in message
          ? { id, close: true }
          : { id, batch: message.batch.map(({ spaceId, updates }) => ({ spaceId, updates })) }
      this.appender.postMessage(body)
    })
  }

  load(spaceId: string): Promise<StoredSpace> {
    return this.run('load', spaceId, () => this.loadTx(spaceId))
  }

  /**
   * Appends go into one transaction per event-loop turn, across spaces (rooms commit in the same turn),
   * committed on the append thread: many active spaces cost one fsync per turn rather than one each,
   * and the fsync does not block the event loop. Each promise resolves once that transaction committed.
   */
  append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    if (updates.length === 0 || !this.db) return this.run('append', spaceId, () => this.lastSeqTx(spaceId))
    return new Promise((resolve, reject) => {
      this.queued.push({ spaceId, updates, resolve, reject })
      if (this.queued.length === 1) this.scheduler.nextTurn(() => this.commitQueued())
    })
  }

  /**
   * Group commit: one batch in flight at a time. What arrives while the thread is committing (its
   * fsync) waits and goes in the next transaction together, so commits never queue up one per turn.
   */
  private commitQueued(): void {
    if (this.committing) return
    const batch = this.queued
    this.queued = []
    if (batch.length === 0) return
    const spaces = [...new Set(batch.map((a) => a.spaceId))].join(', ')
    const failed = (err: unknown): void => {
      const e = this.wrap(err, 'append', spaces)
      batch.forEach((a) => a.reject(e))
    }
    if (!this.db) return failed(new Error('the database is closed'))
    this.committing = true
    this.ask({ batch })
      .then((reply) => {
        if (reply.seqs) batch.forEach((a, i) => a.resolve(reply.seqs![i]!))
        else failed(Object.assign(new Error(reply.error ?? 'append failed'), { code: reply.code }))
      }, failed)
      .finally(() => {
        this.committing = false
        this.commitQueued()
        if (!this.committing) this.wakeIdle()
      })
  }

  /** Resolves once no batch is queued or on the append thread. */
  private idle(): Promise<void> {
    if (!this.committing && this.queued.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }

  /** Records a space id as taken; false when it already was (or already holds data). */
  registerSpace(spaceId: string, engine: SpaceEngine = 'yjs'): Promise<boolean> {
    return this.run('registerSpace', spaceId, () => {
      // a space holding data from before any registration was written in Yjs (REG-10): so it stays
      const holdsData = this.lastSeqTx(spaceId) !== 0
      const row = this.stmt.registerSpace.run(spaceId, Date.now(), holdsData ? 'yjs' : engine)
      return row.changes === 1 && !holdsData
    })
  }

  /** The space's engine: one indexed row of `spaces` ('yjs' when there is none). */
  spaceEngine(spaceId: string): Promise<SpaceEngine> {
    return this.run('spaceEngine', spaceId, () =>
      knownEngine(this.stmt.spaceEngine.get(spaceId)?.engine ?? 'yjs', spaceId),
    )
  }

  /** The space's link generation: one indexed row of `spaces` (0 when there is none). */
  linkGeneration(spaceId: string): Promise<number> {
    return this.run('linkGeneration', spaceId, () => this.stmt.linkGeneration.get(spaceId)?.link_gen ?? 0)
  }

  /**
   * The bytes the database takes on disk: its file, the write-ahead log and the shared-memory index
   * (a file not there counts 0) — the spaces, the trips and the saved versions alike, all in the one
   * file. What a storage quota measures (apps/server MAX_TOTAL_STORAGE_BYTES); three stat calls, no
   * query.
   */
  storageBytes(): Promise<number> {
    let total = 0
    for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) {
      try {
        total += statSync(f).size
      } catch {
        // absent (":memory:", or no WAL yet)
      }
    }
    return Promise.resolve(total)
  }

  /**
   * Raises the space's link generation in one statement (its own transaction, fsynced: WAL with
   * synchronous=FULL), creating the space's row in `spaces` when it has none.
   */
  bumpLinkGeneration(spaceId: string): Promise<number> {
    return this.run('bumpLinkGeneration', spaceId, () => {
      const row = this.stmt.bumpLinkGeneration.get(spaceId, Date.now())
      if (!row) throw new Error('the bump returned no row')
      return row.link_gen
    })
  }

  /** TRIP-1…3: one IMMEDIATE transaction, fsynced before it resolves. */
  record(trip: NewTrip): Promise<RecordOutcome> {
    return this.run('record', trip.spaceId, () => this.recordTx(trip))
  }

  /** TRIP-4: pending → complete, in one IMMEDIATE transaction. */
  complete(spaceId: string, id: string, version: string): Promise<Trip> {
    return this.run('complete', spaceId, () =>
      this.settleTx(spaceId, id, { status: 'complete', completedVersion: version, voidReason: null }),
    )
  }

  /** TRIP-4: pending → void, in one IMMEDIATE transaction. */
  void(spaceId: string, id: string, reason: string): Promise<Trip> {
    return this.run('void', spaceId, () =>
      this.settleTx(spaceId, id, { status: 'void', completedVersion: null, voidReason: reason }),
    )
  }

  trip(spaceId: string, id: string): Promise<Trip | null> {
    return this.run('trip', spaceId, () => {
      const row = this.stmt.trip.get(spaceId, id)
      return row ? tripOf(row) : null
    })
  }

  /** TRIP-2: one read of the unique index on (space_id, idempotency_key). */
  tripByKey(spaceId: string, idempotencyKey: string): Promise<Trip | null> {
    return this.run('tripByKey', spaceId, () => {
      const row = this.stmt.tripByKey.get(spaceId, idempotencyKey)
      return row ? tripOf(row) : null
    })
  }

  /** TRIP-5: one indexed read (`trips_newest`). */
  trips(spaceId: string, options?: { readonly limit?: number }): Promise<Trip[]> {
    const limit = options?.limit ?? 100
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return Promise.reject(
        new RangeError(`trips of space "${spaceId}": limit ${limit} is not a whole number ≥ 0`),
      )
    }
    return this.run('trips', spaceId, () => this.stmt.trips.all(spaceId, limit).map(tripOf))
  }

  /** TRIP-6: one read of the partial index `trips_pending`. */
  pendingTrips(): Promise<Trip[]> {
    return this.run('pendingTrips', null, () => this.stmt.pendingTrips.all().map(tripOf))
  }

  /** HISTORY-1, HISTORY-2, HISTORY-6: one INSERT (its own transaction, fsynced); the id is the AUTOINCREMENT's. */
  saveVersion(
    spaceId: string,
    v: {
      readonly at: number
      readonly changes: number
      readonly authors: readonly string[]
      readonly state: Uint8Array
    },
  ): Promise<number> {
    if (!Number.isSafeInteger(v.at))
      return Promise.reject(
        new RangeError(`saveVersion of space "${spaceId}": at ${v.at} is not a whole number`),
      )
    if (!Number.isSafeInteger(v.changes) || v.changes < 0)
      return Promise.reject(
        new RangeError(`saveVersion of space "${spaceId}": changes ${v.changes} is not a whole number ≥ 0`),
      )
    return this.run('saveVersion', spaceId, () => {
      const authors = JSON.stringify(v.authors)
      const r = this.stmt.insertVersion.run(spaceId, v.at, v.changes, authors, v.state.byteLength, v.state)
      return Number(r.lastInsertRowid)
    })
  }

  /** HISTORY-3: one read of `versions_space_at`, newest first. */
  versions(spaceId: string, options?: { readonly limit?: number }): Promise<VersionInfo[]> {
    const limit = options?.limit ?? 100
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return Promise.reject(
        new RangeError(`versions of space "${spaceId}": limit ${limit} is not a whole number ≥ 0`),
      )
    }
    return this.run('versions', spaceId, () => this.stmt.versions.all(spaceId, limit).map(versionInfoOf))
  }

  /** HISTORY-1, HISTORY-4: one primary-key read, of the space's own version only. */
  version(spaceId: string, id: number): Promise<StoredVersion | null> {
    return this.run('version', spaceId, () => {
      if (!Number.isSafeInteger(id)) return null
      const row = this.stmt.version.get(spaceId, id)
      return row ? { ...versionInfoOf(row), state: view(row.state) } : null
    })
  }

  /** HISTORY-4, HISTORY-5: one IMMEDIATE transaction; only the space's own ids are deleted. */
  deleteVersions(spaceId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return this.run('deleteVersions', spaceId, () => 0)
    return this.run('deleteVersions', spaceId, () => this.deleteVersionsTx(spaceId, ids))
  }

  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    if (!Number.isSafeInteger(throughSeq) || throughSeq < 0) {
      return Promise.reject(new RangeError(`compact of space "${spaceId}": bad throughSeq ${throughSeq}`))
    }
    return this.run('compact', spaceId, () => this.compactTx(spaceId, snapshot, throughSeq))
  }

  async close(): Promise<void> {
    const db = this.db
    if (!db) return
    // appends already queued still commit (now, not at the turn's end); later ones are refused
    this.commitQueued()
    await this.idle()
    this.db = null
    try {
      await this.ask({ close: true })
    } catch {
      // the thread is gone: nothing of its own left to close
    }
    await this.appender.terminate()
    await this.run('close', null, () => {
      db.close()
      this.logger.info({ file: this.file }, 'sqlite persistence closed')
    })
  }

  /** Runs one synchronous driver operation as a promise; driver errors become StorageError. */
  private run<T>(operation: string, spaceId: string | null, fn: () => T): Promise<T> {
    try {
      if (!this.db && operation !== 'close') throw new Error('the database is closed')
      return Promise.resolve(fn())
    } catch (err) {
      if (err instanceof RangeError) {
        return Promise.reject(new RangeError(`${operation} of space "${spaceId}": ${err.message}`))
      }
      return Promise.reject(this.wrap(err, operation, spaceId))
    }
  }

  private wrap(err: unknown, operation: string, spaceId: string | null): StorageError {
    const code = (err as { code?: unknown } | null)?.code
    const reason = err instanceof Error ? err.message : String(err)
    const where = spaceId === null ? '' : ` of space "${spaceId}"`
    this.logger.error(
      { file: this.file, operation, spaceId, code: typeof code === 'string' ? code : undefined },
      'sqlite persistence operation failed',
    )
    return new StorageError(`SQLite ${operation}${where} failed (${this.file}): ${reason}`, { cause: err })
  }
}

interface WorkerReply {
  readonly id: number
  readonly seqs?: number[]
  readonly error?: string
  readonly code?: string
}

interface PendingAppend {
  readonly spaceId: string
  readonly updates: readonly Uint8Array[]
  resolve(seq: number): void
  reject(err: unknown): void
}

/** The new state of a trip `complete` or `void` settles. */
interface Settled {
  readonly status: TripStatus
  readonly completedVersion: string | null
  readonly voidReason: string | null
}

/** The named parameters of `insertTrip`. */
interface TripInsert {
  id: string
  spaceId: string
  idempotencyKey: string
  baseVersion: string
  finishedBy: string
  finishedAt: number
  lines: string
  totalCents: number
  unpricedLines: number
  removal: Uint8Array
}

const TRIP_STATUSES: readonly string[] = ['pending', 'complete', 'void'] satisfies TripStatus[]

/** Exactly a TripLine's fields, in order (what is stored as JSON, and what is read back). */
function lineOf(l: TripLine): TripLine {
  return {
    key: l.key,
    name: l.name,
    quantity: l.quantity,
    unit: l.unit,
    priceCents: l.priceCents,
    checkedBy: l.checkedBy,
  }
}

/** A row of `trips` as a Trip; a status the code does not know is a StorageError. */
function tripOf(row: TripRow): Trip {
  if (!TRIP_STATUSES.includes(row.status)) {
    throw new StorageError(`trip "${row.id}" is stored with an unknown status "${row.status}"`)
  }
  return {
    id: row.id,
    spaceId: row.space_id,
    idempotencyKey: row.idempotency_key,
    baseVersion: row.base_version,
    finishedBy: row.finished_by,
    finishedAt: row.finished_at,
    lines: (JSON.parse(row.lines) as TripLine[]).map(lineOf),
    totalCents: row.total_cents,
    unpricedLines: row.unpriced_lines,
    removal: view(row.removal),
    status: row.status as TripStatus,
    completedVersion: row.completed_version,
    voidReason: row.void_reason,
  }
}

/** A row of `versions` as a VersionInfo. */
function versionInfoOf(row: VersionRow): VersionInfo {
  return {
    id: row.id,
    spaceId: row.space_id,
    at: row.at,
    changes: row.changes,
    authors: JSON.parse(row.authors) as string[],
    bytes: row.bytes,
  }
}

/** A plain Uint8Array over the driver's Buffer (no copy). */
function view(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}
