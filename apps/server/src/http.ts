/**
 * The HTTP side: the space API, health, metrics and the built web app (through sirv). WebSocket
 * upgrades are handled in ws.ts.
 */
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve } from 'node:path'
import { SPACE_ID, type SpaceRegistry } from '@converge/server-core'
import type { Registry } from 'prom-client'
import sirv, { type RequestHandler } from 'sirv'
import { z } from 'zod'
import type { Tokens } from './auth.js'
import type { Logger } from './log.js'

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
  // on every answer from here: files, 304s, 404s
  res.setHeader('x-content-type-options', 'nosniff')
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
  return serveStatic(req, res, web)
}

/** The request listener of the HTTP server. */
export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const web = new WebApp(resolve(deps.webDist))
  return (req, res) => {
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
      const isApi = (req.url ?? '').startsWith('/api')
      // a body we refused to read must not be parsed as the next request
      const extra = { ...(isApi ? CORS : {}), ...(status === 413 ? { connection: 'close' } : {}) }
      sendJson(res, status, { error: message }, extra)
    })
  }
}
