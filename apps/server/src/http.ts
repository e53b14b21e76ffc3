/**
 * The HTTP side: the space API, health, metrics and the built web app. WebSocket upgrades are
 * handled in ws.ts.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, resolve, sep } from 'node:path'
import { SPACE_ID, type SpaceRegistry } from '@converge/server-core'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import type { Tokens } from './auth.js'
import type { Logger } from './log.js'

/** Largest body accepted by POST /api/spaces. */
export const MAX_API_BODY_BYTES = 16 * 1024

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
  readonly spaces: SpaceRegistry
  readonly registry: Registry
  readonly webDist: string
  readonly isShuttingDown: () => boolean
  readonly log: Logger
}

/** A new random space id: 22 url-safe characters (128 bits), matching server-core's SPACE_ID. */
export function newSpaceId(): string {
  const id = randomBytes(16).toString('base64url')
  if (!SPACE_ID.test(id)) throw new Error('generated space id does not match SPACE_ID')
  return id
}

const createSpaceBody = z
  .object({ name: z.string().max(200).optional(), id: z.string().regex(SPACE_ID).optional() })
  .strict()

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
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

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization',
  'access-control-max-age': '600',
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

async function createSpace(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  const body = await readBody(req, MAX_API_BODY_BYTES)
  let proposed: string | undefined
  if (body.length > 0 && body.toString('utf8').trim() !== '') {
    let json: unknown
    try {
      json = JSON.parse(body.toString('utf8'))
    } catch {
      throw new HttpError(400, 'the body is not valid JSON')
    }
    const parsed = createSpaceBody.safeParse(json)
    if (!parsed.success) throw new HttpError(400, 'the body must be {"name"?: string, "id"?: string}')
    proposed = parsed.data.id
  }
  // a space created offline registers under its own id, once; anyone else's id is refused
  const id = proposed ?? newSpaceId()
  if (!(await deps.spaces.registerSpace(id))) throw new HttpError(409, 'that space id is taken')
  const tokens = await deps.issueTokens(id)
  deps.log.info({ spaceId: id }, 'space created')
  sendJson(res, 201, { id, ...tokens }, CORS)
}

async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  deps: HttpDeps,
): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS)
    res.end()
    return
  }
  if (path === '/api/spaces') {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST')
    await createSpace(req, res, deps)
    return
  }
  throw new HttpError(404, 'not found')
}

/** Whether a request path names a file (has an extension), so a miss is a 404, not the app shell. */
const looksLikeFile = (path: string): boolean => extname(path.slice(path.lastIndexOf('/') + 1)) !== ''

async function fileAt(path: string): Promise<{ path: string; size: number } | null> {
  try {
    const s = await stat(path)
    if (s.isFile()) return { path, size: s.size }
    if (s.isDirectory()) {
      const index = resolve(path, 'index.html')
      const i = await stat(index)
      if (i.isFile()) return { path: index, size: i.size }
    }
  } catch {
    /* missing */
  }
  return null
}

async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  deps: HttpDeps,
): Promise<void> {
  const root = resolve(deps.webDist)
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    throw new HttpError(400, 'bad path')
  }
  if (decoded.includes('\0') || decoded.includes('\\')) throw new HttpError(400, 'bad path')
  const target = resolve(root, '.' + decoded)
  // no directory traversal: the resolved path must stay inside the web root
  if (target !== root && !target.startsWith(root + sep)) throw new HttpError(404, 'not found')

  let file = await fileAt(target)
  if (!file && !looksLikeFile(decoded)) file = await fileAt(resolve(root, 'index.html')) // SPA routing
  if (!file) {
    const rootExists = await stat(root).then(
      (s) => s.isDirectory(),
      () => false,
    )
    throw new HttpError(404, rootExists ? 'not found' : 'not found (the web app is not built)')
  }
  const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream'
  const immutable = file.path.startsWith(resolve(root, 'assets') + sep)
  res.writeHead(200, {
    'content-type': type,
    'content-length': file.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const stream = createReadStream(file.path)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

async function route(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  let path: string
  try {
    path = new URL(req.url ?? '/', 'http://localhost').pathname
  } catch {
    throw new HttpError(400, 'bad request target')
  }
  if (path === '/api' || path.startsWith('/api/')) return handleApi(req, res, path, deps)
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
  return serveStatic(req, res, path, deps)
}

/** The request listener of the HTTP server. */
export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, res, deps).catch((e: unknown) => {
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
      const isApi = (req.url ?? '').startsWith('/api')
      // a body we refused to read must not be parsed as the next request
      const extra = { ...(isApi ? CORS : {}), ...(status === 413 ? { connection: 'close' } : {}) }
      sendJson(res, status, { error: message }, extra)
    })
  }
}
