/**
 * Prometheus metrics (prom-client), fed by server-core's CoreEvents. One registry per server, so
 * several servers in one process (tests) never share series.
 */
import type { RedisFanOutEvents } from '@converge/fanout-redis'
import type { CoreEvents } from '@converge/server-core'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** What a per-address or browser-facing limit refused (the `limit` label of converge_limit_refusals_total). */
export type RefusedBy =
  /** an update past MAX_TOTAL_STORAGE_BYTES (4503) */
  | 'storage_total'
  /** an update while the disk has less than MIN_FREE_DISK_BYTES free (4503) */
  | 'disk_free'
  /** POST /api/spaces past SPACES_PER_MINUTE_PER_IP (429) */
  | 'spaces_per_ip'
  /** POST /api/spaces without the ADMIN_TOKEN under CREATE_SPACES=token (401) */
  | 'admin_token'
  /** a WebSocket past MAX_CONNECTIONS_PER_IP (close 1013) */
  | 'connections_per_ip'
  /** a WebSocket past CONNECTS_PER_MINUTE_PER_IP (close 1013) */
  | 'connects_per_ip'
  /** a socket whose address spent its MAX_BYTES_PER_SECOND_PER_IP budget (close 4429) */
  | 'bytes_per_ip'
  /** an API request or WebSocket upgrade from an Origin not allowed (403) */
  | 'origin'
  /** POST /api/spaces/<id>/links/reset past the per-address bucket (429; SPACES_PER_MINUTE_PER_IP) */
  | 'resets_per_ip'
  /** GET /api/spaces/<id> past READS_PER_MINUTE_PER_IP (429) */
  | 'reads_per_ip'
  /** GET /api/spaces/<id> without a token that reads the space (401, 403, 410) */
  | 'read_token'
  /** POST /api/spaces/<id>/trips past the per-address bucket (429; SPACES_PER_MINUTE_PER_IP) */
  | 'trips_per_ip'
  /** POST /api/spaces/<id>/trips without a write token of the space (401, 403, 410) */
  | 'trip_token'

export interface Metrics {
  readonly registry: Registry
  /** Hand these to `new SyncCore({ events })`. */
  readonly events: CoreEvents
  /** Hand these to the Redis fan-out. */
  readonly fanOutEvents: RedisFanOutEvents
  /** Counts a refusal made by the transport (text frame, frame too big) rather than the core. */
  rejected(reason: string): void
  /** Counts a refusal by a per-address, origin or storage limit. */
  readonly refused: (limit: RefusedBy) => void
  /** Counts a reset of a space's share links and the sockets it closed on this instance. */
  linksReset(closed: number): void
  /** Reads the live gauges from the core once it exists. */
  observe(source: { readonly connectionCount: number; readonly loadedSpaces: number }): void
  /** Reads the storage quota's numbers (QUOTA-1) once it exists. */
  observeStorage(usage: () => { readonly usedBytes: number; readonly freeBytes: number | null }): void
}

export const METRIC_PREFIX = 'converge_'

export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })
  const p = METRIC_PREFIX
  const registers = [registry]
  let source: { readonly connectionCount: number; readonly loadedSpaces: number } | null = null
  let storage: (() => { readonly usedBytes: number; readonly freeBytes: number | null }) | null = null
  new Gauge({
    name: `${p}storage_used_bytes`,
    help: 'Bytes the database takes, as the storage quota last measured them (0 while MAX_TOTAL_STORAGE_BYTES is off)',
    registers,
    collect() {
      this.set(storage?.().usedBytes ?? 0)
    },
  })
  new Gauge({
    name: `${p}disk_free_bytes`,
    help: "Free bytes on the SQLite database's disk, as last measured (-1 while MIN_FREE_DISK_BYTES is off, and with PostgreSQL)",
    registers,
    collect() {
      this.set(storage?.().freeBytes ?? -1)
    },
  })

  new Gauge({
    name: `${p}connections`,
    help: 'Open WebSocket connections',
    registers,
    collect() {
      this.set(source?.connectionCount ?? 0)
    },
  })
  new Gauge({
    name: `${p}spaces_loaded`,
    help: 'Spaces loaded in memory (loading or loaded)',
    registers,
    collect() {
      this.set(source?.loadedSpaces ?? 0)
    },
  })
  const messagesIn = new Counter({
    name: `${p}messages_in_total`,
    help: 'Messages received from clients, by message type',
    labelNames: ['type'] as const,
    registers,
  })
  const bytesIn = new Counter({ name: `${p}bytes_in_total`, help: 'Bytes of messages received', registers })
  const messagesOut = new Counter({
    name: `${p}messages_out_total`,
    help: 'Messages sent to clients',
    registers,
  })
  const bytesOut = new Counter({ name: `${p}bytes_out_total`, help: 'Bytes of messages sent', registers })
  const updatesCommitted = new Counter({
    name: `${p}updates_committed_total`,
    help: 'Updates durably committed to storage',
    registers,
  })
  const bytesCommitted = new Counter({
    name: `${p}bytes_committed_total`,
    help: 'Bytes of updates durably committed to storage',
    registers,
  })
  const commitSeconds = new Histogram({
    name: `${p}commit_seconds`,
    help: 'Time to commit one batch of updates',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  })
  const commitFailures = new Counter({
    name: `${p}commit_failures_total`,
    help: 'Commits that failed (the space was closed)',
    registers,
  })
  const compactions = new Counter({ name: `${p}compactions_total`, help: 'Log compactions', registers })
  const rejections = new Counter({
    name: `${p}rejections_total`,
    help: 'Messages or connections refused, by reason (an error kind)',
    labelNames: ['reason'] as const,
    registers,
  })
  const authFailures = new Counter({
    name: `${p}auth_failures_total`,
    help: 'Connections refused at authentication, by reason (Unauthorized, Forbidden or LinkRevoked)',
    labelNames: ['reason'] as const,
    registers,
  })
  const limitRefusals = new Counter({
    name: `${p}limit_refusals_total`,
    help: 'Requests, connections and sockets refused by a per-address, origin or storage limit, by limit',
    labelNames: ['limit'] as const,
    registers,
  })
  const loadSeconds = new Histogram({
    name: `${p}space_load_seconds`,
    help: 'Time to load a space from storage',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers,
  })
  const linkResets = new Counter({
    name: `${p}link_resets_total`,
    help: "Resets of a space's share links (POST /api/spaces/<id>/links/reset)",
    registers,
  })
  const linkResetCloses = new Counter({
    name: `${p}link_reset_closes_total`,
    help: 'Sockets this instance closed with 4410 LinkRevoked right at a reset made here',
    registers,
  })
  const loadFailures = new Counter({
    name: `${p}space_load_failures_total`,
    help: 'Spaces that could not be loaded from storage',
    registers,
  })
  const unloads = new Counter({ name: `${p}space_unloads_total`, help: 'Idle spaces unloaded', registers })

  const fanOutMessages = new Counter({
    name: `${p}fanout_messages_total`,
    help: 'Messages between instances through Redis, by direction (out, in, dropped while Redis was unreachable)',
    labelNames: ['direction'] as const,
    registers,
  })
  const fanOutBytes = new Counter({
    name: `${p}fanout_bytes_total`,
    help: 'Bytes between instances through Redis, by direction',
    labelNames: ['direction'] as const,
    registers,
  })
  const fanOutUp = new Gauge({
    name: `${p}fanout_connected`,
    help: '1 while the Redis fan-out connection is up, 0 while it is down (absent without REDIS_URL)',
    registers: [],
  })
  const fanOutResyncs = new Counter({
    name: `${p}fanout_resyncs_total`,
    help: 'Spaces resynced by state-vector exchange after a Redis gap',
    registers,
  })
  let gapSince: number | null = null
  const fanOutGap = new Gauge({
    name: `${p}fanout_gap_seconds`,
    help:
      'How long this instance has been out of step with the others (fanout-redis REDIS-3): seconds since its first ' +
      'publish dropped or its Redis subscription was lost, until every open space is resynced; 0 when in step ' +
      '(absent without REDIS_URL)',
    registers: [],
    collect() {
      this.set(gapSince === null ? 0 : Math.max(0, Date.now() - gapSince) / 1000)
    },
  })
  /** The fan-out's gauges exist only on a server with REDIS_URL: registered at its first report. */
  const registerFanOut = (): void => {
    for (const [name, gauge] of [
      ['fanout_connected', fanOutUp],
      ['fanout_gap_seconds', fanOutGap],
    ] as const)
      if (!registry.getSingleMetric(`${p}${name}`)) registry.registerMetric(gauge)
  }
  const fanOutEvents: RedisFanOutEvents = {
    published(bytes) {
      fanOutMessages.inc({ direction: 'out' })
      fanOutBytes.inc({ direction: 'out' }, bytes)
    },
    received(bytes) {
      fanOutMessages.inc({ direction: 'in' })
      fanOutBytes.inc({ direction: 'in' }, bytes)
    },
    dropped: () => fanOutMessages.inc({ direction: 'dropped' }),
    connection(up) {
      registerFanOut()
      fanOutUp.set(up ? 1 : 0)
    },
    resynced: (spaces) => fanOutResyncs.inc(spaces),
    gap(since) {
      registerFanOut()
      gapSince = since
    },
  }

  // LAG-1…6, PROBE-1…4: lag and divergence (server-core SPEC.md "Lag and divergence")
  const lagBuckets = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10,
    30, 60,
  ]
  const commitLag = new Histogram({
    name: `${p}commit_lag_seconds`,
    help: 'A client update from its receipt to its durable commit',
    buckets: lagBuckets,
    registers,
  })
  const ackLag = new Histogram({
    name: `${p}ack_lag_seconds`,
    help: 'A commit to the durable ack sent to a member (to: writer, its own update; member, everyone else)',
    labelNames: ['to'] as const,
    buckets: lagBuckets,
    registers,
  })
  const relayLag = new Histogram({
    name: `${p}relay_lag_seconds`,
    help: 'A client update from its receipt to its relay to the other members of its room',
    buckets: lagBuckets,
    registers,
  })
  const fanOutLag = new Histogram({
    name: `${p}fanout_lag_seconds`,
    help: "An update published by another instance to its application here (by the publisher's clock)",
    buckets: lagBuckets,
    registers,
  })
  const clientBuckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600]
  const clientUnconfirmed = new Histogram({
    name: `${p}client_unconfirmed_age_seconds`,
    help: "Client-reported: the age of a device's oldest change the server has not confirmed (reports with one)",
    buckets: clientBuckets,
    registers,
  })
  const clientSinceAck = new Histogram({
    name: `${p}client_ack_age_seconds`,
    help: 'Client-reported: the time since the device last received a durable ack',
    buckets: clientBuckets,
    registers,
  })
  const lagging = new Gauge({
    name: `${p}connections_lagging`,
    help: 'Connections whose last report had a change unconfirmed for longer than LAGGING_AFTER_MS',
    registers,
  })
  const divergence = new Counter({
    name: `${p}divergence_total`,
    help: 'Replicas found at one version with different states, repaired by a full exchange (scope: client, instance)',
    labelNames: ['scope'] as const,
    registers,
  })
  for (const scope of ['client', 'instance'] as const) divergence.inc({ scope }, 0)
  for (const to of ['writer', 'member'] as const) ackLag.zero({ to })

  const events: CoreEvents = {
    messageIn(type, bytes) {
      messagesIn.inc({ type })
      bytesIn.inc(bytes)
    },
    messageOut(bytes, count) {
      messagesOut.inc(count)
      bytesOut.inc(bytes)
    },
    committed(_spaceId, updates, bytes, ms) {
      updatesCommitted.inc(updates)
      bytesCommitted.inc(bytes)
      commitSeconds.observe(ms / 1000)
    },
    commitFailed: () => commitFailures.inc(),
    compacted: () => compactions.inc(),
    rejected: (reason) => rejections.inc({ reason }),
    authFailed: (reason) => authFailures.inc({ reason }),
    spaceLoaded: (_spaceId, ms) => loadSeconds.observe(ms / 1000),
    spaceUnloaded: () => unloads.inc(),
    loadFailed: () => loadFailures.inc(),
    commitLag: (ms) => commitLag.observe(ms / 1000),
    ackLag: (to, ms) => ackLag.observe({ to }, ms / 1000),
    relayLag: (ms) => relayLag.observe(ms / 1000),
    fanOutLag: (ms) => fanOutLag.observe(Math.max(0, ms) / 1000),
    clientReport({ unconfirmedAgeMs, sinceAckMs }) {
      if (unconfirmedAgeMs !== null) clientUnconfirmed.observe(unconfirmedAgeMs / 1000)
      if (sinceAckMs !== null) clientSinceAck.observe(sinceAckMs / 1000)
    },
    laggingConnections: (delta) => lagging.inc(delta),
    divergence: (scope) => divergence.inc({ scope }),
  }

  return {
    registry,
    events,
    fanOutEvents,
    rejected: (reason) => rejections.inc({ reason }),
    refused: (limit) => limitRefusals.inc({ limit }),
    linksReset: (closed) => {
      linkResets.inc()
      linkResetCloses.inc(closed)
    },
    observe: (s) => {
      source = s
    },
    observeStorage: (u) => {
      storage = u
    },
  }
}
