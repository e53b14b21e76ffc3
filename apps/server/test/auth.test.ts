import { CloseCode, ErrorKind } from '@converge/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createAuth } from '../src/auth.js'
import { createLogger } from '../src/log.js'
import {
  RawClient,
  SECRET,
  cleanup,
  connectSynced,
  createSpace,
  fetchDoc,
  sign,
  startTestServer,
  until,
} from './helpers.js'

afterEach(cleanup)

/** A raw client that offers its update at once, as a stock client would, and waits for the verdict. */
async function refusedWith(
  server: { wsUrl: string },
  spaceId: string,
  token: string | null,
): Promise<RawClient> {
  const c = await RawClient.open(server, spaceId, token)
  const doc = new Y.Doc()
  doc.getMap('notes').set('x\u001fupdatedAt', 1)
  c.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(doc) })
  c.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
  await c.waitClosed()
  return c
}

describe('authentication', () => {
  it('unit: tokens decide access; AUTH=off allows everything and says so loudly', async () => {
    const lines: string[] = []
    const log = createLogger('info', { write: (s: string) => void lines.push(s) })
    const auth = createAuth({ secret: SECRET, enabled: true, logger: log })
    const { writeToken, readToken } = await auth.issueTokens('space1')
    expect(await auth.authenticate('space1', writeToken)).toEqual({
      ok: true,
      access: 'write',
      generation: 0,
    })
    expect(await auth.authenticate('space1', readToken)).toEqual({ ok: true, access: 'read', generation: 0 })
    expect(await auth.authenticate('space2', writeToken)).toMatchObject({ ok: false, kind: 'Forbidden' })
    expect(await auth.authenticate('space1', null)).toMatchObject({ ok: false, kind: 'Unauthorized' })
    expect(await auth.authenticate('space1', 'not.a.jwt')).toMatchObject({ ok: false, kind: 'Unauthorized' })
    expect(await auth.authenticate('space1', 'x'.repeat(10_000))).toMatchObject({
      ok: false,
      kind: 'Unauthorized',
    })
    const expired = await sign('space1', 'write', { expiresAt: Date.now() - 60_000 })
    expect(await auth.authenticate('space1', expired)).toMatchObject({ ok: false, kind: 'Unauthorized' })
    const expiresAt = Date.now() + 60_000
    const future = await sign('space1', 'read', { expiresAt })
    expect(await auth.authenticate('space1', future)).toEqual({
      ok: true,
      access: 'read',
      generation: 0,
      expiresAt: Math.floor(expiresAt / 1000) * 1000,
    })
    const forged = await sign('space1', 'write', { secret: 'another-secret-0123456789abcdefghijklmnop' })
    expect(await auth.authenticate('space1', forged)).toMatchObject({ ok: false, kind: 'Unauthorized' })
    // a token with alg "none" is not accepted
    const [, payload] = writeToken.split('.')
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`
    expect(await auth.authenticate('space1', none)).toMatchObject({ ok: false, kind: 'Unauthorized' })
    expect(lines.join('')).not.toContain('AUTH=off')

    const open = createAuth({ secret: SECRET, enabled: false, logger: log })
    expect(await open.authenticate('space1', null)).toEqual({ ok: true, access: 'write' })
    const warning = lines
      .map((l) => JSON.parse(l) as { level: string; msg: string })
      .find((l) => l.level === 'warn')
    expect(warning?.msg).toBe('AUTH=off: every space is readable and writable by anyone')
  })

  it('no token: closed 4401 before any document data', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const writer = await connectSynced(server, space.id, space.writeToken)
    writer.text.insert(0, 'secret shopping list')
    await server.core.flushAll()

    const c = await refusedWith(server, space.id, null)
    expect(c.closeInfo?.code).toBe(CloseCode.Unauthorized)
    expect(c.events).toEqual([{ kind: 'close', code: CloseCode.Unauthorized }])
    // an empty token is no token
    const empty = await refusedWith(server, space.id, '')
    expect(empty.events).toEqual([{ kind: 'close', code: CloseCode.Unauthorized }])
  })

  it('a token for another space: 4403; expired or forged: 4401; nothing received, nothing stored', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const other = await createSpace(server)
    const writer = await connectSynced(server, space.id, space.writeToken)
    writer.text.insert(0, 'abc')
    await server.core.flushAll()

    const forbidden = await refusedWith(server, space.id, other.writeToken)
    expect(forbidden.events).toEqual([{ kind: 'close', code: CloseCode.Forbidden }])

    const expired = await refusedWith(
      server,
      space.id,
      await sign(space.id, 'write', { expiresAt: Date.now() - 1000 }),
    )
    expect(expired.events).toEqual([{ kind: 'close', code: CloseCode.Unauthorized }])

    const forged = await refusedWith(
      server,
      space.id,
      await sign(space.id, 'write', { secret: 'not-the-server-secret-0123456789abcdef' }),
    )
    expect(forged.events).toEqual([{ kind: 'close', code: CloseCode.Unauthorized }])

    const garbage = await refusedWith(server, space.id, 'garbage')
    expect(garbage.events).toEqual([{ kind: 'close', code: CloseCode.Unauthorized }])

    const stored = await fetchDoc(server, space.id, space.readToken)
    expect(stored.getText('body:n1').toJSON()).toBe('abc')
    expect(stored.getMap('notes').has('x\u001fupdatedAt')).toBe(false)
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/converge_auth_failures_total\{reason="Forbidden"\} 1/)
    expect(metrics).toMatch(/converge_auth_failures_total\{reason="Unauthorized"\} 3/)
  })

  it('a read-only token reads and sees presence, but its updates are refused', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const writer = await connectSynced(server, space.id, space.writeToken)
    const other = await connectSynced(server, space.id, space.writeToken)
    writer.text.insert(0, 'milk')
    writer.provider.awareness.setLocalStateField('user', { name: 'W' })

    const reader = await RawClient.open(server, space.id, space.readToken)
    reader.send({ type: 'hello', version: 1 })
    reader.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
    await until(() => reader.doc().getText('body:n1').toJSON() === 'milk', 'reader to get the document')
    await reader.waitFor('awareness')
    writer.text.insert(4, ', eggs')
    await until(() => reader.doc().getText('body:n1').toJSON() === 'milk, eggs', 'reader to get live updates')

    // the reader tries to write
    const doc = reader.doc()
    const before = Y.encodeStateVector(doc)
    doc.getText('body:n1').insert(0, 'HACKED ')
    reader.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
    await reader.waitFor('auth-denied')
    const error = await reader.waitFor('error')
    expect(error.kind).toBe(ErrorKind.ReadOnly)
    // the socket stays open for reading
    writer.text.insert(0, 'bread, ')
    await until(
      () => reader.doc().getText('body:n1').toJSON().startsWith('bread, '),
      'reader to keep reading',
    )
    expect(reader.closeInfo).toBeNull()

    // not relayed, not applied, not stored
    await until(() => other.text.toJSON() === 'bread, milk, eggs', 'other to see the writer')
    expect(other.text.toJSON()).not.toContain('HACKED')
    await server.core.flushAll()
    await server.close()
    const again = await startTestServer({ dataDir: server.config.dataDir })
    const stored = await fetchDoc(again, space.id, space.readToken)
    expect(stored.getText('body:n1').toJSON()).toBe('bread, milk, eggs')
  })

  it('AUTH=off: anyone reads and writes, and the server says so', async () => {
    const server = await startTestServer({ auth: false })
    const a = await connectSynced(server, 'open-space', null)
    const b = await connectSynced(server, 'open-space', 'whatever')
    a.text.insert(0, 'x')
    await until(() => b.text.toJSON() === 'x', 'b to see a')
    expect(
      server.logs.some((l) => l.includes('AUTH=off: every space is readable and writable by anyone')),
    ).toBe(true)
  })

  it('never logs a token', async () => {
    const server = await startTestServer({ logLevel: 'trace' })
    const space = await createSpace(server)
    const c = await connectSynced(server, space.id, space.writeToken)
    c.text.insert(0, 'content that must not be logged')
    await server.core.flushAll()
    await refusedWith(server, space.id, space.writeToken.slice(0, -3) + 'AAA')
    await refusedWith(server, 'other', space.writeToken)
    c.provider.disconnect()
    await server.close()
    const all = server.logs.join('\n')
    expect(server.logs.length).toBeGreaterThan(3)
    expect(all).not.toContain(space.writeToken.slice(20, 60))
    expect(all).not.toContain('token=')
    expect(all).not.toContain('content that must not be logged')
  })
})
