import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { type IncomingHttpHeaders, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SPACE_ID } from '@converge/server-core'
import { loadOrCreateSecret } from '../src/auth.js'
import { IMMUTABLE, MAX_API_BODY_BYTES, createRequestHandler } from '../src/http.js'
import { createLogger } from '../src/log.js'
import { DEFAULT_CSP, createOriginPolicy, securityHeaders } from '../src/security.js'
import { RawClient, cleanup, connectSynced, createSpace, startTestServer, tempDir, until } from './helpers.js'

afterEach(cleanup)

interface RawResponse {
  status: number
  type: string | undefined
  headers: IncomingHttpHeaders
  /** The body as sent (still compressed, if it was). */
  bytes: Buffer
  body: string
}

/** A request with the path sent exactly as given (fetch would normalise "/../") and no decoding. */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // a connection of its own: a test that rewrites a file right after its response may have the
    // server's read stream send the new bytes too, past Content-Length, onto a reused socket
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => {
        const bytes = Buffer.concat(chunks)
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          headers: res.headers,
          bytes,
          body: bytes.toString('utf8'),
        })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

const INDEX = '<!doctype html><title>converge</title>'
const APP_JS = 'console.log("the app, long enough to be worth compressing")'

function webDist(): string {
  const dir = join(tempDir(), 'dist')
  mkdirSync(join(dir, 'assets'), { recursive: true })
  writeFileSync(join(dir, 'index.html'), INDEX)
  writeFileSync(join(dir, 'assets', 'app-1234.js'), APP_JS)
  writeFileSync(join(dir, 'assets', 'engine.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]))
  writeFileSync(join(dir, 'manifest.webmanifest'), '{"name":"Converge"}')
  writeFileSync(join(dir, 'sw.js'), 'self.skipWaiting()')
  writeFileSync(join(dir, 'style.css'), 'body{}')
  return dir
}

describe('HTTP', () => {
  it('POST /api/spaces returns an id and tokens that work', async () => {
    const server = await startTestServer({ allowedOrigins: ['http://localhost:5173'] })
    const res = await fetch(`${server.url}/api/spaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:5173' },
      body: JSON.stringify({ name: 'Flat 3' }),
    })
    expect(res.status).toBe(201)
    // an allowed origin is echoed, never `*`
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    const body = (await res.json()) as { id: string; writeToken: string; readToken: string }
    expect(body.id).toMatch(SPACE_ID)
    expect(body.id.length).toBeGreaterThanOrEqual(20)
    expect(body.writeToken).not.toBe(body.readToken)
    const other = await createSpace(server)
    expect(other.id).not.toBe(body.id)
    const c = await connectSynced(server, body.id, body.writeToken)
    c.text.insert(0, 'works')
    const reader = await RawClient.open(server, body.id, body.readToken)
    await reader.waitFor('sync-step1')
    reader.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
    await until(() => reader.doc().getText('body:n1').toJSON() === 'works', 'the reader to read')
  })

  it('POST /api/spaces registers a space created offline under its own id, once', async () => {
    const server = await startTestServer()
    const post = (body: unknown) =>
      fetch(`${server.url}/api/spaces`, { method: 'POST', body: JSON.stringify(body) })
    const first = await post({ id: 'offline1234ab', name: 'made offline' })
    expect(first.status).toBe(201)
    expect(((await first.json()) as { id: string }).id).toBe('offline1234ab')
    expect((await post({ id: 'offline1234ab' })).status).toBe(409) // nobody can claim it again
    expect((await post({ id: 'bad id!' })).status).toBe(400)
  })

  it('POST /api/spaces records the engine (Yjs by default, or Automerge); an unknown engine is 400', async () => {
    const server = await startTestServer()
    const post = (body: unknown) =>
      fetch(`${server.url}/api/spaces`, { method: 'POST', body: JSON.stringify(body) })
    const plain = await post({})
    expect(plain.status).toBe(201)
    expect(((await plain.json()) as { engine: string }).engine).toBe('yjs')
    const yjs = await post({ id: 'yjs-space-1234', engine: 'yjs' })
    expect(yjs.status).toBe(201)
    expect(((await yjs.json()) as { engine: string }).engine).toBe('yjs')
    const am = await post({ id: 'am-space-12345', engine: 'automerge' })
    expect(am.status).toBe(201)
    expect(((await am.json()) as { engine: string }).engine).toBe('automerge')
    // (that each is served as its engine: automerge.test.ts)
    const unknown = await post({ engine: 'crdt-x' })
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as { error: string }).error).toMatch(/"engine"\?: "yjs" \| "automerge"/)
  })

  it('POST /api/spaces: bad JSON or body → 400, too large → 413, wrong method → 405, preflight → 204', async () => {
    const server = await startTestServer({ allowedOrigins: ['http://localhost:5173'] })
    const post = (body: string) => fetch(`${server.url}/api/spaces`, { method: 'POST', body })
    const bad = await post('{nope')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/JSON/)
    expect((await post('{"name": 42}')).status).toBe(400)
    expect((await post('[]')).status).toBe(400)
    expect((await post('{"name":"ok","extra":1}')).status).toBe(400)
    expect((await post('')).status).toBe(201)
    expect((await post(JSON.stringify({ name: 'x'.repeat(MAX_API_BODY_BYTES) }))).status).toBe(413)
    expect((await fetch(`${server.url}/api/spaces`)).status).toBe(405)
    expect((await fetch(`${server.url}/api/nothing`, { method: 'POST' })).status).toBe(404)
    const pre = await fetch(`${server.url}/api/spaces`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
  })

  it('GET /healthz is 200, and 503 while shutting down', async () => {
    const server = await startTestServer()
    const res = await fetch(`${server.url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
    await server.close()
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow() // no longer accepting

    // the handler itself, while a shutdown is under way (requests on connections still open)
    let shuttingDown = false
    const handler = createRequestHandler({
      issueTokens: () => Promise.reject(new Error('unused')),
      spaces: { registerSpace: () => Promise.resolve(true) },
      links: { reset: () => Promise.reject(new Error('unused')) },
      resetRate: null,
      registry: new Registry(),
      webDist: tempDir(),
      isShuttingDown: () => shuttingDown,
      log: createLogger('silent'),
      clientAddress: () => '127.0.0.1',
      origins: createOriginPolicy([]),
      headers: securityHeaders(DEFAULT_CSP),
      createSpaces: { mode: 'open', adminToken: undefined },
      spaceRate: null,
      refused: () => {},
      authenticate: () => Promise.reject(new Error('unused')),
      readSpace: () => Promise.reject(new Error('unused')),
      readRate: null,
      trips: {
        finish: () => Promise.reject(new Error('unused')),
        list: () => Promise.reject(new Error('unused')),
        recover: () => Promise.reject(new Error('unused')),
      },
      tripRate: null,
      history: {
        list: () => Promise.reject(new Error('unused')),
        get: () => Promise.reject(new Error('unused')),
      },
      readAfterMaxMs: 0,
    })
    const http = createServer(handler)
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const { port } = http.address() as AddressInfo
    expect((await rawGet(port, '/healthz')).status).toBe(200)
    shuttingDown = true
    const during = await rawGet(port, '/healthz')
    expect(during.status).toBe(503)
    expect(JSON.parse(during.body)).toMatchObject({ ok: false })
    await new Promise((resolve) => http.close(resolve))
  })

  it('GET /metrics is Prometheus text', async () => {
    const server = await startTestServer()
    const res = await fetch(`${server.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    for (const name of [
      'converge_connections',
      'converge_spaces_loaded',
      'converge_messages_in_total',
      'converge_bytes_in_total',
      'converge_messages_out_total',
      'converge_bytes_out_total',
      'converge_updates_committed_total',
      'converge_commit_seconds',
      'converge_compactions_total',
      'converge_rejections_total',
      'converge_auth_failures_total',
      'converge_process_cpu_user_seconds_total',
    ])
      expect(text).toContain(`# TYPE ${name} `)
  })

  it('serves the web app: content types, SPA fallback, no traversal', async () => {
    const server = await startTestServer({ webDist: webDist() })
    const get = (path: string) => rawGet(server.port, path)
    const index = await get('/')
    expect(index.status).toBe(200)
    expect(index.type).toBe('text/html; charset=utf-8')
    expect(index.body).toBe(INDEX)
    expect((await get('/assets/app-1234.js')).type).toBe('text/javascript; charset=utf-8')
    expect((await get('/assets/engine.wasm')).type).toBe('application/wasm')
    expect((await get('/manifest.webmanifest')).type).toBe('application/manifest+json; charset=utf-8')
    expect((await get('/style.css')).type).toBe('text/css; charset=utf-8')
    const cached = await fetch(`${server.url}/assets/app-1234.js`)
    expect(cached.headers.get('cache-control')).toContain('immutable')
    expect((await fetch(`${server.url}/`)).headers.get('cache-control')).toBe('no-cache')
    // SPA routing: an unknown route is the app shell; an unknown file is a 404
    const route = await get('/s/abc123/notes')
    expect(route.status).toBe(200)
    expect(route.body).toContain('<title>converge</title>')
    expect((await get('/assets/missing.js')).status).toBe(404)
    expect((await get('/api/unknown')).status).toBe(404)
    // HEAD
    const head = await fetch(`${server.url}/style.css`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe('6')
    // no directory traversal, however it is spelled
    for (const path of [
      '/../package.json',
      '/assets/../../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/assets/..%2f..%2fpackage.json',
      '/..%5cpackage.json',
      '/%00',
      '/..',
      '//etc/passwd',
    ]) {
      const res = await get(path)
      expect(res.body, path).not.toContain('"dependencies"')
      expect(res.body, path).not.toContain('root:')
      expect([200, 400, 404], path).toContain(res.status)
      if (res.status === 200) expect(res.body, path).toContain('<title>converge</title>')
    }
  })

  it('web app caching: immutable only for the hashed assets/, no-cache for the rest; nosniff on every answer', async () => {
    const server = await startTestServer({ webDist: webDist() })
    const get = (path: string, headers: Record<string, string> = {}) => rawGet(server.port, path, headers)
    const app = await get('/assets/app-1234.js')
    expect(app.status).toBe(200)
    expect(app.headers['cache-control']).toBe(IMMUTABLE)
    expect(IMMUTABLE).toBe('public, max-age=31536000, immutable')
    expect((await get('/assets/engine.wasm')).headers['cache-control']).toBe(IMMUTABLE)
    // the app shell, the service worker, the manifest, other files, client routes
    for (const path of [
      '/',
      '/index.html',
      '/sw.js',
      '/manifest.webmanifest',
      '/style.css',
      '/s/abc123',
      '/assets',
      '/assets/',
      '/assets/not-a-file',
    ]) {
      const res = await get(path)
      expect(res.status, path).toBe(200)
      expect(res.headers['cache-control'], path).toBe('no-cache')
      expect(res.headers['x-content-type-options'], path).toBe('nosniff')
    }
    expect(app.headers['x-content-type-options']).toBe('nosniff')
    const missing = await get('/assets/missing.js')
    expect(missing.status).toBe(404)
    expect(missing.headers['x-content-type-options']).toBe('nosniff')
    // a no-cache file revalidates: same build → 304, with nosniff too
    const index = await get('/')
    expect(index.headers.etag).toBeDefined()
    const again = await get('/', { 'if-none-match': index.headers.etag! })
    expect(again.status).toBe(304)
    expect(again.bytes.length).toBe(0)
    expect(again.headers['x-content-type-options']).toBe('nosniff')
  })

  it('web app content types, and the SPA fallback is the app shell', async () => {
    const server = await startTestServer({ webDist: webDist() })
    const get = (path: string) => rawGet(server.port, path)
    const types: Record<string, string> = {
      '/': 'text/html; charset=utf-8',
      '/index.html': 'text/html; charset=utf-8',
      '/assets/app-1234.js': 'text/javascript; charset=utf-8',
      '/sw.js': 'text/javascript; charset=utf-8',
      '/assets/engine.wasm': 'application/wasm',
      '/manifest.webmanifest': 'application/manifest+json; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/s/abc123/notes': 'text/html; charset=utf-8',
    }
    for (const [path, type] of Object.entries(types)) expect((await get(path)).type, path).toBe(type)
    for (const route of ['/s/abc123', '/s/abc123/', '/s/abc123/notes', '/join', '/%00', '/..']) {
      const res = await get(route)
      expect(res.status, route).toBe(200)
      expect(res.body, route).toBe(INDEX)
    }
    // a path that names a file is that file or a 404, never the app shell
    for (const path of ['/assets/missing.js', '/missing.css', '/s/abc123/x.png', '/icon.svg'])
      expect((await get(path)).status, path).toBe(404)
    // GET and HEAD only
    expect((await rawGet(server.port, '/', {}, 'POST')).status).toBe(405)
  })

  it('serves a precompressed .br / .gz sibling to a client that accepts it', async () => {
    const dir = webDist()
    writeFileSync(join(dir, 'assets', 'app-1234.js.br'), brotliCompressSync(APP_JS))
    writeFileSync(join(dir, 'assets', 'app-1234.js.gz'), gzipSync(APP_JS))
    writeFileSync(join(dir, 'index.html.br'), brotliCompressSync(INDEX))
    writeFileSync(join(dir, 'sw.js.br'), brotliCompressSync('self.skipWaiting()'))
    const server = await startTestServer({ webDist: dir })
    const get = (path: string, encodings?: string) =>
      rawGet(server.port, path, encodings === undefined ? {} : { 'accept-encoding': encodings })

    const br = await get('/assets/app-1234.js', 'gzip, deflate, br')
    expect(br.status).toBe(200)
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toMatch(/accept-encoding/i)
    expect(br.type).toBe('text/javascript; charset=utf-8')
    expect(br.headers['cache-control']).toBe(IMMUTABLE)
    expect(br.headers['x-content-type-options']).toBe('nosniff')
    expect(Number(br.headers['content-length'])).toBe(br.bytes.length)
    expect(brotliDecompressSync(br.bytes).toString()).toBe(APP_JS)

    const gz = await get('/assets/app-1234.js', 'gzip')
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.bytes).toString()).toBe(APP_JS)

    for (const identity of [undefined, 'identity']) {
      const plain = await get('/assets/app-1234.js', identity)
      expect(plain.headers['content-encoding']).toBeUndefined()
      expect(plain.body).toBe(APP_JS)
    }

    // the app shell, as itself and as the SPA fallback
    for (const path of ['/', '/s/abc123']) {
      const shell = await get(path, 'br')
      expect(shell.headers['content-encoding'], path).toBe('br')
      expect(shell.type, path).toBe('text/html; charset=utf-8')
      expect(shell.headers['cache-control'], path).toBe('no-cache')
      expect(brotliDecompressSync(shell.bytes).toString(), path).toBe(INDEX)
    }
    // the service worker: compressed too, and revalidated on every load (a new build takes over)
    const sw = await get('/sw.js', 'gzip, br')
    expect(sw.headers['content-encoding']).toBe('br')
    expect(sw.headers.vary).toMatch(/accept-encoding/i)
    expect(sw.headers['cache-control']).toBe('no-cache')
    expect(brotliDecompressSync(sw.bytes).toString()).toBe('self.skipWaiting()')
    // no sibling: sent as it is
    const css = await get('/style.css', 'br, gzip')
    expect(css.headers['content-encoding']).toBeUndefined()
    expect(css.body).toBe('body{}')
  })

  it('a new build in the same folder is served without a restart', async () => {
    const dir = webDist()
    const server = await startTestServer({ webDist: dir })
    expect((await rawGet(server.port, '/')).body).toBe(INDEX)
    // what a new Vite build does: new hashed names, a new index.html pointing at them
    rmSync(join(dir, 'assets', 'app-1234.js'))
    writeFileSync(join(dir, 'assets', 'app-5678.js'), 'console.log(2)')
    const next = '<!doctype html><title>converge, next build</title><script src="/assets/app-5678.js">'
    writeFileSync(join(dir, 'index.html'), next)
    const shell = await rawGet(server.port, '/s/abc123')
    expect(shell.body).toBe(next)
    expect(Number(shell.headers['content-length'])).toBe(Buffer.byteLength(next))
    expect((await rawGet(server.port, '/assets/app-5678.js')).body).toBe('console.log(2)')
    expect((await rawGet(server.port, '/assets/app-1234.js')).status).toBe(404)
  })

  it('a file removed under the server ends that response, not the server', async () => {
    const dir = webDist()
    const server = await startTestServer({ webDist: dir })
    expect((await rawGet(server.port, '/assets/engine.wasm')).status).toBe(200)
    // removed inside assets/ only: the folder and index.html are unchanged, so the table still lists it
    rmSync(join(dir, 'assets', 'engine.wasm'))
    await expect(rawGet(server.port, '/assets/engine.wasm')).rejects.toThrow()
    expect((await rawGet(server.port, '/healthz')).status).toBe(200)
    expect((await rawGet(server.port, '/assets/app-1234.js')).body).toBe(APP_JS)
  })

  it('without a built web app, / is a 404 that says so', async () => {
    const server = await startTestServer()
    const res = await fetch(`${server.url}/`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: string }).error).toMatch(/not built/)
  })

  it('generates the secret once, mode 0600, and reuses it', () => {
    const dir = tempDir()
    const first = loadOrCreateSecret(dir)
    expect(first.length).toBeGreaterThanOrEqual(32)
    expect(statSync(join(dir, 'secret')).mode & 0o777).toBe(0o600)
    expect(loadOrCreateSecret(dir)).toBe(first)
    expect(loadOrCreateSecret(tempDir())).not.toBe(first)
  })
})
