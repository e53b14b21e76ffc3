/**
 * What browsers are told and allowed: which `Origin`s may call the API or open a WebSocket (the
 * server's own, plus ALLOWED_ORIGINS; never `*`), and the security headers on every response.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { type IncomingHttpHeaders, request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_CSP } from '../src/security.js'
import {
  RawClient,
  type TestServer,
  cleanup,
  connectSynced,
  createSpace,
  startTestServer,
  tempDir,
} from './helpers.js'

afterEach(cleanup)

/** A request with exactly these headers (fetch would not let us set Host or Origin freely). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const metric = async (url: string, sample: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

const refusals = (server: TestServer, msg: string) =>
  server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg)

/** The upgrade's HTTP status, or 101. */
async function upgradeStatus(
  server: TestServer,
  spaceId: string,
  token: string,
  headers: Record<string, string>,
) {
  const c = new RawClient(`${server.wsUrl}/${spaceId}?token=${token}`, headers)
  try {
    await c.opened
    await c.waitFor('sync-step1')
    c.ws.close()
    return 101
  } catch (e) {
    return Number(/HTTP (\d+)/.exec((e as Error).message)?.[1])
  }
}

describe('origins', () => {
  it("the API: no Origin and the server's own origin are allowed; any other origin is 403 unless in ALLOWED_ORIGINS; never Access-Control-Allow-Origin: *", async () => {
    const server = await startTestServer({ allowedOrigins: ['https://app.example'] })
    const own = `http://127.0.0.1:${server.port}`
    const spaces = (headers: Record<string, string>) =>
      send(server.port, 'POST', '/api/spaces', headers, '{}')

    const none = await spaces({}) // curl, a server
    expect(none.status).toBe(201)
    expect(none.headers['access-control-allow-origin']).toBeUndefined()

    const same = await spaces({ origin: own })
    expect(same.status).toBe(201)
    expect(same.headers['access-control-allow-origin']).toBe(own)
    expect(same.headers.vary).toMatch(/Origin/)

    const extra = await spaces({ origin: 'https://app.example' })
    expect(extra.status).toBe(201)
    expect(extra.headers['access-control-allow-origin']).toBe('https://app.example')

    for (const origin of [
      'https://evil.example',
      'http://127.0.0.1:1', // same host, another port: another origin
      'http://app.example', // the allowed one over another scheme
      'null', // sandboxed frames, file:
    ]) {
      const res = await spaces({ origin })
      expect(res.status, origin).toBe(403)
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined()
      expect(JSON.parse(res.body), origin).toEqual({ error: 'requests from this origin are not allowed' })
    }
    const preflight = await send(server.port, 'OPTIONS', '/api/spaces', {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    })
    expect(preflight.status).toBe(403)
    const allowedPreflight = await send(server.port, 'OPTIONS', '/api/spaces', {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
    })
    expect(allowedPreflight.status).toBe(204)
    expect(allowedPreflight.headers['access-control-allow-origin']).toBe('https://app.example')

    // behind a proxy that keeps the Host (nginx `proxy_set_header Host $http_host`), the public origin is the own one
    const proxied = await spaces({ host: 'converge.example', origin: 'https://converge.example' })
    expect(proxied.status).toBe(201)
    expect(
      (await spaces({ host: 'converge.example:8800', origin: 'http://converge.example:8800' })).status,
    ).toBe(201)
    expect((await spaces({ host: 'converge.example:8800', origin: 'http://converge.example' })).status).toBe(
      403,
    )

    expect(await metric(server.url, 'converge_limit_refusals_total{limit="origin"}')).toBe(6)
    const lines = refusals(server, 'request refused: origin not allowed')
    expect(lines).toHaveLength(6)
    expect(lines[0]).toMatchObject({ level: 'warn', origin: 'https://evil.example', ip: '127.0.0.1' })
  })

  it('[P5.8] the WebSocket upgrade: no Origin and allowed origins open; any other Origin is refused with HTTP 403', async () => {
    const server = await startTestServer({ allowedOrigins: ['https://app.example'] })
    const space = await createSpace(server)
    const own = `http://127.0.0.1:${server.port}`
    const status = (headers: Record<string, string>) =>
      upgradeStatus(server, space.id, space.writeToken, headers)
    expect(await status({})).toBe(101) // y-websocket's Node client, other servers
    expect(await status({ origin: own })).toBe(101)
    expect(await status({ origin: 'https://app.example' })).toBe(101)
    expect(await status({ origin: 'https://evil.example' })).toBe(403)
    expect(await status({ origin: 'null' })).toBe(403)
    // a stock client from an allowed page syncs
    const c = await connectSynced(server, space.id, space.writeToken, { origin: own })
    expect(c.provider.wsconnected).toBe(true)

    expect(await metric(server.url, 'converge_limit_refusals_total{limit="origin"}')).toBe(2)
    const lines = refusals(server, 'upgrade refused: origin not allowed')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({ level: 'warn', origin: 'https://evil.example', spaceId: space.id })
    expect(JSON.stringify(lines)).not.toContain(space.writeToken)
  })
})

describe('security headers', () => {
  const expectHeaders = (headers: IncomingHttpHeaders, what: string, csp = DEFAULT_CSP) => {
    expect(headers['content-security-policy'], what).toBe(csp)
    expect(headers['referrer-policy'], what).toBe('no-referrer')
    expect(headers['x-content-type-options'], what).toBe('nosniff')
    expect(headers['cross-origin-opener-policy'], what).toBe('same-origin')
    expect(headers['access-control-allow-origin'], what).not.toBe('*')
  }

  it('are on every response: files, the app shell, 304, 404, API answers and errors, health, metrics, refused upgrades', async () => {
    expect(DEFAULT_CSP).toContain("frame-ancestors 'none'")
    expect(DEFAULT_CSP).toContain("default-src 'self'")
    expect(DEFAULT_CSP).not.toMatch(/\*|https?:/) // no wildcard, no other host
    const dist = join(tempDir(), 'dist')
    mkdirSync(join(dist, 'assets'), { recursive: true })
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>converge</title>')
    writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)')
    // two: the 400 below spends one (every attempt counts), the 201 the other
    const server = await startTestServer({ webDist: dist, perIp: { spacesBurst: 2 } })
    const p = server.port
    const index = await send(p, 'GET', '/')
    const cases: [string, Promise<{ status: number; headers: IncomingHttpHeaders }>, number][] = [
      ['/', Promise.resolve(index), 200],
      ['/s/abc (SPA)', send(p, 'GET', '/s/abc'), 200],
      ['/assets/app-1.js', send(p, 'GET', '/assets/app-1.js'), 200],
      ['304', send(p, 'GET', '/', { 'if-none-match': String(index.headers.etag) }), 304],
      ['404 file', send(p, 'GET', '/missing.js'), 404],
      ['405', send(p, 'POST', '/'), 405],
      ['/healthz', send(p, 'GET', '/healthz'), 200],
      ['/metrics', send(p, 'GET', '/metrics'), 200],
      ['OPTIONS', send(p, 'OPTIONS', '/api/spaces'), 204],
      ['400', send(p, 'POST', '/api/spaces', {}, '{nope'), 400],
      ['403', send(p, 'POST', '/api/spaces', { origin: 'https://evil.example' }), 403],
      ['404 api', send(p, 'GET', '/api/nothing'), 404],
    ]
    for (const [what, res, status] of cases) {
      const r = await res
      expect(r.status, what).toBe(status)
      expectHeaders(r.headers, what)
    }
    const created = await send(p, 'POST', '/api/spaces')
    expect(created.status).toBe(201)
    expectHeaders(created.headers, '201')
    const limited = await send(p, 'POST', '/api/spaces')
    expect(limited.status).toBe(429)
    expectHeaders(limited.headers, '429')
    // a refused upgrade is an HTTP response too
    const upgrade = await send(p, 'GET', '/other', {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    })
    expect(upgrade.status).toBe(404)
    expectHeaders(upgrade.headers, 'refused upgrade')
  })

  it('CONTENT_SECURITY_POLICY replaces the policy', async () => {
    const csp = "default-src 'self'; report-uri /csp; frame-ancestors 'none'"
    const server = await startTestServer({ contentSecurityPolicy: csp })
    const res = await send(server.port, 'GET', '/healthz')
    expectHeaders(res.headers, 'custom', csp)
  })
})
