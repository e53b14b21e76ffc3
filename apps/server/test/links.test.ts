/**
 * Resetting a space's share links on the real server (PROTOCOL.md §P5.10; server-core REVOKE-1…5):
 * `POST /api/spaces/<id>/links/reset` with a write token, raw `ws` clients and stock y-websocket
 * ones. Every wait is for a condition (a close, a message, a metric), never a sleep.
 */
import { CloseCode, ErrorKind, PROTOCOL_VERSION } from '@converge/protocol'
import { StorageError } from '@converge/server-core'
import { SqlitePersistence } from '@converge/persistence-sqlite'
import { decodeJwt } from 'jose'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  RawClient,
  TEXT,
  cleanup,
  connectClient,
  connectSynced,
  createSpace,
  fetchDoc,
  serverCloses,
  sign,
  startTestServer,
  tempDir,
  until,
} from './helpers.js'

afterEach(cleanup)

interface Reset {
  readonly status: number
  readonly headers: Headers
  readonly body: { writeToken?: string; readToken?: string; error?: string; retryAfterSeconds?: number }
}

async function reset(
  server: { url: string },
  spaceId: string,
  token: string | null,
  init: RequestInit = {},
): Promise<Reset> {
  const res = await fetch(`${server.url}/api/spaces/${spaceId}/links/reset`, {
    method: 'POST',
    ...init,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reset['body'] }
}

/** A raw client that said hello and is synced (it has the server's sync-step2). */
async function openRaw(server: { wsUrl: string }, spaceId: string, token: string): Promise<RawClient> {
  const c = await RawClient.open(server, spaceId, token)
  c.send({ type: 'hello', version: PROTOCOL_VERSION })
  c.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
  await c.waitFor('sync-step2')
  return c
}

const metric = async (server: { url: string }, name: string): Promise<number> => {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('resetting share links', () => {
  it('[P5.10] a reset closes the old links’ open sockets with 4410, refuses them on connect, and the new links work', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    expect(decodeJwt(space.writeToken)).toMatchObject({ sub: space.id, scope: 'write', gen: 0 })
    const writer = await connectSynced(server, space.id, space.writeToken)
    writer.text.insert(0, 'milk, eggs')
    await server.core.flushAll()
    const bob = await openRaw(server, space.id, space.writeToken)
    const reader = connectClient(server, space.id, space.readToken) // a stock y-websocket client
    const readerCloses = serverCloses(reader)
    await until(() => reader.provider.synced, 'the stock reader synced')

    const r = await reset(server, space.id, space.writeToken)
    expect(r.status).toBe(200)
    expect(r.headers.get('cache-control')).toBe('no-store')
    const { writeToken, readToken } = r.body
    expect(decodeJwt(writeToken!)).toMatchObject({ sub: space.id, scope: 'write', gen: 1 })
    expect(decodeJwt(readToken!)).toMatchObject({ sub: space.id, scope: 'read', gen: 1 })
    expect(decodeJwt(writeToken!).exp).toBeUndefined()

    // Bob's open socket: told the kind, then closed with 4410
    const closed = await bob.waitClosed()
    expect(closed.code).toBe(CloseCode.LinkRevoked)
    const error = bob.messages.find((m) => m.type === 'error')
    expect(error).toMatchObject({ type: 'error', kind: ErrorKind.LinkRevoked })
    await until(() => readerCloses.includes(CloseCode.LinkRevoked), 'the stock reader closed with 4410')

    // the old links are refused on connect, before any document data
    for (const old of [space.writeToken, space.readToken]) {
      const again = await RawClient.open(server, space.id, old)
      again.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
      await again.waitClosed()
      expect(again.events).toEqual([{ kind: 'close', code: CloseCode.LinkRevoked }])
    }
    // a reset with the old write token is refused too
    expect((await reset(server, space.id, space.writeToken)).status).toBe(401)

    // the new links work: the write link writes, the read link reads what was there
    const fresh = await connectSynced(server, space.id, writeToken!)
    expect(fresh.text.toJSON()).toBe('milk, eggs')
    fresh.text.insert(fresh.text.length, ', bread')
    await server.core.flushAll()
    expect((await fetchDoc(server, space.id, readToken!)).getText(TEXT).toJSON()).toBe('milk, eggs, bread')

    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/^converge_link_resets_total 1$/m)
    expect(metrics).toMatch(/^converge_link_reset_closes_total [1-9]/m)
    expect(metrics).toMatch(/converge_auth_failures_total\{reason="LinkRevoked"\} [1-9]/)
    const lines = server.logs.filter((l) => l.includes('"share links reset"'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ spaceId: space.id, generation: 1 })
    const all = server.logs.join('')
    for (const t of [space.writeToken, space.readToken, writeToken!, readToken!]) expect(all).not.toContain(t)
  })

  it('[P5.10] only a write token of the current generation resets: read-only 403, another space 403, none or forged 401; nothing changes', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const other = await createSpace(server)
    const open = await openRaw(server, space.id, space.writeToken)

    const readOnly = await reset(server, space.id, space.readToken)
    expect(readOnly.status).toBe(403)
    expect(readOnly.body.error).toMatch(/read-only/)
    expect((await reset(server, space.id, other.writeToken)).status).toBe(403)
    const none = await reset(server, space.id, null)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await reset(server, space.id, 'not.a.jwt')).status).toBe(401)
    const forged = await sign(space.id, 'write', { secret: 'not-the-server-secret-0123456789abcdef' })
    expect((await reset(server, space.id, forged)).status).toBe(401)
    const expired = await sign(space.id, 'write', { expiresAt: Date.now() - 1000 })
    expect((await reset(server, space.id, expired)).status).toBe(401)
    const get = await fetch(`${server.url}/api/spaces/${space.id}/links/reset`)
    expect(get.status).toBe(405)

    // nothing was reset: the socket is open, the links still work, no generation moved
    expect(open.closeInfo).toBeNull()
    await connectSynced(server, space.id, space.readToken)
    expect(await metric(server, 'converge_link_resets_total')).toBe(0)
    const ok = await reset(server, space.id, space.writeToken)
    expect(decodeJwt(ok.body.writeToken!).gen).toBe(1)
    // and a second reset needs the newest write token
    const second = await reset(server, space.id, ok.body.writeToken!)
    expect(second.status).toBe(200)
    expect(decodeJwt(second.body.writeToken!).gen).toBe(2)
    expect((await reset(server, space.id, ok.body.writeToken!)).status).toBe(401)
  })

  it('[P5.10] resets are rate-limited per address like space creation: 429 with Retry-After', async () => {
    const server = await startTestServer({ perIp: { spacesPerMinute: 1, spacesBurst: 2 } })
    const space = await createSpace(server)
    let token = space.writeToken
    for (let i = 0; i < 2; i++) {
      const r = await reset(server, space.id, token)
      expect(r.status).toBe(200)
      token = r.body.writeToken!
    }
    const refused = await reset(server, space.id, token)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refused.body.retryAfterSeconds).toBeGreaterThan(0)
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/converge_limit_refusals_total\{limit="resets_per_ip"\} 1/)
    // resets have a bucket of their own: creating a space still works
    await createSpace(server)
  })

  it('[P5.10] with AUTH=off links cannot be reset (409): nobody’s link is checked', async () => {
    const server = await startTestServer({ auth: false })
    const space = await createSpace(server)
    const r = await reset(server, space.id, space.writeToken)
    expect(r.status).toBe(409)
    expect(r.body.error).toMatch(/AUTH=off/)
  })
})

describe('expiring links', () => {
  it('[REVOKE-4] an open socket whose token reaches its exp is closed with 4401, told it expired', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    // exp holds whole seconds: 1–2 s from now
    const exp = Math.floor((Date.now() + 2000) / 1000) * 1000
    const c = await openRaw(server, space.id, await sign(space.id, 'write', { expiresAt: exp }))
    const closed = await c.waitClosed(10_000)
    expect(Date.now()).toBeGreaterThanOrEqual(exp - 50) // not before (a little clock rounding aside)
    expect(closed.code).toBe(CloseCode.Unauthorized)
    expect(c.messages.find((m) => m.type === 'error')).toEqual({
      type: 'error',
      kind: ErrorKind.Unauthorized,
      message: 'this link has expired',
    })
    // a token without exp, opened at the same time, is still open
    const forever = await openRaw(server, space.id, space.writeToken)
    expect(forever.closeInfo).toBeNull()
  })
})

/** SQLite whose link generation reads fail while `failing` is set. */
class FlakyGenerations extends SqlitePersistence {
  failing = false
  override linkGeneration(id: string): Promise<number> {
    return this.failing ? Promise.reject(new StorageError('database unreachable')) : super.linkGeneration(id)
  }
  override bumpLinkGeneration(id: string): Promise<number> {
    return this.failing
      ? Promise.reject(new StorageError('database unreachable'))
      : super.bumpLinkGeneration(id)
  }
}

describe('link generations and storage', () => {
  it('[REVOKE-5] while the link generation cannot be read, sockets close with 4503 (retried) and a reset answers 503', async () => {
    const dir = tempDir()
    const storage = new FlakyGenerations({ file: join(dir, 'converge.sqlite') })
    const server = await startTestServer({ dataDir: dir }, { persistence: storage })
    const space = await createSpace(server)
    storage.failing = true
    const c = await RawClient.open(server, space.id, space.writeToken)
    await c.waitClosed()
    expect(c.events).toEqual([{ kind: 'close', code: CloseCode.StorageUnavailable }])
    const r = await reset(server, space.id, space.writeToken)
    expect(r.status).toBe(503)
    storage.failing = false
    await openRaw(server, space.id, space.writeToken) // back: the same link works
  })
})
