import { join } from 'node:path'
import { SqlitePersistence } from '@converge/persistence-sqlite'
import { CloseCode } from '@converge/protocol'
import { StorageError, type StoredSpace } from '@converge/server-core'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  RawClient,
  cleanup,
  serverCloses,
  connectClient,
  connectSynced,
  createSpace,
  fetchDoc,
  startTestServer,
  synced,
  tempDir,
  until,
} from './helpers.js'

afterEach(cleanup)

const metric = async (url: string, name: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** SQLite whose next `failLoads` loads throw StorageError; records what was written. */
class FlakyPersistence extends SqlitePersistence {
  failLoads = 0
  appends = 0
  compactions = 0
  constructor(file: string) {
    super({ file })
  }
  override load(spaceId: string): Promise<StoredSpace> {
    if (this.failLoads > 0) {
      this.failLoads--
      return Promise.reject(new StorageError('disk on fire'))
    }
    return super.load(spaceId)
  }
  override append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    this.appends++
    return super.append(spaceId, updates)
  }
  override compact(spaceId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.compactions++
    return super.compact(spaceId, snapshot, throughSeq)
  }
}

describe('storage', () => {
  it('compaction under concurrent writes from 3 clients loses nothing', { timeout: 30_000 }, async () => {
    const dataDir = tempDir()
    const persistence = new FlakyPersistence(join(dataDir, 'converge.sqlite'))
    const server = await startTestServer({ dataDir, limits: { compactEveryUpdates: 5 } }, { persistence })
    const space = await createSpace(server)
    const clients = await Promise.all([1, 2, 3].map(() => connectSynced(server, space.id, space.writeToken)))
    for (let round = 0; round < 60; round++) {
      for (const [i, c] of clients.entries()) {
        c.text.insert(Math.floor(c.text.length / 2), String.fromCharCode(97 + i))
        c.map.set(`r${round}c${i}\u001fupdatedAt`, round)
      }
      if (round % 7 === 0) await new Promise((r) => setImmediate(r))
    }
    const [a, b, c] = clients as [(typeof clients)[0], (typeof clients)[0], (typeof clients)[0]]
    await until(
      () =>
        a.text.length === 180 && a.text.toJSON() === b.text.toJSON() && b.text.toJSON() === c.text.toJSON(),
      'the three clients to converge',
      10_000,
    )
    const final = a.text.toJSON()
    await server.core.flushAll()
    expect(persistence.compactions).toBeGreaterThan(0)
    expect(await metric(server.url, 'converge_compactions_total')).toBeGreaterThan(0)
    for (const cl of clients) cl.provider.disconnect()
    await server.close()

    const again = await startTestServer({ dataDir })
    const stored = await fetchDoc(again, space.id, space.readToken)
    expect(stored.getText('body:n1').toJSON()).toBe(final)
    expect(stored.getMap('notes').size).toBe(180)
  })

  it('an idle space is unloaded and reloads with its content', async () => {
    const server = await startTestServer({ limits: { idleUnloadMs: 50 } })
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken)
    a.text.insert(0, 'kept across unload')
    expect(await metric(server.url, 'converge_spaces_loaded')).toBe(1)
    a.provider.disconnect()
    await until(() => server.core.loadedSpaces === 0, 'the space to unload')
    expect(await metric(server.url, 'converge_spaces_loaded')).toBe(0)
    expect(await metric(server.url, 'converge_space_unloads_total')).toBe(1)

    const b = await connectSynced(server, space.id, space.writeToken)
    expect(b.text.toJSON()).toBe('kept across unload')
    expect(await metric(server.url, 'converge_spaces_loaded')).toBe(1)
  })

  it('a failed storage read closes with 4503 and never stores an empty document over the data', async () => {
    const dataDir = tempDir()
    const persistence = new FlakyPersistence(join(dataDir, 'converge.sqlite'))
    const server = await startTestServer({ dataDir, limits: { idleUnloadMs: 20 } }, { persistence })
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken)
    a.text.insert(0, 'precious')
    await server.core.flushAll()
    a.provider.disconnect()
    await until(() => server.core.loadedSpaces === 0, 'the space to unload')
    const appendsBefore = persistence.appends
    const compactionsBefore = persistence.compactions

    persistence.failLoads = 1
    const c = await RawClient.open(server, space.id, space.writeToken)
    const doc = new Y.Doc()
    doc.getText('body:n1').insert(0, 'X')
    c.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(doc) })
    c.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
    expect((await c.waitClosed()).code).toBe(CloseCode.StorageUnavailable)
    // nothing of the space was sent, nothing was written
    expect(c.frames).toEqual([])
    expect(persistence.appends).toBe(appendsBefore)
    expect(persistence.compactions).toBe(compactionsBefore)
    expect(await metric(server.url, 'converge_space_load_failures_total')).toBe(1)
    expect(await metric(server.url, 'converge_rejections_total{reason="StorageUnavailable"}')).toBe(1)

    // the next attempt works and finds the data
    const b = await connectSynced(server, space.id, space.writeToken)
    expect(b.text.toJSON()).toBe('precious')
    // a stock client that was refused reconnects by itself (4503 is not permanent) and gets the data
    b.provider.disconnect()
    await until(() => server.core.loadedSpaces === 0, 'the space to unload')
    persistence.failLoads = 1
    const d = connectClient(server, space.id, space.writeToken)
    const closes = serverCloses(d)
    await synced(d)
    expect(closes).toEqual([CloseCode.StorageUnavailable])
    expect(d.text.toJSON()).toBe('precious')
  })
})
