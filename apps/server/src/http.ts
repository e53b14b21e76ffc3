/**
 * The HTTP side: the space API, health, metrics and the built web app (through sirv). WebSocket
 * upgrades are handled in ws.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve } from 'node:path'
import {
  type Authenticate,
  MalformedVersion,
  MemoryBudgetExceeded,
  SPACE_ENGINES,
  SPACE_ID,
  type SpaceEngine,
  type SpaceRead,
  type SpaceRegistry,
  StorageError,
} from '@converge/server-core'
import type { Registry } from 'prom-client'
import sirv, { type RequestHandler } from 'sirv'
import { z } from 'zod'
import type { Tokens } from './auth.js'
import type { LinkResets } from './links.js'
import type { Logger } from './log.js'
import type { RefusedBy } from './metrics.js'
import type { KeyedBuckets } from './rate.js'
import { parseVersionToken, versionToken } from '@converge/protocol'
import { etagOf, matchesEtag, viewOf } from './read-model.js'
import type { History } from './history.js'
import type { Trips } from './trips.js'
import type { OriginPolicy } from './security.js'

/** Largest body accepted by POST /api/spaces. */
export const MAX_API_BODY_BYTES = 16 * 1024

/** The content type of a served file, by extension (anything else: application/octet-stream). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
}

export interface HttpDeps {
  readonly issueTokens: (spaceId: string) => Promise<Tokens>
  /** Where `POST /api/spaces` records the ids it hands out or accepts. */
  readonly spaces: Pick<SpaceRegistry, 'registerSpace'>
  /** `POST /api/spaces/<id>/links/reset` (links.ts). */
  readonly links: LinkResets
  /** One bucket per client address for link resets (null: no limit); SPACES_PER_MINUTE_PER_IP's numbers. */
  readonly resetRate: KeyedBuckets | null
  readonly registry: Registry
  readonly webDist: string
  readonly isShuttingDown: () => boolean
  readonly log: Logger
  /** The client address of a request, the key of the per-address limits. */
  readonly clientAddress: (req: IncomingMessage) => string
  /** Which `Origin`s may call the API. */
  readonly origins: OriginPolicy
  /** Set on every response (security.ts). */
  readonly headers: Readonly<Record<string, string>>
  /** `token`: creating a space needs `Authorization: Bearer <adminToken>`. */
  readonly createSpaces: { readonly mode: 'open' | 'token'; readonly adminToken: string | undefined }
  /** One bucket per client address for POST /api/spaces (null: no limit). */
  readonly spaceRate: KeyedBuckets | null
  /** Counts a refusal (metrics). */
  readonly refused: (limit: RefusedBy) => void
  /** READ-4: what a token allows on a space (the sockets' check). */
  readonly authenticate: Authenticate
  /** READ-1, READ-2: the core's read of a space. */
  readonly readSpace: (
    spaceId: string,
    o: { readonly after?: Uint8Array; readonly waitMs?: number },
  ) => Promise<SpaceRead>
  /** One bucket per client address for reads (null: no limit). */
  readonly readRate: KeyedBuckets | null
  /** READ-2: the longest `?after=` waits. */
  readonly readAfterMaxMs: number
  /** TRIPS-1…7: finishing trips and listing them (trips.ts). */
  readonly trips: Trips
  /** One bucket per client address for finishing trips (null: no limit). */
  readonly tripRate: KeyedBuckets | null
  /** HISTORY-HTTP-1…3: the versions the server keeps (history.ts). */
  readonly history: History
}

/** A new random space id: 22 url-safe characters (128 bits), matching server-core's SPACE_ID. */
export function newSpaceId(): string {
  const id = randomBytes(16).toString('base64url')
  if (!SPACE_ID.test(id)) throw new Error('generated space id does not match SPACE_ID')
  return id
}

const createSpaceBody = z
  .object({
    name: z.string().max(200).optional(),
    id: z.string().regex(SPACE_ID).optional(),
    engine: z.enum(SPACE_ENGINES).optional(),
  })
  .strict()

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (Retry-After, WWW-Authenticate, …). */
    readonly headers: Readonly<Record<string, string>> = {},
    /** Extra fields of the JSON body, beside `error`. */
    readonly body: Readonly<Record<string, unknown>> = {},
  ) {
    super(message)
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  })
  res.end(text)
}

/** What an allowed cross-origin caller of the API is told (its own origin, echoed; never `*`). */
const CORS = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, if-none-match, if-match, idempotency-key',
  'access-control-expose-headers': 'etag, converge-version',
  'access-control-max-age': '600',
}

/** An Origin header as logged: bounded, so a refused request cannot write long lines. */
const shownOrigin = (origin: string): string => (origin.length > 200 ? `${origin.slice(0, 200)}…` : origin)

/** Whether the request carries `Authorization: Bearer <token>` (compared in constant time). */
function hasBearer(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return false
  const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')
  if (!match) return false
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(match[1]!), digest(token))
}

/**
 * Whether this POST /api/spaces may go on: the admin token (CREATE_SPACES=token) passes at once;
 * anything else takes one from its address's bucket first (so a wrong token cannot be guessed
 * faster than spaces are created), then is refused without the token in token mode.
 */
function admitCreation(req: IncomingMessage, deps: HttpDeps): void {
  const { mode, adminToken } = deps.createSpaces
  if (mode === 'token' && hasBearer(req, adminToken)) return
  const ip = deps.clientAddress(req)
  if (deps.spaceRate && !deps.spaceRate.take(ip, 1)) {
    const retryAfter = Math.max(1, Math.ceil(deps.spaceRate.waitMs(ip, 1) / 1000))
    deps.refused('spaces_per_ip')
    deps.log.warn({ ip, retryAfter }, 'space creation refused: too many from this address')
    throw new HttpError(
      429,
      `too many spaces created from this address; retry in ${retryAfter} s`,
      { 'retry-after': String(retryAfter), connection: 'close' },
      { retryAfterSeconds: retryAfter },
    )
  }
  if (mode === 'token') {
    deps.refused('admin_token')
    deps.log.warn({ ip }, 'space creation refused: no valid admin token')
    throw new HttpError(401, 'creating a space needs Authorization: Bearer <admin token>', {
      'www-authenticate': 'Bearer realm="converge"',
      connection: 'close',
    })
  }
}

/** Reads a request body of at most `max` bytes (413 past it; the rest is drained, not kept). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const declared = Number(req.headers['content-length'])
    const tooLarge = (): void => {
      req.removeListener('data', onData)
      req.resume()
      reject(new HttpError(413, `body larger than ${max} bytes`))
    }
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > max) tooLarge()
      else chunks.push(chunk)
    }
    if (Number.isFinite(declared) && declared > max) {
      tooLarge()
      return
    }
    req.on('data', onData)
    req.on('end', () => resolvePromise(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** `/api/spaces/<id>`, its space id captured. */
const SPACE_PATH = /^\/api\/spaces\/([A-Za-z0-9_-]{1,64})$/

/**
 * GET /api/spaces/<id> with `Authorization: Bearer <read or write token>` (PROTOCOL.md §P9): the
 * space's cart, notes and totals as JSON with a strong ETag (304 for an If-None-Match that names it)
 * and the committed version; `?after=<version>` first waits, at most READ_AFTER_MAX_MS, until that
 * version is committed (else 503 with Retry-After). Each read takes from its address's bucket first,
 * and costs one pass over the document.
 */
async function readSpace(
  req: IncomingMessage,
  res: ServerResponse,
  spaceId: string,
  query: URLSearchParams,
  deps: HttpDeps,
): Promise<void> {
  const ip = deps.clientAddress(req)
  if (deps.readRate && !deps.readRate.take(ip, 1)) {
    const retryAfter = Math.max(1, Math.ceil(deps.readRate.waitMs(ip, 1) / 1000))
    deps.refused('reads_per_ip')
    deps.log.warn({ ip, spaceId, retryAfter }, 'read refused: too many from this address')
    throw new HttpError(
      429,
      `too many reads from this address; retry in ${retryAfter} s`,
      { 'retry-after': String(retryAfter) },
      { retryAfterSeconds: retryAfter },
    )
  }
  await authorize(req, spaceId, deps, 'read', 'reading a space', 'read_token', 'read refused')
  const afterToken = query.get('after')
  let after: Uint8Array | undefined
  if (afterToken !== null) {
    const parsed = parseVersionToken(afterToken)
    if (!parsed) throw new HttpError(400, 'after= is not a version token')
    after = parsed
  }
  let read: SpaceRead
  try {
    read = await deps.readSpace(spaceId, { after, waitMs: deps.readAfterMaxMs })
  } catch (e) {
    if (e instanceof MalformedVersion)
      throw new HttpError(400, `after= is not a version of this space: ${e.message}`)
    if (e instanceof MemoryBudgetExceeded)
      throw new HttpError(503, 'the server is short of memory; try again later', { 'retry-after': '5' })
    throw unavailable(deps, spaceId, e)
  }
  if (!read.covered) {
    deps.log.info({ spaceId }, 'read: the version asked for is not committed yet')
    throw new HttpError(
      503,
      'that version is not committed yet; retry, or read without after=',
      { 'retry-after': '1' },
      { version: versionToken(read.version) },
    )
  }
  const body = JSON.stringify(await viewOf(spaceId, read))
  const etag = etagOf(body)
  const headers = {
    etag,
    'cache-control': 'private, no-cache',
    'converge-version': versionToken(read.version),
  }
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * READ-4, TRIPS-1: the request's bearer token must allow `need` on the space (the sockets' check);
 * refusals are typed (401, 403, 410), logged and counted.
 */
async function authorize(
  req: IncomingMessage,
  spaceId: string,
  deps: HttpDeps,
  need: 'read' | 'write',
  what: string,
  refusal: RefusedBy = need === 'write' ? 'trip_token' : 'read_token',
  refusedLine = `${what}: refused`,
): Promise<void> {
  const unauthorized = { 'www-authenticate': 'Bearer realm="converge"' }
  const bearer = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1] ?? null
  let decision
  try {
    decision = await deps.authenticate(spaceId, bearer)
  } catch (e) {
    if (e instanceof StorageError) throw unavailable(deps, spaceId, e)
    decision = { ok: false, kind: 'Unauthorized', reason: 'the token could not be checked' } as const
  }
  const wanted = need === 'write' ? 'a write token' : 'a read or write token'
  if (decision.ok && (need === 'read' || decision.access === 'write')) return
  deps.refused(refusal)
  const ip = deps.clientAddress(req)
  if (decision.ok) {
    deps.log.warn({ ip, spaceId, kind: 'Forbidden', reason: 'a read-only token' }, refusedLine)
    throw new HttpError(403, `${what} needs ${wanted}; this link is read-only`)
  }
  deps.log.warn({ ip, spaceId, kind: decision.kind, reason: decision.reason }, refusedLine)
  if (decision.kind === 'Forbidden') throw new HttpError(403, decision.reason)
  if (decision.kind === 'LinkRevoked') throw new HttpError(410, decision.reason)
  throw new HttpError(
    401,
    `${what} needs Authorization: Bearer <${need === 'write' ? 'write' : 'read or write'} token> (${decision.reason})`,
    unauthorized,
  )
}

/** Takes one from the address's bucket, or refuses with 429 (logged, counted). */
function takeOrRefuse(
  req: IncomingMessage,
  deps: HttpDeps,
  bucket: KeyedBuckets | null,
  limit: RefusedBy,
  what: string,
): void {
  const ip = deps.clientAddress(req)
  if (!bucket || bucket.take(ip, 1)) return
  const retryAfter = Math.max(1, Math.ceil(bucket.waitMs(ip, 1) / 1000))
  deps.refused(limit)
  deps.log.warn({ ip, retryAfter }, `${what} refused: too many from this address`)
  throw new HttpError(
    429,
    `too many requests from this address; retry in ${retryAfter} s`,
    { 'retry-after': String(retryAfter) },
    { retryAfterSeconds: retryAfter },
  )
}

/** `/api/spaces/<id>/trips`, its space id captured. */
const TRIPS_PATH = /^\/api\/spaces\/([A-Za-z0-9_-]{1,64})\/trips$/

/** An Idempotency-Key: 8–128 url-safe characters (a uuid fits). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/

const finishBody = z.object({ by: z.string().max(200).optional() }).strict()

/**
 * POST /api/spaces/<id>/trips with a write token, `Idempotency-Key` and `If-Match: <version token>`
 * (PROTOCOL.md §P10): finishes a shopping trip — the saga of trips.ts. Every attempt takes from its
 * address's bucket first; the answer carries the trip (or the current version, on 412).
 */
async function finishTrip(
  req: IncomingMessage,
  res: ServerResponse,
  spaceId: string,
  deps: HttpDeps,
): Promise<void> {
  takeOrRefuse(req, deps, deps.tripRate, 'trips_per_ip', 'finishing a trip')
  const raw = await readBody(req, MAX_API_BODY_BYTES)
  await authorize(req, spaceId, deps, 'write', 'finishing a trip')
  const key = req.headers['idempotency-key']
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))
    throw new HttpError(400, 'finishing a trip needs an Idempotency-Key header of 8–128 url-safe characters')
  const match = req.headers['if-match']
  if (typeof match !== 'string' || match.trim() === '')
    throw new HttpError(428, 'finishing a trip needs If-Match: the version the list was seen at')
  const ifMatch = parseVersionToken(
    match
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1'),
  )
  if (!ifMatch) throw new HttpError(400, 'If-Match is not a version token')
  let body: z.infer<typeof finishBody> = {}
  if (raw.length > 0) {
    let json: unknown
    try {
      json = JSON.parse(raw.toString('utf8'))
    } catch {
      throw new HttpError(400, 'the body is not JSON')
    }
    const parsed = finishBody.safeParse(json)
    if (!parsed.success) throw new HttpError(400, `bad body: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
    body = parsed.data
  }
  let outcome
  try {
    outcome = await deps.trips.finish({ spaceId, idempotencyKey: key, ifMatch, by: body.by ?? '' })
  } catch (e) {
    if (e instanceof MemoryBudgetExceeded)
      throw new HttpError(503, 'the server is short of memory; try again later', { 'retry-after': '5' })
    throw unavailable(deps, spaceId, e)
  }
  const { status, ...rest } = outcome
  const headers: Record<string, string> = {}
  if ('retryAfter' in rest) headers['retry-after'] = String(rest.retryAfter)
  if ('version' in rest) headers['converge-version'] = rest.version
  if (status >= 400) deps.log.info({ spaceId, status }, 'trip not finished')
  sendJson(res, status, rest, headers)
}

/** GET /api/spaces/<id>/trips with a read or write token: the space's trips, newest first (TRIPS-7). */
async function listTrips(
  req: IncomingMessage,
  res: ServerResponse,
  spaceId: string,
  deps: HttpDeps,
): Promise<void> {
  takeOrRefuse(req, deps, deps.readRate, 'reads_per_ip', 'listing trips')
  await authorize(req, spaceId, deps, 'read', 'listing trips')
  let trips
  try {
    trips = await deps.trips.list(spaceId)
  } catch (e) {
    throw unavailable(deps, spaceId, e)
  }
  sendJson(res, 200, { trips })
}

/** `/api/spaces/<id>/versions[/<n>]`, its space id and version number captured. */
const VERSIONS_PATH = /^\/api\/spaces\/([A-Za-z0-9_-]{1,64})\/versions(?:\/(\d{1,15}))?$/

/**
 * GET /api/spaces/<id>/versions with a read or write token: the versions the server keeps, newest
 * first; GET …/versions/<n>: one whole, its state an update of the space's engine (PROTOCOL.md §P11).
 * Each takes from its address's read bucket first.
 */
async function readVersions(
  req: IncomingMessage,
  res: ServerResponse,
  spaceId: string,
  id: number | null,
  deps: HttpDeps,
): Promise<void> {
  takeOrRefuse(req, deps, deps.readRate, 'reads_per_ip', 'reading versions')
  await authorize(req, spaceId, deps, 'read', 'reading versions')
  try {
    if (id === null) {
      sendJson(res, 200, { versions: await deps.history.list(spaceId) })
      return
    }
    const version = await deps.history.get(spaceId, id)
    if (!version) throw new HttpError(404, 'no such version of this space (it may have been thinned out)')
    // a version never changes: its answer may be kept
    sendJson(res, 200, version, { 'cache-control': 'private, max-age=86400, immutable' })
  } catch (e) {
    if (e instanceof HttpError) throw e
    throw unavailable(deps, spaceId, e)
  }
}

/** A read the storage failed: 503, logged. */
function unavailable(deps: HttpDeps, spaceId: string, e: unknown): HttpError {
  deps.log.error(
    { spaceId, err: e instanceof Error ? e.message : String(e) },
    'read failed: the space could not be loaded',
  )
  return new HttpError(503, 'the space could not be loaded; try again later', { 'retry-after': '5' })
}

/** `/api/spaces/<id>/links/reset`, its space id captured. */
const RESET_PATH = /^\/api\/spaces\/([A-Za-z0-9_-]{1,64})\/links\/reset$/

/**
 * POST /api/spaces/<id>/links/reset with `Authorization: Bearer <write token>`: a new link
 * generation, new tokens, the old links' sockets closed (PROTOCOL.md §P5.10). Every attempt takes
 * from its address's bucket first, so a token cannot be guessed faster than links are reset.
 */
async function resetLinks(
  req: IncomingMessage,
  res: ServerResponse,
  spaceId: string,
  deps: HttpDeps,
): Promise<void> {
  const ip = deps.clientAddress(req)
  if (deps.resetRate && !deps.resetRate.take(ip, 1)) {
    const retryAfter = Math.max(1, Math.ceil(deps.resetRate.waitMs(ip, 1) / 1000))
    deps.refused('resets_per_ip')
    deps.log.warn({ ip, retryAfter }, 'link reset refused: too many from this address')
    throw new HttpError(
      429,
      `too many link resets from this address; retry in ${retryAfter} s`,
      { 'retry-after': String(retryAfter), connection: 'close' },
      { retryAfterSeconds: retryAfter },
    )
  }
  await readBody(req, MAX_API_BODY_BYTES) // nothing is read from it; drained so the connection stays usable
  const bearer = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1]
  const unauthorized = { 'www-authenticate': 'Bearer realm="converge"' }
  if (!bearer)
    throw new HttpError(401, 'resetting links needs Authorization: Bearer <write token>', unauthorized)
  const outcome = await deps.links.reset(spaceId, bearer)
  if (!outcome.ok)
    throw new HttpError(outcome.status, outcome.error, outcome.status === 401 ? unauthorized : {})
  sendJson(res, 200, { ...outcome.tokens })
}

async function createSpace(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  admitCreation(req, deps)
  const body = await readBody(req, MAX_API_BODY_BYTES)
  let proposed: string | undefined
  let engine: SpaceEngine = 'yjs'
  if (body.length > 0 && body.toString('utf8').trim() !== '') {
    let json: unknown
    try {
      json = JSON.parse(body.toString('utf8'))
    } catch {
      throw new HttpError(400, 'the body is not valid JSON')
    }
    const parsed = createSpaceBody.safeParse(json)
    if (!parsed.success)
      throw new HttpError(
        400,
        'the body must be {"name"?: string, "id"?: string, "engine"?: "yjs" | "automerge"}',
      )
    proposed = parsed.data.id
    engine = parsed.data.engine ?? 'yjs'
  }
  // a space created offline registers under its own id, once; anyone else's id is refused
  const id = proposed ?? newSpaceId()
  if (!(await deps.spaces.registerSpace(id, engine))) throw new HttpError(409, 'that space id is taken')
  const tokens = await deps.issueTokens(id)
  deps.log.info({ spaceId: id, engine }, 'space created')
  sendJson(res, 201, { id, engine, ...tokens })
}

async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
  deps: HttpDeps,
): Promise<void> {
  res.setHeader('vary', 'Origin')
  const origin = req.headers.origin
  if (origin !== undefined) {
    // a browser on a page of another origin (no Origin: curl, servers, which are allowed)
    if (!deps.origins.allows(origin, req.headers.host)) {
      deps.refused('origin')
      deps.log.warn(
        { ip: deps.clientAddress(req), origin: shownOrigin(origin), method: req.method, path },
        'request refused: origin not allowed',
      )
      throw new HttpError(403, 'requests from this origin are not allowed', { connection: 'close' })
    }
    res.setHeader('access-control-allow-origin', origin)
    for (const [name, value] of Object.entries(CORS)) res.setHeader(name, value)
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204)
    res.end()
    return
  }
  if (path === '/api/spaces') {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST')
    await createSpace(req, res, deps)
    return
  }
  const space = SPACE_PATH.exec(path)
  if (space) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET')
    await readSpace(req, res, space[1]!, query, deps)
    return
  }
  const versions = VERSIONS_PATH.exec(path)
  if (versions) {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET')
    await readVersions(req, res, versions[1]!, versions[2] === undefined ? null : Number(versions[2]), deps)
    return
  }
  const trips = TRIPS_PATH.exec(path)
  if (trips) {
    if (req.method === 'POST') await finishTrip(req, res, trips[1]!, deps)
    else if (req.method === 'GET') await listTrips(req, res, trips[1]!, deps)
    else throw new HttpError(405, 'use GET or POST')
    return
  }
  const reset = RESET_PATH.exec(path)
  if (reset) {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST')
    await resetLinks(req, res, reset[1]!, deps)
    return
  }
  throw new HttpError(404, 'not found')
}

/** Vite's content-hashed output (`assets/`): a new build has new names, so a name never changes. */
export const IMMUTABLE = 'public, max-age=31536000, immutable'

/** The extension of a request path's last segment ('' for `/`, `/s/abc` and other client routes). */
const extensionOf = (pathname: string): string =>
  extname(pathname.slice(pathname.lastIndexOf('/') + 1)).toLowerCase()

/**
 * The headers sirv adds to a file it is about to send. sirv hands over the request's path, not the
 * file's: a path with an extension is that very file or its `.br`/`.gz` sibling (sirv's SPA
 * fallback applies only to paths without one), and a path without one is the app shell,
 * `index.html` (as a directory index or as the fallback) — a Vite build has no other
 * extensionless file.
 */
function setStaticHeaders(res: ServerResponse, pathname: string): void {
  const ext = extensionOf(pathname)
  const type = ext === '' ? CONTENT_TYPES['.html'] : CONTENT_TYPES[ext]
  res.setHeader('content-type', type ?? 'application/octet-stream')
  // index.html, the service worker, the manifest and the rest are revalidated on every load
  res.setHeader('cache-control', ext !== '' && pathname.startsWith('/assets/') ? IMMUTABLE : 'no-cache')
}

/**
 * The built web app, served by sirv from the table of files it reads when it is created. A build
 * that replaces the folder after that (a new `index.html`, or a new folder) is picked up by the
 * next request: the table is read again, so no stale name or length is ever served.
 */
class WebApp {
  private serve: RequestHandler | undefined
  private build = ''

  constructor(private readonly root: string) {}

  /** sirv over the current build; null while there is no build. */
  async current(): Promise<RequestHandler | null> {
    const [dir, index] = await Promise.all([
      stat(this.root).catch(() => null),
      stat(join(this.root, 'index.html')).catch(() => null),
    ])
    if (!dir?.isDirectory()) return null
    const build = [dir.ino, dir.mtimeMs, index?.ino, index?.mtimeMs, index?.size].join(':')
    if (this.serve === undefined || build !== this.build) {
      this.serve = sirv(this.root, {
        single: true, // SPA routing: a path without an extension that names no file → index.html
        extensions: ['html'], // so that `/` (and any folder) is its index.html
        brotli: true, // `x.br` / `x.gz` next to `x` are sent to clients that accept them
        gzip: true,
        etag: true, // `no-cache` files revalidate with a 304
        setHeaders: setStaticHeaders,
      })
      this.build = build
    }
    return this.serve
  }
}

async function serveStatic(req: IncomingMessage, res: ServerResponse, web: WebApp): Promise<void> {
  const serve = await web.current()
  if (!serve) throw new HttpError(404, 'not found (the web app is not built)')
  // sirv pipes the file without an error listener; a file gone since the table was read (a build
  // under way) must end this response, not the process
  res.once('pipe', (source) => source.on('error', () => res.destroy()))
  let missed = false
  // sirv looks up its table and starts the stream synchronously: `missed` is settled on return
  serve(req, res, () => {
    missed = true
  })
  if (missed) throw new HttpError(404, 'not found')
}

async function route(req: IncomingMessage, res: ServerResponse, deps: HttpDeps, web: WebApp): Promise<void> {
  let path: string
  let query: URLSearchParams
  try {
    const url = new URL(req.url ?? '/', 'http://localhost')
    path = url.pathname
    query = url.searchParams
  } catch {
    throw new HttpError(400, 'bad request target')
  }
  if (path === '/api' || path.startsWith('/api/')) return handleApi(req, res, path, query, deps)
  if (path === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET')
    if (deps.isShuttingDown()) sendJson(res, 503, { ok: false, shuttingDown: true })
    else sendJson(res, 200, { ok: true })
    return
  }
  if (path === '/metrics') {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET')
    const text = await deps.registry.metrics()
    res.writeHead(200, { 'content-type': deps.registry.contentType, 'cache-control': 'no-store' })
    res.end(text)
    return
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed')
  return serveStatic(req, res, web)
}

/** The request listener of the HTTP server. */
export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const web = new WebApp(resolve(deps.webDist))
  const headers = Object.entries(deps.headers)
  return (req, res) => {
    // on every answer: files, 304s, API, errors
    for (const [name, value] of headers) res.setHeader(name, value)
    route(req, res, deps, web).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500
      const message = e instanceof HttpError ? e.message : 'internal error'
      if (status === 500)
        deps.log.error(
          { method: req.method, err: e instanceof Error ? e.message : String(e) },
          'request failed',
        )
      if (res.headersSent) {
        res.destroy()
        return
      }
      // CORS headers, where the origin may have them, are already set (handleApi)
      const extra = {
        ...(e instanceof HttpError ? e.headers : {}),
        // a body we refused to read must not be parsed as the next request
        ...(status === 413 ? { connection: 'close' } : {}),
      }
      sendJson(res, status, { error: message, ...(e instanceof HttpError ? e.body : {}) }, extra)
    })
  }
}
