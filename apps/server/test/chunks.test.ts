/**
 * Messages in chunks against the real server over real sockets (PROTOCOL.md §P7; server-core
 * CHUNK-1…6, sync-client LARGE-1…5): a change past the frame limit crosses from a real sync
 * connection, whole or not at all; a hostile chunk stream is refused with its code, within budget.
 */
import {
  CloseCode,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  splitFrame,
} from '@converge/protocol'
import { SERVER_ORIGIN, SyncConnection } from '@converge/sync-client'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  RawClient,
  TEXT,
  type TestServer,
  cleanup,
  connectSynced,
  covers,
  createSpace,
  fetchDoc,
  onCleanup,
  startTestServer,
  until,
} from './helpers.js'

afterEach(cleanup)

const MiB = 1024 * 1024

/** A real sync connection (the browser client's) over `ws`, with its document. */
function device(server: TestServer, spaceId: string, token: string) {
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  const conn = new SyncConnection({
    serverUrl: server.wsUrl,
    spaceId,
    token,
    doc,
    awareness,
    applyRemote: (u) => Y.applyUpdate(doc, u, SERVER_ORIGIN),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { initialMs: 50, maxMs: 400 },
  })
  onCleanup(() => {
    conn.destroy()
    awareness.destroy()
    doc.destroy()
  })
  return {
    doc,
    conn,
    connect: () => conn.connect(),
    get saved() {
      const acked = conn.current.acked
      return conn.current.connected && acked !== null && covers(acked, doc)
    },
    get text() {
      return doc.getText(TEXT).toJSON()
    },
  }
}

/** A raw client of this version: hello, then what the test sends. */
async function rawV3(server: TestServer, spaceId: string, token: string): Promise<RawClient> {
  const c = await RawClient.open(server, spaceId, token)
  c.send({ type: 'hello', version: PROTOCOL_VERSION })
  c.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
  await c.waitFor('limits')
  return c
}

const pasteUpdate = (chars: number, fill = 'p'): Uint8Array => {
  const d = new Y.Doc()
  d.getText(TEXT).insert(0, fill.repeat(chars))
  return Y.encodeStateAsUpdate(d)
}

const errorKind = (c: RawClient): string | undefined =>
  c.messages.filter((m): m is Extract<Message, { type: 'error' }> => m.type === 'error').at(-1)?.kind

describe('messages in chunks (the real server)', () => {
  it('[CHUNK-1] [CHUNK-2] a 3 MB paste from a real sync connection crosses the 1 MiB frame limit in chunks: stored, relayed whole to a stock client and in chunks to another device', async () => {
    const server = await startTestServer()
    const { id, writeToken } = await createSpace(server)
    const stock = await connectSynced(server, id, writeToken)
    const a = device(server, id, writeToken)
    const b = device(server, id, writeToken)
    a.connect()
    b.connect()
    await until(() => a.saved && b.saved, 'both devices synced')
    const limits = await rawV3(server, id, writeToken)
    expect(limits.messages.find((m) => m.type === 'limits')).toMatchObject({
      maxFrameBytes: MiB,
      maxDocumentBytes: 64 * MiB,
      bytesPerSecond: MiB, // the per-address budget is lower than the per-connection rate
      burstBytes: 4 * MiB,
    })
    limits.ws.close()
    const text = 'x'.repeat(3 * MiB)
    const started = performance.now()
    a.doc.getText(TEXT).insert(0, text)
    await until(() => b.text.length === text.length, 'the paste reaches the other device', 20_000)
    const ms = performance.now() - started
    await until(() => a.saved, 'the paste saved', 20_000)
    await until(() => stock.text.length === text.length, 'the paste reaches a stock client', 20_000)
    expect(a.conn.current.error).toBeNull()
    expect((await fetchDoc(server, id, writeToken)).getText(TEXT).length).toBe(text.length)
    console.log(
      `[CHUNK-2] a 3 MiB paste reached the other device in ${ms.toFixed(0)} ms (real server, loopback)`,
    )
  }, 30_000)

  it('[CHUNK-4] hostile chunk streams against the real server: a huge total closes with 4413 and a fifth open message with 4429 before anything is kept; a stream that never finishes with 4408', async () => {
    const server = await startTestServer({ limits: { chunkIdleMs: 300 } })
    const { id, writeToken } = await createSpace(server)
    const honest = await connectSynced(server, id, writeToken)
    const part = new Uint8Array(64 * 1024)
    // parts are copied into ArrayBuffers, outside the V8 heap: count both
    const used = (): number => {
      const m = process.memoryUsage()
      return m.heapUsed + m.arrayBuffers
    }
    const before = used()

    const huge = await rawV3(server, id, writeToken)
    huge.send({ type: 'chunk', id: 1, total: 2 ** 45, offset: 0, part })
    expect((await huge.waitClosed()).code).toBe(CloseCode.DocumentTooLarge)
    expect(errorKind(huge)).toBe(ErrorKind.DocumentTooLarge)

    const many = await rawV3(server, id, writeToken)
    for (let n = 1; n <= 5; n++) many.send({ type: 'chunk', id: n, total: 10 * MiB, offset: 0, part })
    expect((await many.waitClosed()).code).toBe(CloseCode.RateLimited)
    expect(errorKind(many)).toBe(ErrorKind.RateLimited)

    // ten sockets each announcing 60 MiB and sending 64 kB of it: each holds what it sent, not what it announced
    const stalled = await Promise.all(Array.from({ length: 10 }, () => rawV3(server, id, writeToken)))
    for (const s of stalled) s.send({ type: 'chunk', id: 1, total: 60 * MiB, offset: 0, part })
    const closes = await Promise.all(stalled.map((s) => s.waitClosed()))
    for (const [i, s] of stalled.entries()) {
      expect(closes[i]!.code).toBe(CloseCode.PreAuthOverflow) // 4408
      expect(errorKind(s)).toBe(ErrorKind.IncompleteMessage)
    }
    const grew = used() - before
    expect(grew).toBeLessThan(60 * MiB) // one announced total would be 60 MiB; ten would be 600
    // the honest client never noticed, and nothing was stored
    honest.text.insert(0, 'still here')
    await until(
      () => honest.provider.synced && honest.text.toJSON() === 'still here',
      'the honest client still syncs',
    )
    const stored = await fetchDoc(server, id, writeToken)
    expect(stored.getText(TEXT).toJSON()).toBe('still here')
  }, 20_000)

  it('[CHUNK-3] a client of version 2 (or a stock one) that sends a chunk is closed with 4400; one of this version that sends a frame over the limit whole still gets 1009', async () => {
    const server = await startTestServer({ limits: { maxFrameBytes: 64 * 1024 } })
    const { id, writeToken } = await createSpace(server)
    const old = await RawClient.open(server, id, writeToken)
    old.send({ type: 'hello', version: 2 })
    await old.waitFor('hello')
    expect(old.messages.some((m) => m.type === 'limits')).toBe(false)
    const frame = encodeMessage({ type: 'sync-update', update: pasteUpdate(200_000) })
    for (const f of splitFrame(frame, 64 * 1024, 1)) old.send(f)
    expect((await old.waitClosed()).code).toBe(CloseCode.MalformedFrame)
    const whole = await rawV3(server, id, writeToken)
    whole.send(frame)
    expect((await whole.waitClosed()).code).toBe(CloseCode.MessageTooBig)
    // and in chunks it is taken
    const chunked = await rawV3(server, id, writeToken)
    for (const f of splitFrame(frame, 64 * 1024, 7)) chunked.send(f)
    await chunked.waitFor('durable-ack', (m) => Y.decodeStateVector(m.stateVector).size === 1)
    expect((await fetchDoc(server, id, writeToken)).getText(TEXT).length).toBe(200_000)
    // what the server sends this client back is chunks within the limit
    const joiner = await rawV3(server, id, writeToken)
    await until(() => joiner.frames.filter((f) => decodeMessage(f).type === 'chunk').length >= 3, 'chunks')
    for (const f of joiner.frames) expect(f.length).toBeLessThanOrEqual(64 * 1024)
  })

  it('[LARGE-2] a 6 MB offline backlog is paced under the per-address budget and saved, never closed with 4429', async () => {
    const server = await startTestServer({ perIp: { bytesPerSecond: 2 * MiB, burstBytes: 2 * MiB } })
    const { id, writeToken } = await createSpace(server)
    const a = device(server, id, writeToken)
    a.doc.getText(TEXT).insert(0, 'z'.repeat(6 * MiB)) // made before the device ever connects
    const started = performance.now()
    a.connect()
    await until(() => a.saved, 'the backlog saved', 30_000)
    const ms = performance.now() - started
    expect(a.conn.current.error).toBeNull()
    expect(a.conn.current.attempt).toBe(0)
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).not.toMatch(/converge_rejections_total\{reason="RateLimited"\} [1-9]/)
    // (6 MiB − 1 MiB at once) at 90% of 2 MiB/s: about 2.8 s
    expect(ms).toBeGreaterThan(2_000)
    console.log(`[LARGE-2] a 6 MiB backlog saved in ${ms.toFixed(0)} ms under a 2 MiB/s per-address budget`)
  }, 40_000)
})
