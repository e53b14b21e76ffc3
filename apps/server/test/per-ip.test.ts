/**
 * The limits per client address: space creation (rate, admin token), open sockets, and the write
 * budget shared by an address's sockets. Every test client comes from 127.0.0.1, so the servers run
 * with TRUST_PROXY=1 and the clients say which address they are with X-Forwarded-For, as nginx would.
 */
import type { IncomingMessage } from 'node:http'
import { CloseCode, ErrorKind, PROTOCOL_VERSION, encodeMessage } from '@converge/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { addressKey, clientAddress } from '../src/address.js'
import {
  RawClient,
  type TestServer,
  cleanup,
  connectSynced,
  createSpace,
  fetchDoc,
  freePort,
  spawnServer,
  startTestServer,
  tempDir,
  until,
} from './helpers.js'

afterEach(cleanup)

const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip })

const metric = async (url: string, sample: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

const logLines = (server: TestServer, msg: string): Record<string, unknown>[] =>
  server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg)

const post = (server: { url: string }, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/spaces`, { method: 'POST', headers })

describe('the client address', () => {
  it('is the TCP peer unless TRUST_PROXY says how many proxies wrote X-Forwarded-For; IPv6 by /64', () => {
    const req = (peer: string, xff?: string) =>
      ({
        socket: { remoteAddress: peer },
        headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      }) as unknown as IncomingMessage
    expect(clientAddress(req('127.0.0.1', '10.0.0.1'), 0)).toBe('127.0.0.1') // not believed
    expect(clientAddress(req('127.0.0.1', '10.0.0.1'), 1)).toBe('10.0.0.1')
    // what the client wrote itself is left of what the proxy appended
    expect(clientAddress(req('127.0.0.1', '6.6.6.6, 10.0.0.1'), 1)).toBe('10.0.0.1')
    expect(clientAddress(req('127.0.0.1', '6.6.6.6, 10.0.0.1, 10.9.9.9'), 2)).toBe('10.0.0.1')
    expect(clientAddress(req('127.0.0.1', 'garbage'), 1)).toBe('127.0.0.1')
    expect(clientAddress(req('127.0.0.1'), 1)).toBe('127.0.0.1')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(addressKey('[2001:db8::1]')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
  })
})

describe('space creation per client address', () => {
  it('past SPACES_BURST_PER_IP at once, POST /api/spaces is 429 with Retry-After and a JSON error; other addresses are unaffected', async () => {
    const server = await startTestServer({ trustProxy: 1, perIp: { spacesPerMinute: 60, spacesBurst: 3 } })
    for (let i = 0; i < 3; i++) expect((await post(server, from('10.0.0.1'))).status).toBe(201)
    const refused = await post(server, from('10.0.0.1'))
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter)).toBe(true)
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(1) // 60 a minute: one more a second
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await refused.json()) as { error: string; retryAfterSeconds: number }
    expect(body.error).toMatch(/too many spaces/)
    expect(body.retryAfterSeconds).toBe(retryAfter)
    // a body is refused before it is read, and so is anything sent with it
    expect(
      (await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: from('10.0.0.1'), body: '{}' }))
        .status,
    ).toBe(429)
    // another address has its own bucket
    expect((await post(server, from('10.0.0.2'))).status).toBe(201)
    // after Retry-After, one more
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50))
    expect((await post(server, from('10.0.0.1'))).status).toBe(201)
    expect((await post(server, from('10.0.0.1'))).status).toBe(429)

    expect(await metric(server.url, 'converge_limit_refusals_total{limit="spaces_per_ip"}')).toBe(3)
    const lines = logLines(server, 'space creation refused: too many from this address')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatchObject({ level: 'warn', ip: '10.0.0.1', retryAfter: 1 })
  })

  it('without TRUST_PROXY, X-Forwarded-For is not believed: a forged one buys no new bucket', async () => {
    const server = await startTestServer({ perIp: { spacesBurst: 2 } })
    expect((await post(server, from('10.0.0.1'))).status).toBe(201)
    expect((await post(server, from('10.0.0.2'))).status).toBe(201)
    const third = await post(server, from('10.0.0.3'))
    expect(third.status).toBe(429)
    // the default rate: 10 a minute, one every 6 s
    expect(Number(third.headers.get('retry-after'))).toBe(6)
    expect(logLines(server, 'space creation refused: too many from this address')[0]).toMatchObject({
      ip: '127.0.0.1',
    })
  })

  it('a real server process with the defaults: the 11th space within a minute is refused', async () => {
    const server = await spawnServer(tempDir(), await freePort())
    for (let i = 0; i < 10; i++) expect((await post(server)).status, `space ${i + 1}`).toBe(201)
    const refused = await post(server)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(5)
    await until(
      () => server.stdout.some((l) => l.includes('space creation refused: too many from this address')),
      'the refusal log line',
    )
  })

  it('CREATE_SPACES=token: only Authorization: Bearer <ADMIN_TOKEN> creates a space (401 otherwise), and it is not rate-limited', async () => {
    const adminToken = 'admin-token-0123456789abcdefghijklmnopqrstuvwxyz'
    const server = await startTestServer({
      createSpaces: 'token',
      adminToken,
      trustProxy: 1,
      perIp: { spacesBurst: 3 },
    })
    const none = await post(server, from('10.0.0.1'))
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(((await none.json()) as { error: string }).error).toMatch(/admin token/)
    expect((await post(server, { ...from('10.0.0.1'), authorization: `Bearer ${adminToken}x` })).status).toBe(
      401,
    )
    expect((await post(server, { ...from('10.0.0.1'), authorization: 'Basic abc' })).status).toBe(401)
    // three wrong guesses spent the address's bucket: guessing is as slow as creating
    expect((await post(server, { ...from('10.0.0.1'), authorization: 'Bearer guess' })).status).toBe(429)
    // the admin creates as many as it likes, from any address
    for (let i = 0; i < 5; i++) {
      const space = await createSpace(server, { ...from('10.0.0.1'), authorization: `Bearer ${adminToken}` })
      expect(space.writeToken).toBeTruthy()
    }
    expect(await metric(server.url, 'converge_limit_refusals_total{limit="admin_token"}')).toBe(3)
    expect(await metric(server.url, 'converge_limit_refusals_total{limit="spaces_per_ip"}')).toBe(1)
    expect(logLines(server, 'space creation refused: no valid admin token')).toHaveLength(3)
    // the admin token is never logged
    expect(server.logs.join('')).not.toContain(adminToken)
  })

  it('CREATE_SPACES=token in a real process', async () => {
    const adminToken = 'x'.repeat(32)
    const server = await spawnServer(tempDir(), await freePort(), {
      CREATE_SPACES: 'token',
      ADMIN_TOKEN: adminToken,
    })
    expect((await post(server)).status).toBe(401)
    expect((await post(server, { authorization: `Bearer ${adminToken}` })).status).toBe(201)
  })
})

describe('connections per client address', () => {
  it('[P5.5] past MAX_CONNECTIONS_PER_IP the next socket of that address is closed with 1013; other addresses connect', async () => {
    const server = await startTestServer({ trustProxy: 1, perIp: { connections: 3 } })
    const space = await createSpace(server)
    const open = () => RawClient.open(server, space.id, space.writeToken, from('10.0.0.1'))
    const first = await Promise.all([open(), open(), open()])
    const refused = await open()
    expect((await refused.waitClosed()).code).toBe(CloseCode.TryAgainLater)
    expect(refused.frames).toEqual([]) // nothing of the space
    const other = await RawClient.open(server, space.id, space.writeToken, from('10.0.0.2'))
    await other.waitFor('sync-step1')
    for (const c of first) await c.waitFor('sync-step1')
    // one leaves: one more may come
    first[0].ws.close()
    await first[0].waitClosed()
    const again = await open()
    await again.waitFor('sync-step1')
    expect((await (await open()).waitClosed()).code).toBe(CloseCode.TryAgainLater)

    expect(await metric(server.url, 'converge_limit_refusals_total{limit="connections_per_ip"}')).toBe(2)
    expect(await metric(server.url, 'converge_rejections_total{reason="ServerFull"}')).toBe(2)
    const lines = logLines(server, 'connection refused: too many from this address')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({ level: 'warn', ip: '10.0.0.1', code: 1013, open: 3 })
  })
})

describe('the write budget per client address', () => {
  it('[P5.5] [P5.6] several sockets of one address pushing large valid updates are cut off with 4429 (after an error, if they said hello); a client of another address keeps syncing', async () => {
    const BUDGET = 100_000 // bytes a second
    const BURST = 300_000
    const server = await startTestServer({
      trustProxy: 1,
      limits: { maxFrameBytes: 64 * 1024 },
      perIp: { bytesPerSecond: BUDGET, burstBytes: BURST },
    })
    const space = await createSpace(server)
    const honest = await connectSynced(server, space.id, space.writeToken, from('10.0.0.2'))
    const watcher = await connectSynced(server, space.id, space.writeToken, from('10.0.0.3'))
    honest.text.insert(0, 'honest')
    await until(() => watcher.text.toJSON() === 'honest', 'the watcher to see the honest edit')

    // four sockets of 10.0.0.1, each with a document of its own, each update ~40 KB and valid
    const attackers = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const c = await RawClient.open(server, space.id, space.writeToken, from('10.0.0.1'))
        if (i < 3) c.send({ type: 'hello', version: PROTOCOL_VERSION }) // the fourth is a stock client
        await c.waitFor('sync-step1')
        return c
      }),
    )
    const started = Date.now()
    let sent = 0
    const pushes = attackers.map(async (c) => {
      const doc = new Y.Doc()
      const text = doc.getText('body:n1')
      for (let round = 0; round < 40 && c.ws.readyState === c.ws.OPEN; round++) {
        const before = Y.encodeStateVector(doc)
        text.insert(text.length, 'z'.repeat(40_000))
        const frame = encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
        c.send(frame)
        sent += frame.length
        await new Promise((r) => setTimeout(r, 5))
      }
    })
    await Promise.all(pushes)
    for (const [i, c] of attackers.entries()) {
      const closed = await c.waitClosed()
      expect(closed.code, `attacker ${i}`).toBe(CloseCode.RateLimited)
      const errors = c.messages.filter((m) => m.type === 'error')
      if (i < 3) {
        expect(errors, `attacker ${i}`).toEqual([
          { type: 'error', kind: ErrorKind.RateLimited, message: expect.any(String) },
        ])
        expect(c.events.at(-1)).toEqual({ kind: 'close', code: CloseCode.RateLimited })
      } else expect(errors).toEqual([])
    }
    const elapsed = (Date.now() - started) / 1000
    expect(sent).toBeGreaterThan(BURST + BUDGET * elapsed) // they tried to send more than the budget…

    // …while the honest client of another address kept its socket and keeps syncing
    expect(honest.provider.wsconnected).toBe(true)
    honest.text.insert(0, '+')
    await until(
      () => watcher.text.toJSON().startsWith('+') && watcher.text.toJSON() === honest.text.toJSON(),
      'the watcher to see the honest edit',
    )
    await server.core.flushAll()
    const stored = await fetchDoc(server, space.id, space.writeToken)
    const storedText = stored.getText('body:n1').toJSON()
    expect(storedText).toBe(honest.text.toJSON())
    expect(storedText).toContain('honest')
    // what the address got in is bounded by its burst plus its rate over the time it pushed
    expect(storedText.length).toBeLessThanOrEqual(BURST + BUDGET * (elapsed + 1))

    expect(await metric(server.url, 'converge_limit_refusals_total{limit="bytes_per_ip"}')).toBe(4)
    expect(await metric(server.url, 'converge_rejections_total{reason="RateLimited"}')).toBe(4)
    const lines = logLines(server, 'closing connection: its address spent its write budget')
    expect(lines).toHaveLength(4)
    for (const l of lines) expect(l).toMatchObject({ level: 'warn', ip: '10.0.0.1', code: 4429 })
    // a socket that reconnects at once is still over budget: it buys no fresh burst
    const back = await RawClient.open(server, space.id, space.writeToken, from('10.0.0.1'))
    await back.waitFor('sync-step1')
    const doc = new Y.Doc()
    doc.getText('body:n1').insert(0, 'y'.repeat(60_000))
    back.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
    expect((await back.waitClosed()).code).toBe(CloseCode.RateLimited)
  })

  it('an honest client far below the budget is never cut off (defaults)', async () => {
    const server = await startTestServer({ trustProxy: 1 })
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken, from('10.0.0.1'))
    const b = await connectSynced(server, space.id, space.writeToken, from('10.0.0.1'))
    for (let i = 0; i < 200; i++) a.text.insert(a.text.length, `line ${i}\n`)
    await until(() => b.text.length === a.text.length, 'b to see every line')
    expect(a.provider.wsconnected && b.provider.wsconnected).toBe(true)
    expect(await metric(server.url, 'converge_limit_refusals_total{limit="bytes_per_ip"}')).toBe(0)
  })
})
