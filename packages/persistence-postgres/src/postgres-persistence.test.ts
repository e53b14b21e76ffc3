import { randomBytes } from 'node:crypto'
import { StorageError } from '@converge/server-core'
import {
  runPersistenceSuite,
  runSpaceHistorySuite,
  runSpaceRegistrySuite,
  runTripLedgerSuite,
} from '@converge/server-core/testing'
import { CuttableProxy, POSTGRES_URL, freshSchema, havePostgres } from '@converge/test-services'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PostgresPersistence, SCHEMA_VERSION } from './index.js'

const ok = await havePostgres()

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A PostgresPersistence on a schema of its own, closed and dropped after the test. */
async function open(schema?: string, url = POSTGRES_URL): Promise<PostgresPersistence> {
  let name = schema
  if (!name) {
    const fresh = freshSchema()
    name = fresh.schema
    cleanups.push(() => fresh.drop())
  }
  const p = new PostgresPersistence({ connectionString: url, schema: name, timeoutMs: 2000 })
  cleanups.push(() => p.close())
  await p.open()
  return p
}

describe.skipIf(!ok)('PostgreSQL', () => {
  const setup = async () => {
    const { schema, drop } = freshSchema()
    let current = new PostgresPersistence({ connectionString: POSTGRES_URL, schema })
    await current.open()
    return {
      persistence: current,
      reopen: async () => {
        await current.close()
        current = new PostgresPersistence({ connectionString: POSTGRES_URL, schema })
        return current
      },
      cleanup: async () => {
        await current.close()
        await drop()
      },
    }
  }
  runPersistenceSuite('postgres', setup)
  runSpaceRegistrySuite('postgres', setup)
  runTripLedgerSuite('postgres', async () => {
    const { persistence, reopen, cleanup } = await setup()
    return { ledger: persistence, reopen, cleanup }
  })
  runSpaceHistorySuite('postgres', async () => {
    const { persistence, reopen, cleanup } = await setup()
    let current = persistence
    return {
      history: persistence,
      reopen: async () => (current = await reopen()),
      close: () => current.close(),
      cleanup,
    }
  })

  describe('PostgresPersistence', () => {
    it('PG-1 instances starting together on a fresh schema migrate it once', async () => {
      const { schema, drop } = freshSchema()
      cleanups.push(drop)
      const all = await Promise.all([open(schema), open(schema), open(schema)])
      expect(all.length).toBe(3)
      const c = new pg.Client({ connectionString: POSTGRES_URL })
      await c.connect()
      const { rows } = await c.query(`SELECT version FROM "${schema}".converge_migrations ORDER BY version`)
      await c.end()
      expect(rows.map((r: { version: number }) => r.version)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      )
    })

    it('PG-2 a schema newer than this code is refused with a StorageError, untouched', async () => {
      const p = await open()
      const schema = (p as unknown as { S: string }).S
      const c = new pg.Client({ connectionString: POSTGRES_URL })
      await c.connect()
      await c.query(`INSERT INTO ${schema}.converge_migrations (version) VALUES (99)`)
      await c.end()
      const later = new PostgresPersistence({ connectionString: POSTGRES_URL, schema: schema.slice(1, -1) })
      cleanups.push(() => later.close())
      await expect(later.open()).rejects.toThrow(/schema version 99 is newer/)
      await expect(later.load('s')).rejects.toBeInstanceOf(StorageError)
    })

    it('PG-3 two instances appending to one space at once: every update once, positions unique, each batch in order', async () => {
      const { schema, drop } = freshSchema()
      cleanups.push(drop)
      const [a, b] = [await open(schema), await open(schema)]
      const batches = Array.from({ length: 40 }, (_, i) => [Uint8Array.of(i, 1), Uint8Array.of(i, 2)])
      const seqs = await Promise.all(batches.map((batch, i) => (i % 2 ? a : b).append('s', batch)))
      expect(new Set(seqs).size).toBe(40)
      const stored = await a.load('s')
      expect(stored.updates.length).toBe(80)
      expect(stored.lastSeq).toBe(80)
      // each batch's two updates are adjacent and in order
      for (let i = 0; i < 80; i += 2) {
        expect(stored.updates[i]![0]).toBe(stored.updates[i + 1]![0])
        expect([stored.updates[i]![1], stored.updates[i + 1]![1]]).toEqual([1, 2])
      }
    })

    it('PG-4 compactions and appends from two instances at once never lose a committed update', async () => {
      const { schema, drop } = freshSchema()
      cleanups.push(drop)
      const instances = [await open(schema), await open(schema)]
      const words: string[] = []
      const writer = async (p: PostgresPersistence, id: number): Promise<void> => {
        const doc = new Y.Doc()
        doc.clientID = id
        for (let i = 0; i < 30; i++) {
          const word = `${id}:${i};`
          words.push(word)
          let update: Uint8Array | null = null
          doc.once('update', (u: Uint8Array) => (update = u))
          doc.getText('t').insert(0, word)
          await p.append('s', [update!])
          if (i % 7 === 3) {
            // what a room does with shared storage: re-read, merge, compact through what it read
            const stored = await p.load('s')
            const merged = new Y.Doc()
            if (stored.snapshot) Y.applyUpdate(merged, stored.snapshot)
            for (const u of stored.updates) Y.applyUpdate(merged, u)
            await p.compact('s', Y.encodeStateAsUpdate(merged), stored.lastSeq)
          }
        }
      }
      await Promise.all([writer(instances[0]!, 1), writer(instances[1]!, 2)])
      const stored = await instances[0]!.load('s')
      const doc = new Y.Doc()
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
      for (const u of stored.updates) Y.applyUpdate(doc, u)
      const text = doc.getText('t').toJSON()
      for (const w of words) expect(text).toContain(w)
      expect(stored.snapshot).not.toBeNull()
    })

    it('PG-5 an unreachable database fails each call with a StorageError naming the host; it works again when back', async () => {
      const proxy = await CuttableProxy.start(POSTGRES_URL, 5432)
      cleanups.push(() => proxy.close())
      const p = await open(undefined, proxy.through(POSTGRES_URL))
      await p.append('s', [Uint8Array.of(1)])
      proxy.sever()
      await expect(p.append('s', [Uint8Array.of(2)])).rejects.toThrow(
        /PostgreSQL append of space "s" failed \(127\.0\.0\.1:\d+\/test\)/,
      )
      await expect(p.load('s')).rejects.toBeInstanceOf(StorageError)
      proxy.restore()
      const seq = await p.append('s', [Uint8Array.of(3)])
      const stored = await p.load('s')
      expect(stored.updates.map((u) => u[0])).toEqual([1, 3]) // the failed append left nothing
      expect(stored.lastSeq).toBe(seq)
    })

    it('PG-6 storageBytes counts the bytes of its own tables, and grows with what is appended', async () => {
      const p = await open()
      const before = await p.storageBytes()
      expect(before).toBeGreaterThan(0) // the empty tables and their indexes take pages too
      await p.append('s', [new Uint8Array(randomBytes(512 * 1024))]) // incompressible: TOAST keeps it whole
      expect(await p.storageBytes()).toBeGreaterThan(before + 256 * 1024)
    })

    it('PG-6 storageBytes counts the saved versions too (converge_versions)', async () => {
      const p = await open()
      const before = await p.storageBytes()
      const state = new Uint8Array(randomBytes(512 * 1024)) // incompressible: TOAST keeps it whole
      const id = await p.saveVersion('s', { at: 1, changes: 1, authors: ['Ana'], state })
      expect(await p.storageBytes()).toBeGreaterThan(before + 256 * 1024)
      expect((await p.version('s', id))?.bytes).toBe(512 * 1024)
    })
  })
})
