/**
 * The storage quota of the whole server (server-core QUOTA-1; README "Limits"): past
 * MAX_TOTAL_STORAGE_BYTES, or with less than MIN_FREE_DISK_BYTES free on the database's disk, a write
 * closes with 4503 StorageUnavailable (retried by clients, which keep their changes) — a typed error, a
 * log line, a metric — while reading goes on and what is stored stays as it was; with room again the
 * same update is stored. Against the real server, its real SQLite files and the real disk.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { CloseCode, ErrorKind, PROTOCOL_VERSION } from '@converge/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RawClient, cleanup, covers, createSpace, fetchDoc, startTestServer, tempDir } from './helpers.js'

afterEach(cleanup)

const SEP = '\u001f'

/** What the database's files take now. */
const databaseBytes = (dir: string): number =>
  ['', '-wal', '-shm']
    .map((suffix) => {
      try {
        return statSync(join(dir, `converge.sqlite${suffix}`)).size
      } catch {
        return 0
      }
    })
    .reduce((a, b) => a + b, 0)

/** A writer on a real socket: says hello, waits for the server's sync-step1, then sends updates of `doc`. */
async function writer(server: { wsUrl: string }, spaceId: string, token: string, doc: Y.Doc) {
  const c = await RawClient.open(server, spaceId, token)
  c.send({ type: 'hello', version: PROTOCOL_VERSION })
  await c.waitFor('sync-step1')
  return {
    c,
    /** Types `n` characters into note n1 and sends just that change; returns it. */
    type(n: number, ch: string): Uint8Array {
      const before = Y.encodeStateVector(doc)
      doc.transact(() => {
        doc.getMap('notes').set(`n1${SEP}title`, 'Plan')
        const t = doc.getText('body:n1')
        t.insert(t.length, ch.repeat(n))
      })
      const update = Y.encodeStateAsUpdate(doc, before)
      c.send({ type: 'sync-update', update })
      return update
    },
  }
}

const refusals = async (url: string, limit: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`converge_limit_refusals_total{limit="${limit}"}`))
  return line ? Number(line.split(' ').pop()) : 0
}

describe('the storage quota of the whole server', () => {
  it('[QUOTA-1] past MAX_TOTAL_STORAGE_BYTES a write closes with 4503, logged and counted; reads go on, stored data is intact; with room again the same update is stored', async () => {
    const dataDir = tempDir()
    const doc = new Y.Doc()
    // a space with something in it, written with no quota
    let server = await startTestServer({ dataDir })
    const space = await createSpace(server)
    const first = await writer(server, space.id, space.writeToken, doc)
    first.type(2000, 'a')
    await first.c.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
    await server.close()

    // the same data directory with a quota of what it takes now plus 192 KiB (opening it adds the
    // shared-memory index, 32 KiB, and a write-ahead log)
    const quota = databaseBytes(dataDir) + 192 * 1024
    server = await startTestServer({ dataDir, storageQuota: { maxTotalBytes: quota, minFreeBytes: 0 } })
    const reader = await RawClient.open(server, space.id, space.readToken)
    reader.send({ type: 'sync-step1', stateVector: new Uint8Array([0]) })
    await reader.waitFor('sync-step2')
    const w = await writer(server, space.id, space.writeToken, doc)
    w.type(8 * 1024, 'b') // fits
    await w.c.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
    const stored = Y.encodeStateAsUpdate(await fetchDoc(server, space.id, space.writeToken))
    const big = w.type(512 * 1024, 'c') // does not
    const closed = await w.c.waitClosed()
    expect(closed.code).toBe(CloseCode.StorageUnavailable)
    const error = await w.c.waitFor('error')
    expect(error).toMatchObject({
      kind: ErrorKind.StorageUnavailable,
      message: "the server's storage quota is used up",
    })
    expect(server.logs.some((l) => l.includes("update refused: the server's storage quota is used up"))).toBe(
      true,
    )
    expect(await refusals(server.url, 'storage_total')).toBe(1)
    // nothing of it stored or relayed; the reader is still there; another space is refused too
    await server.core.flushAll()
    const after = await fetchDoc(server, space.id, space.writeToken)
    expect(Y.encodeStateAsUpdate(after)).toEqual(stored)
    expect(after.getText('body:n1').toJSON()).not.toContain('c')
    expect(reader.closeInfo).toBeNull()
    const other = await createSpace(server)
    const o = await writer(server, other.id, other.writeToken, new Y.Doc())
    o.type(256 * 1024, 'd')
    expect((await o.c.waitClosed()).code).toBe(CloseCode.StorageUnavailable)
    await server.close()

    // the operator makes room (here: lifts the quota); the client's retry sends the same update
    server = await startTestServer({ dataDir, storageQuota: { maxTotalBytes: 0, minFreeBytes: 0 } })
    const again = await RawClient.open(server, space.id, space.writeToken)
    again.send({ type: 'hello', version: PROTOCOL_VERSION })
    await again.waitFor('sync-step1')
    again.send({ type: 'sync-update', update: big })
    await again.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
    expect((await fetchDoc(server, space.id, space.writeToken)).getText('body:n1').toJSON()).toBe(
      doc.getText('body:n1').toJSON(),
    )
  })

  it('[QUOTA-1] with less than MIN_FREE_DISK_BYTES free on the real disk, writes close with 4503 "disk is full"; the space is still read', async () => {
    const dataDir = tempDir()
    const doc = new Y.Doc()
    let server = await startTestServer({ dataDir })
    const space = await createSpace(server)
    const first = await writer(server, space.id, space.writeToken, doc)
    first.type(100, 'a')
    await first.c.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
    await server.close()

    // a reserve larger than any disk: the statfs of the data directory's disk is always below it
    server = await startTestServer({
      dataDir,
      storageQuota: { maxTotalBytes: 0, minFreeBytes: Number.MAX_SAFE_INTEGER },
    })
    const w = await writer(server, space.id, space.writeToken, doc)
    w.type(1, 'b')
    expect((await w.c.waitClosed()).code).toBe(CloseCode.StorageUnavailable)
    expect((await w.c.waitFor('error')).message).toBe("the server's disk is full")
    expect(await refusals(server.url, 'disk_free')).toBe(1)
    const read = await fetchDoc(server, space.id, space.readToken)
    expect(read.getText('body:n1').toJSON()).toBe('a'.repeat(100))
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(Number(/^converge_disk_free_bytes (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0)
  })
})
