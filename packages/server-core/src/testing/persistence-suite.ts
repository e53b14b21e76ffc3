import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Persistence, StorageError, type StoredSpace } from '../ports.js'

/** What a suite needs of an adapter: a fresh storage per test, a way to reopen it, a way to remove it. */
export interface PersistenceFixture<P extends Persistence = Persistence> {
  /** A fresh, empty storage. */
  persistence: P
  /** Closes the instance in use (it may be closed already) and returns a new one over the same storage. */
  reopen: () => Promise<P>
  /** Closes whatever instance is in use (it may be closed already) and removes the storage. */
  cleanup: () => Promise<void>
}

/** Deterministic test bytes: `length` bytes derived from `tag`, so a mix-up shows as a mismatch. */
export function testBytes(tag: number, length = 16): Uint8Array {
  const out = new Uint8Array(length)
  let x = (tag * 2654435761 + 1) >>> 0
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  if (length >= 4) new DataView(out.buffer).setUint32(0, tag >>> 0)
  return out
}

function storedBytes(space: StoredSpace): number {
  return (space.snapshot?.byteLength ?? 0) + space.updates.reduce((sum, u) => sum + u.byteLength, 0)
}

/** Compares byte arrays as plain arrays, so a Buffer and a Uint8Array with the same bytes are equal. */
function plain(list: readonly Uint8Array[]): number[][] {
  return list.map((u) => Array.from(u))
}

/** Byte equality without building a diff (for large arrays). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

function rebuild(space: StoredSpace): Y.Doc {
  const doc = new Y.Doc()
  if (space.snapshot) Y.applyUpdate(doc, space.snapshot)
  for (const u of space.updates) Y.applyUpdate(doc, u)
  return doc
}

const EMPTY: StoredSpace = { snapshot: null, updates: [], lastSeq: 0, bytes: 0 }

/**
 * The conformance suite of the Persistence port (SPEC.md PERS-1…PERS-17): every behaviour
 * `ports.ts` promises that a suite can provoke. Every adapter runs it: `setup` makes a fresh, empty
 * storage for each test.
 *
 * What a suite cannot provoke on an arbitrary adapter: a read that fails *while the storage is open*
 * (a disk error, an unreachable database) must throw StorageError, never answer "empty". The suite
 * checks it on the one failure every adapter can be put in — closed storage (PERS-13); each adapter's
 * own tests cover its real failures (PG-5: an unreachable database). Likewise durability across a
 * crash (SQLITE-7) and atomicity under a failure mid-batch are the adapters' to prove; the suite
 * checks that a batch is never seen half-written (PERS-14).
 */
export function runPersistenceSuite(name: string, setup: () => Promise<PersistenceFixture>): void {
  describe(`Persistence conformance: ${name}`, () => {
    let fx: PersistenceFixture
    let p: Persistence

    beforeEach(async () => {
      fx = await setup()
      p = fx.persistence
    })

    afterEach(async () => {
      await fx.cleanup()
    })

    it('PERS-1 an unknown space loads empty', async () => {
      expect(await p.load('never-seen')).toEqual(EMPTY)
      await p.append('seen', [testBytes(1)])
      expect(await p.load('never-seen')).toEqual(EMPTY)
      p = await fx.reopen()
      expect(await p.load('never-seen')).toEqual(EMPTY)
    })

    it('PERS-2 append then load returns the updates in order, byte-exact, with increasing lastSeq', async () => {
      const a = testBytes(1)
      const b = testBytes(2, 3)
      const c = testBytes(3, 200)
      const seq1 = await p.append('s', [a])
      expect(seq1).toBeGreaterThan(0)
      expect((await p.load('s')).lastSeq).toBe(seq1)
      const seq2 = await p.append('s', [b, c])
      // each update takes a position of its own; the batch returns its last one
      expect(seq2).toBeGreaterThanOrEqual(seq1 + 2)
      expect((await p.load('s')).lastSeq).toBe(seq2)
      const d = testBytes(4)
      const seq3 = await p.append('s', [d])
      expect(seq3).toBeGreaterThan(seq2)

      // Changing the caller's arrays afterwards must not change what was stored.
      a.fill(0)
      d.fill(0)
      const space = await p.load('s')
      expect(space.snapshot).toBeNull()
      expect(plain(space.updates)).toEqual(plain([testBytes(1), b, c, testBytes(4)]))
      expect(space.lastSeq).toBe(seq3)
    })

    it('PERS-3 appends to different spaces are isolated', async () => {
      await p.append('space-a', [testBytes(10), testBytes(11)])
      await p.append('space-b/ü 2', [testBytes(20)])
      await p.append('space-a', [testBytes(12)])
      await p.compact('space-b/ü 2', testBytes(29), (await p.load('space-b/ü 2')).lastSeq)

      const a = await p.load('space-a')
      const b = await p.load('space-b/ü 2')
      expect(a.snapshot).toBeNull()
      expect(plain(a.updates)).toEqual(plain([testBytes(10), testBytes(11), testBytes(12)]))
      expect(Array.from(b.snapshot ?? [])).toEqual(Array.from(testBytes(29)))
      expect(b.updates).toEqual([])
      const c = await p.load('space-')
      expect(c).toEqual({ snapshot: null, updates: [], lastSeq: 0, bytes: 0 })
    })

    it('PERS-4 append of an empty list is a no-op', async () => {
      expect(await p.append('empty', [])).toBe(0)
      expect(await p.load('empty')).toEqual({ snapshot: null, updates: [], lastSeq: 0, bytes: 0 })

      const seq = await p.append('s', [testBytes(1)])
      const before = await p.load('s')
      expect(await p.append('s', [])).toBe(seq)
      const after = await p.load('s')
      expect(after.lastSeq).toBe(before.lastSeq)
      expect(after.bytes).toBe(before.bytes)
      expect(plain(after.updates)).toEqual(plain(before.updates))
    })

    it('PERS-5 data survives reopen', async () => {
      await p.append('s', [testBytes(1), testBytes(2)])
      await p.compact('s', testBytes(99, 50), (await p.load('s')).lastSeq)
      const seq = await p.append('s', [testBytes(3)])
      await p.append('t', [testBytes(4)])
      const before = await p.load('s')

      p = await fx.reopen()
      const after = await p.load('s')
      expect(Array.from(after.snapshot ?? [])).toEqual(Array.from(testBytes(99, 50)))
      expect(plain(after.updates)).toEqual(plain([testBytes(3)]))
      expect(after.lastSeq).toBe(seq)
      expect(after.bytes).toBe(before.bytes)
      expect(plain((await p.load('t')).updates)).toEqual(plain([testBytes(4)]))

      // The reopened instance keeps appending after what is stored.
      const next = await p.append('s', [testBytes(5)])
      expect(next).toBeGreaterThan(seq)
    })

    it('PERS-6 compact replaces the snapshot and drops updates up to throughSeq, keeping later ones', async () => {
      await p.append('s', [testBytes(1), testBytes(2)])
      const through = await p.append('s', [testBytes(3)])
      await p.append('s', [testBytes(4)])
      const last = await p.append('s', [testBytes(5)])

      await p.compact('s', testBytes(100), through)
      let space = await p.load('s')
      expect(Array.from(space.snapshot ?? [])).toEqual(Array.from(testBytes(100)))
      expect(plain(space.updates)).toEqual(plain([testBytes(4), testBytes(5)]))
      expect(space.lastSeq).toBe(last)

      // A second compaction replaces the first snapshot.
      await p.compact('s', testBytes(200, 40), last)
      space = await p.load('s')
      expect(Array.from(space.snapshot ?? [])).toEqual(Array.from(testBytes(200, 40)))
      expect(space.updates).toEqual([])
      expect(space.lastSeq).toBe(last)
    })

    it('PERS-7 an append that lands between taking a snapshot and compacting survives', async () => {
      await p.append('s', [testBytes(1), testBytes(2)])
      const taken = await p.load('s')
      const late = await p.append('s', [testBytes(3)])
      await p.compact('s', testBytes(100), taken.lastSeq)

      const space = await p.load('s')
      expect(Array.from(space.snapshot ?? [])).toEqual(Array.from(testBytes(100)))
      expect(plain(space.updates)).toEqual(plain([testBytes(3)]))
      expect(space.lastSeq).toBe(late)
    })

    it('PERS-8 concurrent appends lose nothing and keep each batch in order', async () => {
      const batches = Array.from({ length: 50 }, (_, i) => [
        testBytes(i * 10 + 1),
        testBytes(i * 10 + 2),
        testBytes(i * 10 + 3),
      ])
      const seqs = await Promise.all(batches.map((batch) => p.append('s', batch)))
      expect(new Set(seqs).size).toBe(50)

      const space = await p.load('s')
      expect(space.updates).toHaveLength(150)
      expect(space.lastSeq).toBe(Math.max(...seqs))
      // Each batch's updates are stored contiguously and in order; the batches in the order of their seqs.
      const order = batches.map((batch, i) => ({ batch, seq: seqs[i]! })).sort((x, y) => x.seq - y.seq)
      expect(plain(space.updates)).toEqual(plain(order.flatMap(({ batch }) => batch)))
    })

    it('PERS-9 bytes equals the sum of the stored byte lengths', async () => {
      await p.append('s', [testBytes(1, 10), testBytes(2, 300)])
      expect((await p.load('s')).bytes).toBe(310)
      const through = (await p.load('s')).lastSeq
      await p.append('s', [testBytes(3, 7)])
      await p.compact('s', testBytes(4, 1000), through)
      const space = await p.load('s')
      expect(space.bytes).toBe(1007)
      expect(space.bytes).toBe(storedBytes(space))
    })

    it('PERS-10 large updates (1 MiB) round-trip', async () => {
      const big = testBytes(7, 1024 * 1024)
      const bigSnapshot = testBytes(8, 1024 * 1024)
      await p.append('big', [big])
      const seq = await p.append('big', [testBytes(9)])
      let space = await p.load('big')
      expect(space.updates).toHaveLength(2)
      expect(sameBytes(space.updates[0]!, big)).toBe(true)
      expect(space.bytes).toBe(1024 * 1024 + 16)

      await p.compact('big', bigSnapshot, seq)
      p = await fx.reopen()
      space = await p.load('big')
      expect(space.snapshot).not.toBeNull()
      expect(sameBytes(space.snapshot!, bigSnapshot)).toBe(true)
      expect(space.bytes).toBe(1024 * 1024)
    })

    it('PERS-11 a Yjs document round-trips through append, compaction mid-way, and reload', async () => {
      const doc = new Y.Doc()
      const text = doc.getText('t')
      let sv = Y.encodeStateVector(doc)
      const edit = async (i: number): Promise<void> => {
        doc.transact(() => {
          if (i % 7 === 3 && text.length > 4) text.delete(i % (text.length - 2), 2)
          else text.insert(i % (text.length + 1), `w${i} `)
        })
        const delta = Y.encodeStateAsUpdate(doc, sv)
        sv = Y.encodeStateVector(doc)
        await p.append('doc', [delta])
      }

      for (let i = 0; i < 40; i++) await edit(i)
      const taken = await p.load('doc')
      const snapshot = Y.mergeUpdates([...(taken.snapshot ? [taken.snapshot] : []), ...taken.updates])
      // Edits keep arriving while the snapshot is being made.
      for (let i = 40; i < 50; i++) await edit(i)
      await p.compact('doc', snapshot, taken.lastSeq)
      for (let i = 50; i < 80; i++) await edit(i)

      p = await fx.reopen()
      const stored = await p.load('doc')
      expect(stored.snapshot).not.toBeNull()
      expect(stored.updates).toHaveLength(40)
      expect(rebuild(stored).getText('t').toJSON()).toBe(text.toJSON())

      // A second compaction of everything still gives the same text.
      const all = Y.mergeUpdates([stored.snapshot!, ...stored.updates])
      await p.compact('doc', all, stored.lastSeq)
      const compacted = await p.load('doc')
      expect(compacted.updates).toEqual([])
      expect(rebuild(compacted).getText('t').toJSON()).toBe(text.toJSON())
    })

    it('PERS-12 lastSeq never goes back: compacting everything keeps it, later appends go past it', async () => {
      const last = await p.append('s', [testBytes(1), testBytes(2)])
      await p.compact('s', testBytes(100), last)
      const space = await p.load('s')
      expect(space.updates).toEqual([])
      expect(space.lastSeq).toBe(last)

      p = await fx.reopen()
      expect((await p.load('s')).lastSeq).toBe(last)
      const next = await p.append('s', [testBytes(3)])
      expect(next).toBeGreaterThan(last)
      expect(plain((await p.load('s')).updates)).toEqual(plain([testBytes(3)]))
    })
    it('PERS-13 after close every operation rejects with StorageError (a read never answers empty); closing twice is fine', async () => {
      await p.append('s', [testBytes(1)])
      await p.close()
      await p.close()
      await expect(p.load('s')).rejects.toBeInstanceOf(StorageError)
      await expect(p.load('never-seen')).rejects.toBeInstanceOf(StorageError)
      await expect(p.append('s', [testBytes(2)])).rejects.toBeInstanceOf(StorageError)
      await expect(p.compact('s', testBytes(3), 0)).rejects.toBeInstanceOf(StorageError)
      p = await fx.reopen()
      expect(plain((await p.load('s')).updates)).toEqual(plain([testBytes(1)]))
    })

    it('PERS-14 a load concurrent with appends sees every batch whole or not at all', async () => {
      const batches = Array.from({ length: 30 }, (_, i) =>
        Array.from({ length: 5 }, (_, j) => testBytes(i * 100 + j, 64)),
      )
      const tagOf = (u: Uint8Array): number => new DataView(u.buffer, u.byteOffset).getUint32(0)
      const loads: Promise<StoredSpace>[] = []
      const appends = batches.map((batch) => {
        loads.push(p.load('s'))
        return p.append('s', batch)
      })
      await Promise.all(appends)
      loads.push(p.load('s'))
      for (const space of await Promise.all(loads)) {
        const tags = space.updates.map(tagOf)
        const byBatch = new Map<number, number[]>()
        for (const t of tags)
          byBatch.set(Math.floor(t / 100), [...(byBatch.get(Math.floor(t / 100)) ?? []), t % 100])
        for (const parts of byBatch.values()) expect(parts).toEqual([0, 1, 2, 3, 4])
        expect(space.bytes).toBe(storedBytes(space))
      }
      expect((await p.load('s')).updates).toHaveLength(150)
    })

    it('PERS-15 compact refuses a throughSeq beyond the last append, negative or not whole, with RangeError, and changes nothing', async () => {
      await p.append('s', [testBytes(1)])
      const last = await p.append('s', [testBytes(2)])
      const before = await p.load('s')
      for (const bad of [last + 1, -1, 0.5, Number.NaN])
        await expect(p.compact('s', testBytes(9), bad)).rejects.toBeInstanceOf(RangeError)
      await expect(p.compact('other', testBytes(9), 1)).rejects.toBeInstanceOf(RangeError)
      expect(await p.load('s')).toEqual(before)
      expect(await p.load('other')).toEqual(EMPTY)
      // after a compaction of everything, lastSeq is still the bound
      await p.compact('s', testBytes(8), last)
      await expect(p.compact('s', testBytes(9), last + 1)).rejects.toBeInstanceOf(RangeError)
      expect(Array.from((await p.load('s')).snapshot ?? [])).toEqual(Array.from(testBytes(8)))
    })

    it('PERS-16 a compaction older than the stored snapshot is ignored', async () => {
      const first = await p.append('s', [testBytes(1)])
      const second = await p.append('s', [testBytes(2)])
      const third = await p.append('s', [testBytes(3)])
      await p.compact('s', testBytes(80), second)
      await p.compact('s', testBytes(70), first) // slow, made before the one above: ignored
      let space = await p.load('s')
      expect(Array.from(space.snapshot ?? [])).toEqual(Array.from(testBytes(80)))
      expect(plain(space.updates)).toEqual(plain([testBytes(3)]))
      expect(space.lastSeq).toBe(third)
      // one through the same position as the snapshot is not older: it replaces it
      await p.compact('s', testBytes(81), second)
      space = await p.load('s')
      expect(Array.from(space.snapshot ?? [])).toEqual(Array.from(testBytes(81)))
      expect(plain(space.updates)).toEqual(plain([testBytes(3)]))
    })

    it('PERS-17 an append that resolved, also one still in flight when close was called, is there after reopening; one that did not rejects with StorageError', async () => {
      const inFlight = Array.from({ length: 20 }, (_, i) => p.append('s', [testBytes(i)]))
      const closed = p.close()
      const settled = await Promise.allSettled(inFlight)
      await closed
      p = await fx.reopen()
      const stored = new Set((await p.load('s')).updates.map((u) => Array.from(u).join(',')))
      settled.forEach((r, i) => {
        if (r.status === 'fulfilled') expect(stored.has(Array.from(testBytes(i)).join(','))).toBe(true)
        else expect(r.reason).toBeInstanceOf(StorageError)
      })
    })
  })
}
