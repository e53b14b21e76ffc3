import { CloseCode, encodeMessage } from '@converge/protocol'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  type Client,
  RawClient,
  type TestServer,
  cleanup,
  clientFrame,
  connectSynced,
  createSpace,
  fetchDoc,
  startTestServer,
  until,
  upgradeWithFrames,
} from './helpers.js'

afterEach(cleanup)

/** Two honest clients in the space still sync, and the stored text is what they wrote. */
async function honestClientsStillSync(
  server: TestServer,
  space: { id: string; writeToken: string },
  expected: string,
) {
  const a = await connectSynced(server, space.id, space.writeToken)
  const b = await connectSynced(server, space.id, space.writeToken)
  expect(a.text.toJSON()).toBe(expected)
  const marker = `+${Math.random().toString(36).slice(2, 8)}`
  a.text.insert(a.text.length, marker)
  await until(() => b.text.toJSON() === expected + marker, 'b to see a')
  a.provider.disconnect()
  b.provider.disconnect()
  await server.core.flushAll()
  const stored = await fetchDoc(server, space.id, space.writeToken)
  expect(stored.getText('body:n1').toJSON()).toBe(expected + marker)
  return expected + marker
}

async function seeded(
  server: TestServer,
): Promise<{ space: Awaited<ReturnType<typeof createSpace>>; writer: Client }> {
  const space = await createSpace(server)
  const writer = await connectSynced(server, space.id, space.writeToken)
  writer.text.insert(0, 'seed')
  await server.core.flushAll()
  return { space, writer }
}

const open = async (server: TestServer, space: { id: string; writeToken: string }): Promise<RawClient> => {
  const c = await RawClient.open(server, space.id, space.writeToken)
  await c.waitFor('sync-step1') // authenticated and loaded
  return c
}

/** A sync message with the given sub type and raw payload bytes. */
const syncFrame = (sub: number, payload: Uint8Array): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0)
  encoding.writeVarUint(e, sub)
  encoding.writeVarUint8Array(e, payload)
  return encoding.toUint8Array(e)
}

describe('limits and bad input', () => {
  it('bad frames close only the offending socket with 4400; the space is untouched', async () => {
    const server = await startTestServer()
    const { space, writer } = await seeded(server)
    const validUpdate = (() => {
      const d = new Y.Doc()
      d.getText('body:n1').insert(0, 'x')
      return Y.encodeStateAsUpdate(d)
    })()
    const foreign = (() => {
      const d = new Y.Doc()
      d.getText('content').insert(0, 'foreign')
      return Y.encodeStateAsUpdate(d)
    })()
    const nested = (() => {
      const d = new Y.Doc()
      d.getMap('notes').set('nested', new Y.Map())
      return Y.encodeStateAsUpdate(d)
    })()
    const bad: [string, Uint8Array | string][] = [
      ['unknown message type', new Uint8Array([99, 1, 2])],
      ['bad varint', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['empty frame', new Uint8Array(0)],
      ['truncated sync message', encodeMessage({ type: 'sync-update', update: validUpdate }).slice(0, -2)],
      ['trailing bytes', new Uint8Array([...encodeMessage({ type: 'sync-update', update: validUpdate }), 7])],
      ['unknown sync sub type', syncFrame(9, validUpdate)],
      ['invalid Yjs update', encodeMessage({ type: 'sync-update', update: new Uint8Array([1, 2, 3, 4, 5]) })],
      ['truncated Yjs update', encodeMessage({ type: 'sync-update', update: validUpdate.slice(0, -3) })],
      ['foreign Yjs update', encodeMessage({ type: 'sync-update', update: foreign })],
      ['foreign Yjs update as step 2', encodeMessage({ type: 'sync-step2', update: foreign })],
      ['nested shared type', encodeMessage({ type: 'sync-update', update: nested })],
      ['bad state vector', syncFrame(0, new Uint8Array([5, 0xff]))],
      ['bad awareness', encodeMessage({ type: 'awareness', update: new Uint8Array([3, 0xff]) })],
      ['server-only message', encodeMessage({ type: 'durable-ack', stateVector: new Uint8Array([0]) })],
      ['text frame', 'hello'],
    ]
    for (const [what, frame] of bad) {
      const c = await open(server, space)
      if (typeof frame === 'string') c.sendText(frame)
      else c.send(frame)
      const closed = await c.waitClosed()
      expect(closed.code, what).toBe(CloseCode.MalformedFrame)
    }
    expect(writer.provider.wsconnected).toBe(true)
    writer.provider.disconnect()
    await honestClientsStillSync(server, space, 'seed')
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/converge_rejections_total\{reason="MalformedFrame"\} \d+/)
    expect(metrics).toMatch(/converge_rejections_total\{reason="InvalidUpdate"\} \d+/)
  })

  it('a frame over MAX_FRAME_BYTES is closed with 1009', async () => {
    const server = await startTestServer({ limits: { maxFrameBytes: 4096 } })
    const { space, writer } = await seeded(server)
    const c = await open(server, space)
    const d = new Y.Doc()
    d.getText('body:n1').insert(0, 'y'.repeat(10_000))
    c.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(d) })
    expect((await c.waitClosed()).code).toBe(CloseCode.MessageTooBig)
    writer.provider.disconnect()
    await honestClientsStillSync(server, space, 'seed')
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/converge_rejections_total\{reason="MessageTooBig"\} 1/)
  })

  it('an update beyond MAX_DOCUMENT_BYTES is closed with 4413 and not stored', async () => {
    const server = await startTestServer({ limits: { maxDocumentBytes: 2000 } })
    const { space, writer } = await seeded(server)
    const c = await open(server, space)
    const d = new Y.Doc()
    d.getText('body:n1').insert(0, 'z'.repeat(3000))
    c.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(d) })
    expect((await c.waitClosed()).code).toBe(CloseCode.DocumentTooLarge)
    writer.provider.disconnect()
    await honestClientsStillSync(server, space, 'seed')
  })

  it('a message flood beyond the rate is closed with 4429', async () => {
    const server = await startTestServer({ limits: { maxMessagesPerSecond: 20 } })
    const { space, writer } = await seeded(server)
    const c = await open(server, space)
    for (let i = 0; i < 200; i++) c.send({ type: 'query-awareness' })
    expect((await c.waitClosed()).code).toBe(CloseCode.RateLimited)
    writer.provider.disconnect()
    await honestClientsStillSync(server, space, 'seed')
  })

  it('a byte flood beyond the rate is closed with 4429', async () => {
    const server = await startTestServer({ limits: { maxBytesPerSecond: 10_000 } })
    const { space, writer } = await seeded(server)
    const c = await open(server, space)
    const padding = encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
    const big = new Uint8Array(5000).fill(0)
    for (let i = 0; i < 10; i++) c.send(i % 2 ? padding : encodeMessage({ type: 'awareness', update: big }))
    expect((await c.waitClosed()).code).toBe(CloseCode.RateLimited)
    writer.provider.disconnect()
    await honestClientsStillSync(server, space, 'seed')
  })

  it('too much before authentication is closed with 4408', async () => {
    const server = await startTestServer({ limits: { maxPreAuthBytes: 64 } })
    const { space, writer } = await seeded(server)
    // the frames travel in the same TCP write as the upgrade request: the server reads them before
    // the token can have been verified
    const frames = Buffer.concat(Array.from({ length: 10 }, () => clientFrame(2, new Uint8Array(40).fill(1))))
    const { status, frames: received } = await upgradeWithFrames(
      server.port,
      `/sync/${space.id}?token=${space.writeToken}`,
      frames,
    )
    expect(status).toBe(101)
    // the first and only frame is the close, with 4408
    expect(received.map((f) => f.opcode)).toEqual([8])
    expect(received[0]!.payload.readUInt16BE(0)).toBe(CloseCode.PreAuthOverflow)
    writer.provider.disconnect()
    await honestClientsStillSync(server, space, 'seed')
  })

  it('past MAX_CONNECTIONS a socket is closed with 1013', async () => {
    const server = await startTestServer({ limits: { maxConnections: 3 } })
    const { space, writer } = await seeded(server)
    const a = await open(server, space)
    const b = await open(server, space)
    const c = await RawClient.open(server, space.id, space.writeToken)
    expect((await c.waitClosed()).code).toBe(CloseCode.TryAgainLater)
    expect(c.frames).toEqual([])
    a.ws.close()
    b.ws.close()
    writer.provider.disconnect()
    await until(() => server.core.connectionCount === 0, 'every connection to close')
    await honestClientsStillSync(server, space, 'seed')
  })

  it('unknown paths are refused with HTTP 404', async () => {
    const server = await startTestServer()
    for (const path of ['/', '/sync', '/sync/', '/sync/a/b', '/other/x', '/api/spaces']) {
      const c = new RawClient(`ws://127.0.0.1:${server.port}${path}`)
      await expect(c.opened, path).rejects.toThrow('HTTP 404')
    }
    const bad = await RawClient.open(server, 'bad%20id', null)
    expect((await bad.waitClosed()).code).toBe(CloseCode.Unauthorized)
  })
})
