import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Registry } from 'prom-client'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SPACE_ID } from '@converge/server-core'
import { loadOrCreateSecret } from '../src/auth.js'
import { MAX_API_BODY_BYTES, createRequestHandler } from '../src/http.js'
import { createLogger } from '../src/log.js'
import { RawClient, cleanup, connectSynced, createSpace, startTestServer, tempDir, until } from './helpers.js'

afterEach(cleanup)

/** A GET with the path sent exactly as given (fetch would normalise "/../"). */
function rawGet(
  port: number,
  path: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }))
    })
    req.on('error', reject)
    req.end()
  })
}

function webDist(): string {
  const dir = join(tempDir(), 'dist')
  mkdirSync(join(dir, 'assets'), { recursive: true })
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>converge</title>')
  writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)')
  writeFileSync(join(dir, 'assets', 'engine.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]))
  writeFileSync(join(dir, 'manifest.webmanifest'), '{"name":"Converge"}')
  writeFileSync(join(dir, 'style.css'), 'body{}')
  return dir
}

describe('HTTP', () => {
  it('POST /api/spaces returns an id and tokens that work', async () => {
    const server = await startTestServer()
    const res = await fetch(`${server.url}/api/spaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:5173' },
      body: JSON.stringify({ name: 'Flat 3' }),
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
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

  it('POST /api/spaces: bad JSON or body → 400, too large → 413, wrong method → 405, preflight → 204', async () => {
    const server = await startTestServer()
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
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
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
      registry: new Registry(),
      webDist: tempDir(),
      isShuttingDown: () => shuttingDown,
      log: createLogger('silent'),
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
    expect(index.body).toContain('<title>converge</title>')
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
