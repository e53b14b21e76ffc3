import {
  StorageError,
  knownEngine,
  silentLogger,
  type Logger,
  type NewTrip,
  type Persistence,
  type RecordOutcome,
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
import pg from 'pg'

export interface PostgresPersistenceOptions {
  /** `postgres://user@host:port/database` (pg's connection string). */
  connectionString: string
  /** The schema holding Converge's tables; created when missing. Default `public`. */
  schema?: string
  /** Connections in the pool. Default 10. */
  poolSize?: number
  /** How long to wait for a connection, and for one statement, before failing. Default 10 s. */
  timeoutMs?: number
  logger?: Logger
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * The schema migrations: entry `i` brings the schema from version i to i + 1 (`converge_migrations`).
 * `S` is the quoted schema name. Append new entries; never edit a released one.
 */
export const MIGRATIONS: readonly ((S: string) => string)[] = [
  (S) => `
    CREATE TABLE ${S}.converge_spaces (
      space_id   text PRIMARY KEY,
      last_seq   bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE ${S}.converge_updates (
      space_id text NOT NULL,
      seq      bigint NOT NULL,
      data     bytea NOT NULL,
      PRIMARY KEY (space_id, seq)
    );
    CREATE TABLE ${S}.converge_snapshots (
      space_id    text PRIMARY KEY,
      data        bytea NOT NULL,
      through_seq bigint NOT NULL
    );`,
  // the link generation of each space (PROTOCOL.md §P5.10): 0 until its links are first reset
  (S) => `ALTER TABLE ${S}.converge_spaces ADD COLUMN link_gen bigint NOT NULL DEFAULT 0;`,
  // the CRDT engine of each space (REG-10): what spaces registered before it were written in
  (S) => `ALTER TABLE ${S}.converge_spaces ADD COLUMN engine text NOT NULL DEFAULT 'yjs';`,
  // the trip ledger (TRIP-n): a space holds at most one pending trip, and at most one not void per
  // base version; one trip per (space, Idempotency-Key), ever. Lines are JSON text (read back exactly).
  (S) => `
    CREATE TABLE ${S}.converge_trips (
      id                text PRIMARY KEY,
      space_id          text NOT NULL,
      idempotency_key   text NOT NULL,
      base_version      text NOT NULL,
      finished_by       text NOT NULL,
      finished_at       bigint NOT NULL,
      lines             text NOT NULL,
      total_cents       bigint NOT NULL,
      unpriced_lines    integer NOT NULL,
      removal           bytea NOT NULL,
      status            text NOT NULL CHECK (status IN ('pending', 'complete', 'void')),
      completed_version text CHECK ((completed_version IS NOT NULL) = (status = 'complete')),
      void_reason       text CHECK ((void_reason IS NOT NULL) = (status = 'void')),
      recorded_at       timestamptz NOT NULL DEFAULT now(),
      UNIQUE (space_id, idempotency_key)
    );
    CREATE UNIQUE INDEX converge_trips_one_pending ON ${S}.converge_trips (space_id) WHERE status = 'pending';
    CREATE UNIQUE INDEX converge_trips_base_version ON ${S}.converge_trips (space_id, base_version)
      WHERE status <> 'void';
    CREATE INDEX converge_trips_newest ON ${S}.converge_trips (space_id, finished_at, id COLLATE "C");
    CREATE INDEX converge_trips_pending ON ${S}.converge_trips (finished_at, id COLLATE "C")
      WHERE status = 'pending';`,
  // the version history of each space (HISTORY-n): ids from one identity, never reused; the index
  // lists a space's versions newest first. Authors are JSON text (read back exactly).
  (S) => `
    CREATE TABLE ${S}.converge_versions (
      id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      space_id text NOT NULL,
      at       bigint NOT NULL,
      changes  bigint NOT NULL,
      authors  text NOT NULL,
      bytes    bigint NOT NULL,
      state    bytea NOT NULL
    );
    CREATE INDEX converge_versions_space_at ON ${S}.converge_versions (space_id, at, id);`,
]

export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Persistence (and the SpaceRegistry: a row in `converge_spaces`, with the space's link generation) on PostgreSQL through pg. Every space has a row in `converge_spaces` whose `last_seq`
 * hands out positions: an append bumps it (taking the row lock until commit), so appends to one space
 * are serialized across instances and positions follow commit order — a compaction through position N
 * can never drop an update that commits later with a smaller N. Compaction takes the same row lock.
 * A promise resolves only after COMMIT returned.
 *
 * The TripLedger is `converge_trips`. `record` takes a transaction-scoped advisory lock on the space
 * (so the records of one space run one at a time, across instances), reads, then inserts with
 * `ON CONFLICT DO NOTHING`: the partial unique indexes hold the rules, and a row they turn away is
 * read back as the replay or conflict it is.
 *
 * The SpaceHistory is `converge_versions`: each call is one statement in its own transaction.
 */
export class PostgresPersistence implements Persistence, SpaceRegistry, TripLedger, SpaceHistory {
  readonly shared = true
  private readonly pool: pg.Pool
  private readonly logger: Logger
  private readonly S: string
  private ready: Promise<void> | null = null
  private closed = false

  constructor(private readonly options: PostgresPersistenceOptions) {
    const schema = options.schema ?? 'public'
    if (!IDENTIFIER.test(schema)) throw new StorageError(`bad PostgreSQL schema name "${schema}"`)
    this.S = `"${schema}"`
    this.logger = options.logger ?? silentLogger
    const timeout = options.timeoutMs ?? 10_000
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: timeout,
      statement_timeout: timeout,
      query_timeout: timeout + 1000,
      idleTimeoutMillis: 30_000,
      application_name: 'converge',
    })
    // an idle connection that breaks (the database restarted) must not crash the process
    this.pool.on('error', (err) =>
      this.logger.warn({ err: err.message, host: this.host }, 'an idle PostgreSQL connection failed'),
    )
  }

  /** Where the database is, for log lines (never the password). */
  private get host(): string {
    try {
      const u = new URL(this.options.connectionString)
      return `${u.hostname}:${u.port || 5432}${u.pathname}`
    } catch {
      return 'postgres'
    }
  }

  /** Connects and brings the schema to SCHEMA_VERSION (once per instance; again after a failure). */
  open(): Promise<void> {
    this.ready ??= this.migrate().catch((e: unknown) => {
      this.ready = null
      throw this.wrap(e, 'open', null)
    })
    return this.ready
  }

  private async migrate(): Promise<void> {
    const { S } = this
    const client = await this.pool.connect()
    const onError = (): void => {}
    client.on('error', onError)
    try {
      await client.query('BEGIN')
      // one instance migrates at a time; the others wait here, then find the schema current
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`converge-migrate:${S}`])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${S}.converge_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      )
      const { rows } = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${S}.converge_migrations`,
      )
      const found = rows[0]?.v ?? 0
      if (found > SCHEMA_VERSION)
        throw new Error(`schema version ${found} is newer than this code supports (${SCHEMA_VERSION})`)
      for (let version = found; version < SCHEMA_VERSION; version++) {
        await client.query(MIGRATIONS[version]!(S))
        await client.query(`INSERT INTO ${S}.converge_migrations (version) VALUES ($1)`, [version + 1])
      }
      await client.query('COMMIT')
      this.logger.info(
        { host: this.host, schema: S, schemaVersion: SCHEMA_VERSION, migratedFrom: found },
        'postgres persistence opened',
      )
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      throw e
    } finally {
      client.off('error', onError)
      client.release()
    }
  }

  load(spaceId: string): Promise<StoredSpace> {
    const { S } = this
    return this.tx('load', spaceId, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (c) => {
      const space = await c.query<{ last_seq: string }>(
        `SELECT last_seq FROM ${S}.converge_spaces WHERE space_id = $1`,
        [spaceId],
      )
      const snap = await c.query<{ data: Buffer }>(
        `SELECT data FROM ${S}.converge_snapshots WHERE space_id = $1`,
        [spaceId],
      )
      const rows = await c.query<{ data: Buffer }>(
        `SELECT data FROM ${S}.converge_updates WHERE space_id = $1 ORDER BY seq`,
        [spaceId],
      )
      const snapshot = snap.rows[0] ? view(snap.rows[0].data) : null
      const updates = rows.rows.map((r) => view(r.data))
      const bytes = (snapshot?.byteLength ?? 0) + updates.reduce((n, u) => n + u.byteLength, 0)
      return { snapshot, updates, lastSeq: Number(space.rows[0]?.last_seq ?? 0), bytes }
    })
  }

  append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    const { S } = this
    if (updates.length === 0)
      return this.tx('append', spaceId, 'BEGIN', async (c) => {
        const r = await c.query<{ last_seq: string }>(
          `SELECT last_seq FROM ${S}.converge_spaces WHERE space_id = $1`,
          [spaceId],
        )
        return Number(r.rows[0]?.last_seq ?? 0)
      })
    return this.tx('append', spaceId, 'BEGIN', async (c) => {
      const r = await c.query<{ last_seq: string }>(
        `INSERT INTO ${S}.converge_spaces AS s (space_id, last_seq) VALUES ($1, $2)
         ON CONFLICT (space_id) DO UPDATE SET last_seq = s.last_seq + $2
         RETURNING last_seq`,
        [spaceId, updates.length],
      )
      const last = Number(r.rows[0]!.last_seq)
      await c.query(
        `INSERT INTO ${S}.converge_updates (space_id, seq, data)
         SELECT $1, $2::bigint + t.ord, t.data FROM unnest($3::bytea[]) WITH ORDINALITY AS t(data, ord)`,
        [
          spaceId,
          last - updates.length,
          updates.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)),
        ],
      )
      return last
    })
  }

  compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    if (!Number.isSafeInteger(throughSeq) || throughSeq < 0)
      return Promise.reject(new RangeError(`compact of space "${spaceId}": bad throughSeq ${throughSeq}`))
    const { S } = this
    return this.tx('compact', spaceId, 'BEGIN', async (c) => {
      // the space's row lock: no append (nor another compaction) of this space runs until COMMIT
      const space = await c.query<{ last_seq: string }>(
        `INSERT INTO ${S}.converge_spaces AS s (space_id) VALUES ($1)
         ON CONFLICT (space_id) DO UPDATE SET last_seq = s.last_seq RETURNING last_seq`,
        [spaceId],
      )
      const lastSeq = Number(space.rows[0]!.last_seq)
      if (throughSeq > lastSeq)
        throw new RangeError(
          `compact of space "${spaceId}": throughSeq ${throughSeq} is past the last position ${lastSeq}`,
        )
      const current = await c.query<{ through_seq: string }>(
        `SELECT through_seq FROM ${S}.converge_snapshots WHERE space_id = $1`,
        [spaceId],
      )
      const snapshotSeq = current.rows[0] ? Number(current.rows[0].through_seq) : undefined
      if (snapshotSeq !== undefined && throughSeq < snapshotSeq) {
        this.logger.warn({ spaceId, throughSeq, snapshotSeq }, 'stale compaction ignored')
        return
      }
      await c.query(
        `INSERT INTO ${S}.converge_snapshots (space_id, data, through_seq) VALUES ($1, $2, $3)
         ON CONFLICT (space_id) DO UPDATE SET data = excluded.data, through_seq = excluded.through_seq`,
        [spaceId, Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength), throughSeq],
      )
      await c.query(`DELETE FROM ${S}.converge_updates WHERE space_id = $1 AND seq <= $2`, [
        spaceId,
        throughSeq,
      ])
    })
  }

  /** Records a space id as taken; false when it already was (registered, or holding data). */
  registerSpace(spaceId: string, engine: SpaceEngine = 'yjs'): Promise<boolean> {
    const { S } = this
    return this.tx('registerSpace', spaceId, 'BEGIN', async (c) => {
      const r = await c.query(
        `INSERT INTO ${S}.converge_spaces (space_id, engine) VALUES ($1, $2) ON CONFLICT (space_id) DO NOTHING`,
        [spaceId, engine],
      )
      return r.rowCount === 1
    })
  }

  /** The space's engine: one primary-key read of its `converge_spaces` row ('yjs' when there is none). */
  spaceEngine(spaceId: string): Promise<SpaceEngine> {
    const { S } = this
    return this.tx('spaceEngine', spaceId, 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<{ engine: string }>(
        `SELECT engine FROM ${S}.converge_spaces WHERE space_id = $1`,
        [spaceId],
      )
      return knownEngine(r.rows[0]?.engine ?? 'yjs', spaceId)
    })
  }

  /**
   * The space's link generation: one primary-key read of its `converge_spaces` row (0 when there is
   * none), read on every connect — so a reset on any instance is seen by every other at once.
   */
  linkGeneration(spaceId: string): Promise<number> {
    const { S } = this
    return this.tx('linkGeneration', spaceId, 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<{ link_gen: string }>(
        `SELECT link_gen FROM ${S}.converge_spaces WHERE space_id = $1`,
        [spaceId],
      )
      return Number(r.rows[0]?.link_gen ?? 0)
    })
  }

  /**
   * The bytes Converge's tables take in the database — the spaces, the trips and the saved versions
   * (`converge_versions`) alike — indexes and TOAST included (`pg_total_relation_size`): what a storage quota measures (apps/server MAX_TOTAL_STORAGE_BYTES).
   */
  storageBytes(): Promise<number> {
    const schema = this.S.slice(1, -1)
    return this.tx('storageBytes', '', 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<{ bytes: string }>(
        `SELECT COALESCE(sum(pg_total_relation_size(t.oid)), 0) AS bytes
           FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = $1 AND t.relkind = 'r' AND t.relname LIKE 'converge\\_%'`,
        [schema],
      )
      return Number(r.rows[0]?.bytes ?? 0)
    })
  }

  /** Raises the link generation under the space's row lock (held only until this COMMIT). */
  bumpLinkGeneration(spaceId: string): Promise<number> {
    const { S } = this
    return this.tx('bumpLinkGeneration', spaceId, 'BEGIN', async (c) => {
      const r = await c.query<{ link_gen: string }>(
        `INSERT INTO ${S}.converge_spaces AS s (space_id, link_gen) VALUES ($1, 1)
         ON CONFLICT (space_id) DO UPDATE SET link_gen = s.link_gen + 1
         RETURNING link_gen`,
        [spaceId],
      )
      return Number(r.rows[0]!.link_gen)
    })
  }

  /** TRIP-1…3: one transaction, under the space's advisory lock. */
  record(trip: NewTrip): Promise<RecordOutcome> {
    const { S } = this
    return this.tx('record', trip.spaceId, 'BEGIN', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
        `converge-trips:${S}`,
        trip.spaceId,
      ])
      /** The trip under the key (replay), else the one holding the slot, pending first (conflict). */
      const existing = async (): Promise<RecordOutcome | null> => {
        const same = await c.query<TripRow>(
          `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips WHERE space_id = $1 AND idempotency_key = $2`,
          [trip.spaceId, trip.idempotencyKey],
        )
        if (same.rows[0]) return { outcome: 'replay', trip: tripOf(same.rows[0]) }
        const holder = await c.query<TripRow>(
          `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips
           WHERE space_id = $1 AND (status = 'pending' OR (status <> 'void' AND base_version = $2))
           ORDER BY status = 'pending' DESC LIMIT 1`,
          [trip.spaceId, trip.baseVersion],
        )
        if (holder.rows[0]) return { outcome: 'conflict', trip: tripOf(holder.rows[0]) }
        return null
      }
      const before = await existing()
      if (before) return before
      const inserted = await c.query<TripRow>(
        `INSERT INTO ${S}.converge_trips (${TRIP_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', NULL, NULL)
         ON CONFLICT DO NOTHING
         RETURNING ${TRIP_COLUMNS}`,
        [
          trip.id,
          trip.spaceId,
          trip.idempotencyKey,
          trip.baseVersion,
          trip.finishedBy,
          trip.finishedAt,
          JSON.stringify(trip.lines.map(lineOf)),
          trip.totalCents,
          trip.unpricedLines,
          Buffer.from(trip.removal.buffer, trip.removal.byteOffset, trip.removal.byteLength),
        ],
      )
      if (inserted.rows[0]) return { outcome: 'recorded', trip: tripOf(inserted.rows[0]) }
      // turned away by a unique index: a trip committed meanwhile (read now, a new snapshot), or the id
      const after = await existing()
      if (after) return after
      throw new Error(`trip id "${trip.id}" is taken`)
    })
  }

  /** TRIP-4: pending → complete; the UPDATE waits for the row's lock, then sees its latest status. */
  complete(spaceId: string, id: string, version: string): Promise<Trip> {
    return this.settle('complete', spaceId, id, version, null)
  }

  /** TRIP-4: pending → void, as `complete`. */
  void(spaceId: string, id: string, reason: string): Promise<Trip> {
    return this.settle('void', spaceId, id, null, reason)
  }

  private settle(
    status: 'complete' | 'void',
    spaceId: string,
    id: string,
    completedVersion: string | null,
    voidReason: string | null,
  ): Promise<Trip> {
    const { S } = this
    return this.tx(status, spaceId, 'BEGIN', async (c) => {
      const changed = await c.query<TripRow>(
        `UPDATE ${S}.converge_trips SET status = $3, completed_version = $4, void_reason = $5
         WHERE space_id = $1 AND id = $2 AND status = 'pending'
         RETURNING ${TRIP_COLUMNS}`,
        [spaceId, id, status, completedVersion, voidReason],
      )
      if (changed.rows[0]) return tripOf(changed.rows[0])
      const row = await c.query<TripRow>(
        `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips WHERE space_id = $1 AND id = $2`,
        [spaceId, id],
      )
      if (!row.rows[0]) throw new RangeError(`${status} of space "${spaceId}": no trip "${id}"`)
      return tripOf(row.rows[0])
    })
  }

  trip(spaceId: string, id: string): Promise<Trip | null> {
    const { S } = this
    return this.tx('trip', spaceId, 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<TripRow>(
        `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips WHERE space_id = $1 AND id = $2`,
        [spaceId, id],
      )
      return r.rows[0] ? tripOf(r.rows[0]) : null
    })
  }

  /** TRIP-2: one read of the unique index on (space_id, idempotency_key). */
  tripByKey(spaceId: string, idempotencyKey: string): Promise<Trip | null> {
    const { S } = this
    return this.tx('tripByKey', spaceId, 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<TripRow>(
        `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips WHERE space_id = $1 AND idempotency_key = $2`,
        [spaceId, idempotencyKey],
      )
      return r.rows[0] ? tripOf(r.rows[0]) : null
    })
  }

  /** TRIP-5: newest first; ids compared byte by byte (COLLATE "C"), as SQLite does. */
  trips(spaceId: string, options?: { readonly limit?: number }): Promise<Trip[]> {
    const limit = options?.limit ?? 100
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return Promise.reject(
        new RangeError(`trips of space "${spaceId}": limit ${limit} is not a whole number ≥ 0`),
      )
    }
    const { S } = this
    return this.tx('trips', spaceId, 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<TripRow>(
        `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips WHERE space_id = $1
         ORDER BY finished_at DESC, id COLLATE "C" DESC LIMIT $2`,
        [spaceId, limit],
      )
      return r.rows.map(tripOf)
    })
  }

  /** TRIP-6: every space's pending trips, oldest first. */
  pendingTrips(): Promise<Trip[]> {
    const { S } = this
    return this.tx('pendingTrips', '', 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<TripRow>(
        `SELECT ${TRIP_COLUMNS} FROM ${S}.converge_trips WHERE status = 'pending'
         ORDER BY finished_at, id COLLATE "C"`,
      )
      return r.rows.map(tripOf)
    })
  }

  /** HISTORY-1, HISTORY-2, HISTORY-6: one INSERT; the id is the identity's. */
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
    const { S } = this
    const state = Buffer.from(v.state.buffer, v.state.byteOffset, v.state.byteLength)
    return this.tx('saveVersion', spaceId, 'BEGIN', async (c) => {
      const r = await c.query<{ id: string }>(
        `INSERT INTO ${S}.converge_versions (space_id, at, changes, authors, bytes, state)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [spaceId, v.at, v.changes, JSON.stringify(v.authors), v.state.byteLength, state],
      )
      return Number(r.rows[0]!.id)
    })
  }

  /** HISTORY-3: one read of `converge_versions_space_at`, newest first. */
  versions(spaceId: string, options?: { readonly limit?: number }): Promise<VersionInfo[]> {
    const limit = options?.limit ?? 100
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return Promise.reject(
        new RangeError(`versions of space "${spaceId}": limit ${limit} is not a whole number ≥ 0`),
      )
    }
    const { S } = this
    return this.tx('versions', spaceId, 'BEGIN READ ONLY', async (c) => {
      const r = await c.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM ${S}.converge_versions WHERE space_id = $1
         ORDER BY at DESC, id DESC LIMIT $2`,
        [spaceId, limit],
      )
      return r.rows.map(versionInfoOf)
    })
  }

  /** HISTORY-1, HISTORY-4: one primary-key read, of the space's own version only. */
  version(spaceId: string, id: number): Promise<StoredVersion | null> {
    const { S } = this
    return this.tx('version', spaceId, 'BEGIN READ ONLY', async (c) => {
      // an id that is not a whole number names no version (bigint would round it to one)
      if (!Number.isSafeInteger(id)) return null
      const r = await c.query<VersionRow & { state: Buffer }>(
        `SELECT ${VERSION_COLUMNS}, state FROM ${S}.converge_versions WHERE space_id = $1 AND id = $2`,
        [spaceId, id],
      )
      const row = r.rows[0]
      return row ? { ...versionInfoOf(row), state: view(row.state) } : null
    })
  }

  /** HISTORY-4, HISTORY-5: one DELETE of the space's own ids; each counts once. */
  deleteVersions(spaceId: string, ids: readonly number[]): Promise<number> {
    const { S } = this
    // an id that is not a whole number names no version (bigint would round it to one)
    const whole = [...new Set(ids)].filter((id) => Number.isSafeInteger(id))
    return this.tx('deleteVersions', spaceId, 'BEGIN', async (c) => {
      if (whole.length === 0) return 0
      const r = await c.query(
        `DELETE FROM ${S}.converge_versions WHERE space_id = $1 AND id = ANY($2::bigint[])`,
        [spaceId, whole],
      )
      return r.rowCount ?? 0
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
    this.logger.info({ host: this.host }, 'postgres persistence closed')
  }

  /** Runs `fn` in one transaction on a pooled connection; driver errors become StorageError. */
  private async tx<T>(
    operation: string,
    spaceId: string,
    begin: string,
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw this.wrap(new Error('the pool is closed'), operation, spaceId)
    await this.open()
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (e) {
      throw this.wrap(e, operation, spaceId)
    }
    let broken = false
    // a connection that dies while checked out emits 'error' (the pool only watches idle ones); the
    // query in flight rejects too, and that rejection is what reports it
    const onError = (): void => {
      broken = true
    }
    client.on('error', onError)
    try {
      await client.query(begin)
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true
      })
      if (e instanceof RangeError) throw e
      throw this.wrap(e, operation, spaceId)
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
  }

  private wrap(err: unknown, operation: string, spaceId: string | null): StorageError {
    if (err instanceof StorageError) return err
    const code = (err as { code?: unknown } | null)?.code
    const reason = err instanceof Error ? err.message : String(err)
    const where = spaceId === null ? '' : ` of space "${spaceId}"`
    this.logger.error(
      { host: this.host, operation, spaceId, code: typeof code === 'string' ? code : undefined, err: reason },
      'postgres persistence operation failed',
    )
    return new StorageError(`PostgreSQL ${operation}${where} failed (${this.host}): ${reason}`, {
      cause: err,
    })
  }
}

/** A row of `converge_trips` as pg reads it (bigint as text). */
interface TripRow {
  id: string
  space_id: string
  idempotency_key: string
  base_version: string
  finished_by: string
  finished_at: string
  lines: string
  total_cents: string
  unpriced_lines: number
  removal: Buffer
  status: string
  completed_version: string | null
  void_reason: string | null
}

/** A row of `converge_versions` as pg reads it (bigint as text), without its state. */
interface VersionRow {
  id: string
  space_id: string
  at: string
  changes: string
  authors: string
  bytes: string
}

const VERSION_COLUMNS = 'id, space_id, at, changes, authors, bytes'

/** A row of `converge_versions` as a VersionInfo. */
function versionInfoOf(row: VersionRow): VersionInfo {
  return {
    id: Number(row.id),
    spaceId: row.space_id,
    at: Number(row.at),
    changes: Number(row.changes),
    authors: JSON.parse(row.authors) as string[],
    bytes: Number(row.bytes),
  }
}

const TRIP_COLUMNS = `id, space_id, idempotency_key, base_version, finished_by, finished_at, lines, total_cents,
  unpriced_lines, removal, status, completed_version, void_reason`

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

/** A row of `converge_trips` as a Trip; a status the code does not know is a StorageError. */
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
    finishedAt: Number(row.finished_at),
    lines: (JSON.parse(row.lines) as TripLine[]).map(lineOf),
    totalCents: Number(row.total_cents),
    unpricedLines: row.unpriced_lines,
    removal: view(row.removal),
    status: row.status as TripStatus,
    completedVersion: row.completed_version,
    voidReason: row.void_reason,
  }
}

/** A plain Uint8Array over the driver's Buffer (no copy). */
function view(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}
