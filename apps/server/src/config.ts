/**
 * The server's configuration: every option comes from a command-line flag or an environment
 * variable (the flag wins), is validated with zod at start, and is listed by `--help`.
 * `parseConfig` is pure (no I/O, no process globals) so tests can call it directly.
 */
import { getHeapStatistics } from 'node:v8'
import { fileURLToPath } from 'node:url'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { type Limits, defaultLimits } from '@converge/server-core'
import { z } from 'zod'
import { DEFAULT_CSP, normalizeOrigin } from './security.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Where spaces are stored: one SQLite file (one instance), or a PostgreSQL database (any number). */
export type StorageConfig =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string }

export interface Config {
  readonly port: number
  readonly host: string
  /** Where the database and the generated secret live. */
  readonly dataDir: string
  /** false only with AUTH=off / --no-auth: every space is readable and writable by anyone. */
  readonly auth: boolean
  readonly logLevel: LogLevel
  /** The HS256 signing secret; when undefined, one is generated into DATA_DIR/secret and reused. */
  readonly secret: string | undefined
  /** The built web app, served when the folder exists. */
  readonly webDist: string
  readonly storage: StorageConfig
  /** Redis for fan-out between instances; undefined: this instance serves its spaces alone. */
  readonly redisUrl: string | undefined
  readonly limits: Limits
  /** `open`: anyone may create a space; `token`: only with `Authorization: Bearer <ADMIN_TOKEN>`. */
  readonly createSpaces: 'open' | 'token'
  /** The bearer token that creates spaces with CREATE_SPACES=token (it also skips the creation rate). */
  readonly adminToken: string | undefined
  /** How many proxies in front append to X-Forwarded-For (0: the TCP peer is the client). */
  readonly trustProxy: number
  /** Origins allowed besides the server's own (normalised `scheme://host[:port]`). */
  readonly allowedOrigins: readonly string[]
  readonly contentSecurityPolicy: string
  /** Start although the database is empty while DATA_DIR records that it held spaces. */
  readonly allowEmptyDatabase: boolean
  /** QUOTA-1: the storage quota of the whole server (the database's bytes) and the disk's reserve. */
  readonly storageQuota: { readonly maxTotalBytes: number; readonly minFreeBytes: number }
  readonly perIp: PerIpLimits
  /** READ-2: the longest a read after a version waits for it to be committed. */
  readonly readAfterMaxMs: number
  /** HIST-n: the versions the server keeps of each space (off: none). */
  readonly history: HistoryConfig
}

/** HIST-n: when a space's version is saved, and which are kept (server-core `History`). */
export interface HistoryConfig {
  readonly enabled: boolean
  /** A version after this long without a change… */
  readonly quietMs: number
  /** …and at least this often while changes go on. */
  readonly maxIntervalMs: number
  /** Every version younger than this is kept… */
  readonly keepAllMs: number
  /** …then one a day, for this many days… */
  readonly keepDays: number
  /** …and never more than this many per space. */
  readonly maxVersions: number
}

/** Limits per client address (an IPv4 address, or an IPv6 /64); 0 turns a limit off. */
export interface PerIpLimits {
  /** Spaces created per minute (token bucket refill)… */
  readonly spacesPerMinute: number
  /** …and at once (its capacity). */
  readonly spacesBurst: number
  /** Open WebSockets. */
  readonly connections: number
  /**
   * New WebSockets per minute (token bucket, burst `connectBurst`): a reconnect loop must not buy a
   * fresh per-connection budget (a free first answer, fresh rate buckets) as often as it likes.
   */
  readonly connectsPerMinute: number
  readonly connectBurst: number
  /** Bytes of incoming frames per second, shared by the address's sockets… */
  readonly bytesPerSecond: number
  /** …and at once (the bucket's capacity). */
  readonly burstBytes: number
  /** Reads of a space over HTTP (GET /api/spaces/<id>) per minute… */
  readonly readsPerMinute: number
  /** …and at once. */
  readonly readsBurst: number
}

export const defaultPerIpLimits: PerIpLimits = {
  spacesPerMinute: 10,
  spacesBurst: 10,
  connections: 32,
  connectsPerMinute: 120,
  connectBurst: 30,
  bytesPerSecond: 1024 * 1024,
  burstBytes: 4 * 1024 * 1024,
  readsPerMinute: 600,
  readsBurst: 60,
}

/** apps/web/dist, relative to this package. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url))

const MIN_SECRET_LENGTH = 32

/** Options whose values may hold a password: never repeated in an error message. */
const SECRET_BEARING = new Set(['SECRET', 'STORAGE', 'REDIS_URL', 'ADMIN_TOKEN'])

const whole = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))

const MAX_INT = Number.MAX_SAFE_INTEGER

interface Option {
  /** The environment variable; also the key in the schema. */
  readonly env: string
  /** The flag, without the leading dashes. */
  readonly flag: string
  readonly description: string
  /** The default as shown by --help (undefined: no default). */
  readonly shown: string | undefined
  readonly schema: z.ZodType
}

/** QUOTA-1: the free disk kept by default — room for SQLite to checkpoint and compact. */
export const DEFAULT_MIN_FREE_DISK = 64 * 1024 * 1024

/** MEM-3: what loaded spaces may take, by default: 60% of this process's heap limit. */
export const DEFAULT_MEMORY_BUDGET = Math.floor(getHeapStatistics().heap_size_limit * 0.6)

const limitOption = (env: string, key: keyof Limits, description: string, min = 1): Option => ({
  env,
  flag: env.toLowerCase().replaceAll('_', '-'),
  description,
  shown: String(defaultLimits[key]),
  schema: whole(min, MAX_INT).prefault(String(defaultLimits[key])),
})

const perIpOption = (env: string, key: keyof PerIpLimits, description: string, min = 0): Option => ({
  env,
  flag: env.toLowerCase().replaceAll('_', '-'),
  description,
  shown: String(defaultPerIpLimits[key]),
  schema: whole(min, MAX_INT).prefault(String(defaultPerIpLimits[key])),
})

/** ALLOWED_ORIGINS: comma-separated origins, each `http(s)://host[:port]`; never `*`. */
const originList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const out: string[] = []
    for (const raw of value.split(',').map((s) => s.trim())) {
      if (raw === '') continue
      let url: URL | null = null
      try {
        url = new URL(raw)
      } catch {
        /* below */
      }
      const origin = raw === '*' || !url ? null : normalizeOrigin(raw)
      if (!url || origin === null || url.pathname !== '/' || url.search || url.hash || url.username) {
        ctx.addIssue({
          code: 'custom',
          message:
            raw === '*'
              ? 'must list origins: * (any origin) is not accepted'
              : `"${raw}" is not an origin (http(s)://host[:port], nothing after it)`,
        })
        return z.NEVER
      }
      out.push(origin)
    }
    return out
  })

export const OPTIONS: readonly Option[] = [
  {
    env: 'PORT',
    flag: 'port',
    description: 'TCP port to listen on (0 picks a free port)',
    shown: '8787',
    schema: whole(0, 65535).prefault('8787'),
  },
  {
    env: 'HOST',
    flag: 'host',
    description: 'interface to listen on (0.0.0.0 for every interface)',
    shown: 'localhost',
    schema: z.string().trim().min(1, 'must not be empty').default('localhost'),
  },
  {
    env: 'DATA_DIR',
    flag: 'data-dir',
    description: 'folder for the database (converge.sqlite) and the generated secret; created if missing',
    shown: './data',
    schema: z.string().trim().min(1, 'must not be empty').default('./data'),
  },
  {
    env: 'AUTH',
    flag: 'auth',
    description: 'on: tokens are required; off: every space is readable and writable by anyone (--no-auth)',
    shown: 'on',
    schema: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  },
  {
    env: 'LOG_LEVEL',
    flag: 'log-level',
    description: `log level: ${LOG_LEVELS.join(', ')}`,
    shown: 'info',
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  },
  {
    env: 'SECRET',
    flag: 'secret',
    description: `HS256 token secret (at least ${MIN_SECRET_LENGTH} characters); if unset, a random one is generated into DATA_DIR/secret (mode 0600) and reused`,
    shown: undefined,
    schema: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  },
  {
    env: 'STORAGE',
    flag: 'storage',
    description:
      'sqlite:<file> (one instance) or postgres://user@host:port/db[?schema=name] (any number of instances)',
    shown: 'sqlite:DATA_DIR/converge.sqlite',
    schema: z
      .string()
      .trim()
      .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or postgres://…')
      .optional(),
  },
  {
    env: 'REDIS_URL',
    flag: 'redis-url',
    description:
      'redis://host:port: fan-out between instances (needs STORAGE=postgres://… and SECRET); unset: one instance',
    shown: 'off',
    schema: z
      .string()
      .trim()
      .regex(/^rediss?:\/\/.+/, 'must be redis://host:port')
      .optional(),
  },
  {
    env: 'WEB_DIST',
    flag: 'web-dist',
    description: 'folder of the built web app, served at / when it exists',
    shown: 'apps/web/dist',
    schema: z.string().trim().min(1, 'must not be empty').default(DEFAULT_WEB_DIST),
  },
  limitOption(
    'MAX_FRAME_BYTES',
    'maxFrameBytes',
    'largest WebSocket frame accepted (larger: close 1009)',
    64,
  ),
  limitOption(
    'MAX_DOCUMENT_BYTES',
    'maxDocumentBytes',
    'largest stored size of one space (an update past it: close 4413)',
  ),
  limitOption(
    'MAX_MESSAGES_PER_SECOND',
    'maxMessagesPerSecond',
    'messages per second per connection, burst 2 s worth (more: close 4429)',
  ),
  limitOption(
    'MAX_BYTES_PER_SECOND',
    'maxBytesPerSecond',
    'bytes per second per connection, burst 2 s worth (more: close 4429)',
  ),
  limitOption(
    'MAX_PREAUTH_BYTES',
    'maxPreAuthBytes',
    'bytes a socket may send before authentication finishes (more: close 4408)',
  ),
  limitOption(
    'MAX_PREAUTH_MESSAGES',
    'maxPreAuthMessages',
    'messages a socket may send before authentication finishes (more: close 4408)',
  ),
  limitOption('MAX_CONNECTIONS', 'maxConnections', 'open WebSocket connections (more: close 1013)'),
  limitOption(
    'MAX_ANSWER_BYTES_PER_SECOND',
    'maxAnswerBytesPerSecond',
    'sync answers per second per connection after its first, burst 2 s worth (more: close 4429)',
  ),
  limitOption(
    'MAX_BUFFERED_BYTES',
    'maxBufferedBytes',
    'bytes a socket may leave unread before it is closed with 4429',
  ),
  limitOption(
    'MAX_STRUCTS_PER_SPACE',
    'maxStructsPerSpace',
    'structs one loaded space may hold (~500 bytes of memory each; more: close 4413)',
  ),
  {
    env: 'MEMORY_BUDGET_BYTES',
    flag: 'memory-budget-bytes',
    description: 'estimated memory all loaded spaces may take together (a space past it: close 1013, retry)',
    shown: `60% of the heap limit (${DEFAULT_MEMORY_BUDGET} here)`,
    schema: whole(1, MAX_INT).prefault(String(DEFAULT_MEMORY_BUDGET)),
  },
  {
    env: 'MAX_TOTAL_STORAGE_BYTES',
    flag: 'max-total-storage-bytes',
    description:
      'bytes the database may take on disk, all spaces together (SQLite: its files; PostgreSQL: its tables); past it updates are refused with 4503 (retried, kept on the devices); 0: no limit',
    shown: '0',
    schema: whole(0, MAX_INT).prefault('0'),
  },
  {
    env: 'MIN_FREE_DISK_BYTES',
    flag: 'min-free-disk-bytes',
    description:
      "free bytes the SQLite database's disk must keep; below it updates are refused with 4503 (retried, kept on the devices); 0: no check",
    shown: String(DEFAULT_MIN_FREE_DISK),
    schema: whole(0, MAX_INT).prefault(String(DEFAULT_MIN_FREE_DISK)),
  },
  limitOption('IDLE_UNLOAD_MS', 'idleUnloadMs', 'how long a space with no connection stays in memory', 0),
  limitOption(
    'CHUNK_IDLE_MS',
    'chunkIdleMs',
    'a message a client sends in chunks that gets no chunk for this long closes its socket with 4408',
  ),
  limitOption(
    'COMPACT_EVERY_UPDATES',
    'compactEveryUpdates',
    "compact a space's log after this many appended updates…",
  ),
  limitOption('COMPACT_EVERY_BYTES', 'compactEveryBytes', '…or after this many appended bytes'),
  limitOption(
    'LAGGING_AFTER_MS',
    'laggingAfterMs',
    'a connection whose device reports a change unconfirmed for longer than this counts in converge_connections_lagging',
  ),
  limitOption(
    'PROBE_AFTER_CHANGE_MS',
    'probeAfterChangeMs',
    'after a change, how long until an instance sends the others the digest of its state (the convergence probe)',
  ),
  limitOption(
    'DIGEST_EVERY_MS',
    'digestEveryMs',
    "a device's state digests are compared at most once per this long (more are ignored)",
  ),
  {
    env: 'CREATE_SPACES',
    flag: 'create-spaces',
    description:
      'open: anyone may create a space (POST /api/spaces); token: only with Authorization: Bearer <ADMIN_TOKEN>',
    shown: 'open',
    schema: z.enum(['open', 'token'], { error: 'must be open or token' }).default('open'),
  },
  {
    env: 'ADMIN_TOKEN',
    flag: 'admin-token',
    description: `the bearer token that creates spaces (required with CREATE_SPACES=token; at least ${MIN_SECRET_LENGTH} characters); it is not rate-limited`,
    shown: undefined,
    schema: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  },
  perIpOption(
    'SPACES_PER_MINUTE_PER_IP',
    'spacesPerMinute',
    'spaces one client address may create per minute (more: 429 with Retry-After); 0: no limit',
  ),
  perIpOption(
    'SPACES_BURST_PER_IP',
    'spacesBurst',
    'spaces one client address may create at once, before the per-minute rate applies',
    1,
  ),
  perIpOption(
    'READS_PER_MINUTE_PER_IP',
    'readsPerMinute',
    'reads of a space over HTTP (GET /api/spaces/<id>) one client address may make per minute (more: 429 with Retry-After); 0: no limit',
  ),
  perIpOption(
    'READS_BURST_PER_IP',
    'readsBurst',
    'reads one client address may make at once, before the per-minute rate applies',
    1,
  ),
  {
    env: 'READ_AFTER_MAX_MS',
    flag: 'read-after-max-ms',
    description:
      'how long GET /api/spaces/<id>?after=<version> waits at most for that version to be committed (then 503 with Retry-After)',
    shown: '10000',
    schema: whole(0, 60_000).prefault('10000'),
  },
  {
    env: 'HISTORY',
    flag: 'history',
    description: 'on: the server keeps versions of each space, which the app lists and restores; off: none',
    shown: 'on',
    schema: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  },
  {
    env: 'HISTORY_QUIET_MS',
    flag: 'history-quiet-ms',
    description: 'a version of a space is saved once it has been this long without a change',
    shown: '60000',
    schema: whole(100, MAX_INT).prefault('60000'),
  },
  {
    env: 'HISTORY_MAX_INTERVAL_MS',
    flag: 'history-max-interval-ms',
    description: 'and at least this often while changes go on',
    shown: '600000',
    schema: whole(1000, MAX_INT).prefault('600000'),
  },
  {
    env: 'HISTORY_KEEP_ALL_HOURS',
    flag: 'history-keep-all-hours',
    description: 'every version younger than this is kept; older ones are thinned to one a day',
    shown: '24',
    schema: whole(0, 24 * 365).prefault('24'),
  },
  {
    env: 'HISTORY_KEEP_DAYS',
    flag: 'history-keep-days',
    description: 'one version a day is kept for this many days; older ones are dropped',
    shown: '30',
    schema: whole(0, 3650).prefault('30'),
  },
  {
    env: 'HISTORY_MAX_VERSIONS',
    flag: 'history-max-versions',
    description: 'the most versions kept of one space (the oldest go first; the newest always stays)',
    shown: '200',
    schema: whole(1, 100_000).prefault('200'),
  },
  perIpOption(
    'MAX_CONNECTIONS_PER_IP',
    'connections',
    'open WebSockets per client address (more: close 1013); 0: no limit',
  ),
  perIpOption(
    'CONNECTS_PER_MINUTE_PER_IP',
    'connectsPerMinute',
    'new WebSockets per minute per client address (more: close 1013); 0: no limit',
  ),
  perIpOption(
    'CONNECT_BURST_PER_IP',
    'connectBurst',
    'new WebSockets one client address may open at once, before the per-minute rate applies',
    1,
  ),
  perIpOption(
    'MAX_BYTES_PER_SECOND_PER_IP',
    'bytesPerSecond',
    'bytes per second of incoming frames per client address, shared by its sockets (more: that socket is closed with 4429); 0: no limit',
  ),
  perIpOption(
    'MAX_BURST_BYTES_PER_IP',
    'burstBytes',
    'bytes one client address may send at once before MAX_BYTES_PER_SECOND_PER_IP applies; at least MAX_FRAME_BYTES',
    1,
  ),
  {
    env: 'TRUST_PROXY',
    flag: 'trust-proxy',
    description:
      'how many proxies in front of the server append to X-Forwarded-For (1: nginx); the client address is the entry they wrote. 0: the header is ignored',
    shown: '0',
    schema: whole(0, 16).prefault('0'),
  },
  {
    env: 'ALLOWED_ORIGINS',
    flag: 'allowed-origins',
    description:
      "origins besides the server's own that may call the API and open WebSockets, comma-separated (https://a.example,https://b.example)",
    shown: 'none',
    schema: originList,
  },
  {
    env: 'CONTENT_SECURITY_POLICY',
    flag: 'content-security-policy',
    description: 'the Content-Security-Policy header of every response',
    shown: 'the built-in policy (README)',
    schema: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .refine((v) => !/[\r\n]/.test(v), 'must be one line')
      .default(DEFAULT_CSP),
  },
  {
    env: 'ALLOW_EMPTY_DATABASE',
    flag: 'allow-empty-database',
    description:
      'start although the SQLite database is missing, empty or another one while DATA_DIR records that it held spaces (1: once, on purpose)',
    shown: '0',
    schema: z.enum(['0', '1'], { error: 'must be 0 or 1' }).default('0'),
  },
]

const schema = z.object(Object.fromEntries(OPTIONS.map((o) => [o.env, o.schema])))

/** A configuration that does not validate; `message` names every bad option. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** What parseArgs knows: one string option per OPTIONS entry, `--no-auth`, `--help`/`-h`. */
const ARG_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: 'string' as const }])),
  'no-auth': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}

/**
 * The arguments split by node:util's parseArgs (`--port 1234`, `--port=1234`, `-h`), in order. Not
 * strict: the checks, with messages that name the flag, are readFlags'. Every `--` is dropped, as
 * `pnpm start -- --port 1234` passes one along.
 */
const tokensOf = (argv: readonly string[]) =>
  parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    options: ARG_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  }).tokens

/** Whether the arguments ask for the option list. */
export const wantsHelp = (argv: readonly string[]): boolean =>
  tokensOf(argv).some((t) => t.kind === 'option' && t.name === 'help')

export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const flag = o.env === 'AUTH' ? '--auth on|off, --no-auth' : `--${o.flag} <value>`
    const def = o.shown === undefined ? '' : ` (default: ${o.shown})`
    return `  ${flag.padEnd(40)} ${o.env.padEnd(28)} ${o.description}${def}`
  })
  return [
    'converge server — the WebSocket sync server of Converge',
    '',
    'usage: node --import tsx src/main.ts [options]   (or: pnpm start -- [options])',
    '',
    'Every option is a flag or an environment variable; the flag wins.',
    '',
    `  ${'flag'.padEnd(40)} ${'environment'.padEnd(28)} meaning`,
    ...rows,
    `  ${'--help, -h'.padEnd(40)} ${''.padEnd(28)} print this list`,
    '',
  ].join('\n')
}

/** Reads flags (`--port 1234`, `--port=1234`, `--no-auth`) into the env-named keys; the last one wins. */
function readFlags(argv: readonly string[]): Record<string, string> {
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]))
  const out: Record<string, string> = {}
  for (const token of tokensOf(argv)) {
    if (token.kind === 'positional') throw new ConfigError(`unexpected argument "${token.value}"`)
    if (token.kind !== 'option' || token.name === 'help') continue // main prints the help first
    if (token.name === 'no-auth') {
      if (token.value !== undefined) throw new ConfigError('--no-auth takes no value')
      out.AUTH = 'off'
      continue
    }
    const option = byFlag.get(token.name)
    if (!option) throw new ConfigError(`unknown option ${token.rawName}`)
    // parseArgs takes the next argument as the value, whatever it is: `--port --host x` lacks one
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))
      throw new ConfigError(`--${option.flag} needs a value`)
    out[option.env] = token.value
  }
  return out
}

/**
 * The configuration from command-line arguments (without node and the script) and the environment.
 * Throws ConfigError, naming each bad option with its flag and variable.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const raw: Record<string, string> = {}
  for (const o of OPTIONS) {
    const v = env[o.env]
    if (v !== undefined && v !== '') raw[o.env] = v
  }
  Object.assign(raw, readFlags(argv))
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '')
      const option = OPTIONS.find((o) => o.env === key)
      const where = option ? `${option.env} (--${option.flag})` : key
      // never echo a secret back (URLs may hold passwords)
      const given = option && !SECRET_BEARING.has(option.env) ? `, got "${raw[key]}"` : ''
      return `  ${where}: ${issue.message}${given}`
    })
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const v = parsed.data as Record<string, unknown>
  const n = (key: string): number => v[key] as number
  if (n('MAX_FRAME_BYTES') > 2 * n('MAX_BYTES_PER_SECOND'))
    throw new ConfigError(
      'invalid configuration:\n  MAX_FRAME_BYTES (--max-frame-bytes): must not exceed the byte burst, 2 × MAX_BYTES_PER_SECOND' +
        ` (${2 * n('MAX_BYTES_PER_SECOND')}): a larger frame would always be rate-limited`,
    )
  const storage = parseStorage(v.STORAGE as string | undefined, v.DATA_DIR as string)
  const redisUrl = v.REDIS_URL as string | undefined
  if (redisUrl && storage.kind !== 'postgres')
    throw new ConfigError(
      'invalid configuration:\n  REDIS_URL (--redis-url): several instances must share their storage: set STORAGE=postgres://…',
    )
  if (redisUrl && v.SECRET === undefined)
    throw new ConfigError(
      'invalid configuration:\n  SECRET (--secret): required with REDIS_URL: every instance must accept the tokens the others issue',
    )
  if (v.CREATE_SPACES === 'token' && v.ADMIN_TOKEN === undefined)
    throw new ConfigError(
      'invalid configuration:\n  ADMIN_TOKEN (--admin-token): required with CREATE_SPACES=token (the secret that creates spaces)',
    )
  if (n('MAX_BYTES_PER_SECOND_PER_IP') > 0 && n('MAX_FRAME_BYTES') > n('MAX_BURST_BYTES_PER_IP'))
    throw new ConfigError(
      `invalid configuration:\n  MAX_BURST_BYTES_PER_IP (--max-burst-bytes-per-ip): must be at least MAX_FRAME_BYTES (${n('MAX_FRAME_BYTES')}): a larger frame would always be refused`,
    )
  return {
    port: n('PORT'),
    host: v.HOST as string,
    dataDir: v.DATA_DIR as string,
    auth: v.AUTH === 'on',
    logLevel: v.LOG_LEVEL as LogLevel,
    secret: v.SECRET as string | undefined,
    webDist: v.WEB_DIST as string,
    storage,
    redisUrl,
    limits: {
      maxFrameBytes: n('MAX_FRAME_BYTES'),
      maxDocumentBytes: n('MAX_DOCUMENT_BYTES'),
      maxMessagesPerSecond: n('MAX_MESSAGES_PER_SECOND'),
      maxBytesPerSecond: n('MAX_BYTES_PER_SECOND'),
      maxPreAuthBytes: n('MAX_PREAUTH_BYTES'),
      maxPreAuthMessages: n('MAX_PREAUTH_MESSAGES'),
      maxConnections: n('MAX_CONNECTIONS'),
      maxAnswerBytesPerSecond: n('MAX_ANSWER_BYTES_PER_SECOND'),
      maxBufferedBytes: n('MAX_BUFFERED_BYTES'),
      maxStructsPerSpace: n('MAX_STRUCTS_PER_SPACE'),
      memoryBudgetBytes: n('MEMORY_BUDGET_BYTES'),
      idleUnloadMs: n('IDLE_UNLOAD_MS'),
      chunkIdleMs: n('CHUNK_IDLE_MS'),
      compactEveryUpdates: n('COMPACT_EVERY_UPDATES'),
      compactEveryBytes: n('COMPACT_EVERY_BYTES'),
      laggingAfterMs: n('LAGGING_AFTER_MS'),
      probeAfterChangeMs: n('PROBE_AFTER_CHANGE_MS'),
      digestEveryMs: n('DIGEST_EVERY_MS'),
    },
    createSpaces: v.CREATE_SPACES as 'open' | 'token',
    adminToken: v.ADMIN_TOKEN as string | undefined,
    trustProxy: n('TRUST_PROXY'),
    allowedOrigins: v.ALLOWED_ORIGINS as string[],
    contentSecurityPolicy: v.CONTENT_SECURITY_POLICY as string,
    allowEmptyDatabase: v.ALLOW_EMPTY_DATABASE === '1',
    storageQuota: { maxTotalBytes: n('MAX_TOTAL_STORAGE_BYTES'), minFreeBytes: n('MIN_FREE_DISK_BYTES') },
    readAfterMaxMs: n('READ_AFTER_MAX_MS'),
    history: {
      enabled: v.HISTORY === 'on',
      quietMs: n('HISTORY_QUIET_MS'),
      maxIntervalMs: n('HISTORY_MAX_INTERVAL_MS'),
      keepAllMs: n('HISTORY_KEEP_ALL_HOURS') * 3_600_000,
      keepDays: n('HISTORY_KEEP_DAYS'),
      maxVersions: n('HISTORY_MAX_VERSIONS'),
    },
    perIp: {
      spacesPerMinute: n('SPACES_PER_MINUTE_PER_IP'),
      spacesBurst: n('SPACES_BURST_PER_IP'),
      readsPerMinute: n('READS_PER_MINUTE_PER_IP'),
      readsBurst: n('READS_BURST_PER_IP'),
      connections: n('MAX_CONNECTIONS_PER_IP'),
      connectsPerMinute: n('CONNECTS_PER_MINUTE_PER_IP'),
      connectBurst: n('CONNECT_BURST_PER_IP'),
      bytesPerSecond: n('MAX_BYTES_PER_SECOND_PER_IP'),
      burstBytes: n('MAX_BURST_BYTES_PER_IP'),
    },
  }
}

/** STORAGE as given (or its default, the SQLite file in DATA_DIR). */
function parseStorage(value: string | undefined, dataDir: string): StorageConfig {
  if (value === undefined) return { kind: 'sqlite', file: `${dataDir.replace(/\/+$/, '')}/converge.sqlite` }
  if (value.startsWith('sqlite:')) return { kind: 'sqlite', file: value.slice('sqlite:'.length) }
  const url = new URL(value)
  const schema = url.searchParams.get('schema') ?? 'public'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new ConfigError(
      `invalid configuration:\n  STORAGE (--storage): schema must be a lower-case SQL name, got "${schema}"`,
    )
  url.searchParams.delete('schema')
  return { kind: 'postgres', url: url.toString(), schema }
}
