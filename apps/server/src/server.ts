/**
 * Builds and starts the server from a Config: picks the concrete adapters (SQLite, pino,
 * prom-client, ws, jose) and wires them to the transport-free SyncCore.
 */
import { type IncomingMessage, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { CloseCode, ErrorKind } from '@converge/protocol'
import {
  type CoreEvents,
  type FanOut,
  type Persistence,
  type SpaceHistory,
  type SpaceRegistry,
  SyncCore,
  type TripLedger,
  systemClock,
} from '@converge/server-core'
import type { DestinationStream } from 'pino'
import { clientAddress } from './address.js'
import { type Auth, createAuth, loadOrCreateSecret } from './auth.js'
import type { Config, StorageConfig } from './config.js'
import {
  DatabaseGuard,
  type SpacesMarker,
  createPrivateFile,
  ensureDataDir,
  lockDataDir,
  warnIfShared,
} from './datadir.js'
import { createRequestHandler } from './http.js'
import { createLinkResets } from './links.js'
import { type Logger, coreLogger, createLogger } from './log.js'
import { type Metrics, createMetrics } from './metrics.js'
import { KeyedBuckets } from './rate.js'
import { createOriginPolicy, securityHeaders } from './security.js'
import { createStorageQuota } from './storage-quota.js'
import { createHistory } from './history.js'
import { type TripFault, createTrips } from './trips.js'
import { attachSyncTransport } from './ws.js'

/**
 * The configured storage: the spaces (for the core), the register of taken ids (for the HTTP API),
 * the ledger of finished trips (trips.ts) and the versions kept of each space (history.ts).
 */
export type Storage = Persistence & SpaceRegistry & TripLedger & SpaceHistory

export interface StartOptions {
  /** Replaces the configured storage (tests inject failing storage). It is closed by `close()`. */
  readonly persistence?: Storage
  /** Where log lines go instead of stdout (tests collect them). */
  readonly logDestination?: DestinationStream
  /** Test-only: a fault between the steps of finishing a trip (trips.ts, SPEC.md TRIPS-5, TRIPS-6). */
  readonly tripFault?: TripFault | null
}

export interface RunningServer {
  /** http://HOST:PORT */
  readonly url: string
  readonly port: number
  readonly core: SyncCore
  readonly auth: Auth
  readonly metrics: Metrics
  readonly log: Logger
  /** Stops accepting, commits everything, closes every socket with 1001, closes storage, releases the DATA_DIR lock. Idempotent. */
  close(): Promise<void>
}

/** How long close() waits for clients to answer the 1001 close (and sends what they sent before) before dropping them. */
const CLOSE_HANDSHAKE_MS = 2000

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    const onError = (e: Error): void => reject(e)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolveListen((server.address() as AddressInfo).port)
    })
  })
}

/** Both adapters measure what they take; storage injected by a test may not. */
const hasStorageBytes = (s: Storage): s is Storage & { storageBytes(): Promise<number> } =>
  typeof (s as { storageBytes?: unknown }).storageBytes === 'function'

/** The configured storage. PostgreSQL that cannot be reached yet is logged, not fatal: loads retry it. */
async function openStorage(storage: StorageConfig, log: Logger): Promise<Storage> {
  if (storage.kind === 'sqlite') {
    const file = resolve(storage.file)
    // created 0600 before SQLite opens it: its -wal and -shm files take the database's mode
    createPrivateFile(file)
    warnIfShared(file, log, 'the database file')
    // each driver is loaded only by a process configured for it (issue 16: memory at start)
    const { SqlitePersistence } = await import('@converge/persistence-sqlite')
    return new SqlitePersistence({ file, logger: coreLogger(log.child({ c: 'sqlite' })) })
  }
  const { PostgresPersistence } = await import('@converge/persistence-postgres')
  const pg = new PostgresPersistence({
    connectionString: storage.url,
    schema: storage.schema,
    logger: coreLogger(log.child({ c: 'postgres' })),
  })
  try {
    await pg.open()
  } catch {
    log.error({}, 'PostgreSQL is unreachable at start: spaces fail to load (4503) until it is back')
  }
  return pg
}

/** The registry, recording the first space registered. */
const markingRegistry = (
  spaces: SpaceRegistry,
  marker: SpacesMarker | null,
): Pick<SpaceRegistry, 'registerSpace'> =>
  marker
    ? {
        registerSpace: async (id, engine) => {
          const free = await spaces.registerSpace(id, engine)
          if (free) marker.registered(id)
          return free
        },
      }
    : spaces

/** The core's events, recording the first space committed. */
const markingEvents = (events: CoreEvents, marker: SpacesMarker | null): CoreEvents =>
  marker
    ? {
        ...events,
        committed(spaceId, updates, bytes, ms) {
          events.committed?.(spaceId, updates, bytes, ms)
          marker.committed(spaceId)
        },
      }
    : events

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.logLevel, options.logDestination)
  const dataDir = resolve(config.dataDir)
  ensureDataDir(dataDir, log)
  const lock = lockDataDir(dataDir, log)
  try {
    return await start(config, options, log, dataDir, lock.release)
  } catch (e) {
    lock.release()
    throw e
  }
}

async function start(
  config: Config,
  options: StartOptions,
  log: Logger,
  dataDir: string,
  releaseLock: () => void,
): Promise<RunningServer> {
  const secret = config.secret ?? loadOrCreateSecret(dataDir)
  const metrics = createMetrics()
  // SQLite lives in (or beside) DATA_DIR: a database gone from under a DATA_DIR that held spaces is refused
  const guard =
    config.storage.kind === 'sqlite'
      ? new DatabaseGuard(dataDir, resolve(config.storage.file), config.allowEmptyDatabase, log)
      : null
  guard?.beforeOpen()
  const storage = options.persistence ?? (await openStorage(config.storage, log))
  try {
    await guard?.afterOpen(storage)
  } catch (e) {
    await storage.close()
    throw e
  }
  // a token's link generation is checked against the space's, read from storage on every connect
  // (PROTOCOL.md §P5.10): one indexed row, so a reset on any instance counts on every other at once
  const auth = createAuth({ secret, enabled: config.auth, logger: log, generations: storage })
  const fanOut: FanOut | undefined = config.redisUrl
    ? new (await import('@converge/fanout-redis')).RedisFanOut({
        url: config.redisUrl,
        logger: coreLogger(log.child({ c: 'redis' })),
        events: metrics.fanOutEvents,
      })
    : undefined
  // QUOTA-1: the whole server's storage, measured once before the first client and then every second
  const storageQuota = createStorageQuota({
    ...config.storageQuota,
    usedBytes: () => (hasStorageBytes(storage) ? storage.storageBytes() : Promise.resolve(0)),
    diskOf: config.storage.kind === 'sqlite' ? dirname(resolve(config.storage.file)) : null,
    clock: systemClock,
    log,
    refused: metrics.refused,
  })
  await storageQuota.refresh()
  metrics.observeStorage(() => storageQuota.usage)
  const core = new SyncCore({
    persistence: storage,
    storageQuota,
    authenticate: auth.authenticate,
    fanOut,
    limits: config.limits,
    logger: coreLogger(log),
    events: markingEvents(metrics.events, guard),
    // PROTOCOL.md §P7.3: clients pace what they send to the per-address budget too (ws.ts)
    clientRate: { bytesPerSecond: config.perIp.bytesPerSecond, burstBytes: config.perIp.burstBytes },
    // REG-10: each room opens the document of the engine its space was created with
    spaceEngine: (spaceId) => storage.spaceEngine(spaceId),
    // HIST-n: a version of each space after a burst of changes, thinned as configured
    ...(config.history.enabled
      ? {
          history: {
            store: storage,
            quietMs: config.history.quietMs,
            maxIntervalMs: config.history.maxIntervalMs,
            policy: {
              keepAllMs: config.history.keepAllMs,
              keepDays: config.history.keepDays,
              maxVersions: config.history.maxVersions,
            },
          },
        }
      : {}),
  })
  metrics.observe(core)
  const trips = createTrips({
    core,
    ledger: storage,
    log: log.child({ c: 'trips' }),
    fault: options.tripFault,
  })
  // TRIPS-6: a trip a stopped process left between its steps is finished before anyone is served;
  // when storage fails that, it is tried again every half minute
  const started = Date.now()
  let recovery: ReturnType<typeof setInterval> | null = null
  const recover = async (): Promise<boolean> => {
    try {
      const done = await trips.recover(started)
      if (done.complete + done.void > 0) log.warn(done, 'finished the trips a stop left pending')
      return true
    } catch (e) {
      log.error(
        { err: e instanceof Error ? e.message : String(e) },
        'pending trips could not be finished yet',
      )
      return false
    }
  }
  if (!(await recover())) {
    recovery = setInterval(() => {
      void recover().then((ok) => {
        if (ok && recovery) clearInterval(recovery)
      })
    }, 30_000)
    recovery.unref()
  }

  let shuttingDown = false
  const isShuttingDown = (): boolean => shuttingDown
  const addressOf = (req: IncomingMessage): string => clientAddress(req, config.trustProxy)
  const origins = createOriginPolicy(config.allowedOrigins)
  const headers = securityHeaders(config.contentSecurityPolicy)
  const { perIp } = config
  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    createRequestHandler({
      issueTokens: (spaceId) => auth.issueTokens(spaceId),
      spaces: markingRegistry(storage, guard),
      registry: metrics.registry,
      webDist: config.webDist,
      isShuttingDown,
      log,
      clientAddress: addressOf,
      origins,
      headers,
      createSpaces: { mode: config.createSpaces, adminToken: config.adminToken },
      spaceRate:
        perIp.spacesPerMinute > 0
          ? new KeyedBuckets({ ratePerSecond: perIp.spacesPerMinute / 60, burst: perIp.spacesBurst })
          : null,
      links: createLinkResets({ auth, registry: storage, core, log, metrics, enabled: config.auth }),
      // a bucket of its own, with the numbers of space creation: resetting does not eat into creating
      resetRate:
        perIp.spacesPerMinute > 0
          ? new KeyedBuckets({ ratePerSecond: perIp.spacesPerMinute / 60, burst: perIp.spacesBurst })
          : null,
      refused: metrics.refused,
      authenticate: auth.authenticate,
      readSpace: (spaceId, o) => core.read(spaceId, o),
      readRate:
        perIp.readsPerMinute > 0
          ? new KeyedBuckets({ ratePerSecond: perIp.readsPerMinute / 60, burst: perIp.readsBurst })
          : null,
      readAfterMaxMs: config.readAfterMaxMs,
      trips,
      history: createHistory({
        versions: (spaceId, limit) => core.versions(spaceId, limit),
        version: (spaceId, id) => core.version(spaceId, id),
        spaceEngine: (spaceId) => storage.spaceEngine(spaceId),
      }),
      // the numbers of space creation: a trip is as rare, and a guess at a token as costly
      tripRate:
        perIp.spacesPerMinute > 0
          ? new KeyedBuckets({ ratePerSecond: perIp.spacesPerMinute / 60, burst: perIp.spacesBurst })
          : null,
    }),
  )
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    socket.destroy()
  })
  const transport = attachSyncTransport({
    server,
    core,
    maxFrameBytes: config.limits.maxFrameBytes,
    metrics,
    log,
    isShuttingDown,
    clientAddress: addressOf,
    origins,
    headers,
    perIp,
  })

  let port: number
  try {
    port = await listen(server, config.port, config.host)
  } catch (e) {
    await transport.close()
    await fanOut?.close()
    await storage.close()
    throw e
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${host}:${port}`
  log.info(
    {
      url,
      port,
      dataDir,
      storage: config.storage.kind,
      fanOut: fanOut ? 'redis' : 'off',
      auth: config.auth ? 'on' : 'off',
      createSpaces: config.createSpaces,
      trustProxy: config.trustProxy,
      allowedOrigins: origins.extra,
      webDist: resolve(config.webDist),
      pid: process.pid,
    },
    'converge server ready',
  )

  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true
      if (recovery) clearInterval(recovery)
      log.info({}, 'shutting down: committing and closing every connection')
      const httpClosed = new Promise<void>((resolveClosed) => server.close(() => resolveClosed()))
      server.closeIdleConnections()
      try {
        await transport.closeAll(CloseCode.GoingAway, ErrorKind.ShuttingDown, CLOSE_HANDSHAKE_MS)
        await core.shutdown()
      } finally {
        await transport.close()
        server.closeAllConnections()
        await httpClosed
        await fanOut?.close()
        await storage.close()
        releaseLock()
      }
      log.info({}, 'stopped')
    })()
    return closing
  }

  return { url, port, core, auth, metrics, log, close }
}
