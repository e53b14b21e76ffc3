import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type SpaceHistory, StorageError, type StoredVersion, type VersionInfo } from '../ports.js'
import { testBytes } from './persistence-suite.js'

/** What the SpaceHistory suite needs of an adapter: a fresh history per test, reopening, closing, removing it. */
export interface HistoryFixture<H extends SpaceHistory = SpaceHistory> {
  /** A fresh, empty history. */
  history: H
  /** Closes the instance in use (it may be closed already) and returns a new one over the same storage. */
  reopen: () => Promise<H>
  /** Closes the instance in use, keeping the storage (HISTORY-7: every call after it rejects). */
  close: () => Promise<void>
  /** Closes whatever instance is in use (it may be closed already) and removes the storage. */
  cleanup: () => Promise<void>
}

/** What `saveVersion` takes. */
type NewVersion = Parameters<SpaceHistory['saveVersion']>[1]

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Bytes as hex: compared fast (a 1 MiB state), and a Buffer equals a Uint8Array of the same bytes. */
const hex = (bytes: Uint8Array): string => {
  const parts: string[] = []
  for (const b of bytes) parts.push(HEX[b]!)
  return parts.join('')
}

/** A version as plain data (bytes as hex), so a Buffer and a Uint8Array with the same bytes are equal. */
function plain(v: StoredVersion | VersionInfo | null): unknown {
  if (v === null) return null
  if ('state' in v) {
    expect(v.state).toBeInstanceOf(Uint8Array)
    return { ...v, authors: [...v.authors], state: hex(v.state) }
  }
  return { ...v, authors: [...v.authors] }
}

/** What `version(spaceId, id)` must read back of `v`, saved under `id`. */
function stored(spaceId: string, id: number, v: NewVersion): unknown {
  return {
    id,
    spaceId,
    at: v.at,
    changes: v.changes,
    authors: [...v.authors],
    bytes: v.state.byteLength,
    state: hex(v.state),
  }
}

/** What `versions(spaceId)` must list of `v`: every field but the state. */
function listed(spaceId: string, id: number, v: NewVersion): unknown {
  return { id, spaceId, at: v.at, changes: v.changes, authors: [...v.authors], bytes: v.state.byteLength }
}

let made = 0

/** A version to save: every field set, a state of its own (each call's differ), unless `overrides` say else. */
function testVersion(overrides: Partial<NewVersion> = {}): NewVersion {
  const n = ++made
  return { at: 1_750_000_000_000 + n, changes: n, authors: ['Ana'], state: testBytes(n, 48), ...overrides }
}

/**
 * The conformance suite of the SpaceHistory port (SPEC.md HISTORY-1…HISTORY-7): what `ports.ts`
 * promises of `saveVersion`, `versions`, `version` and `deleteVersions`. `setup` makes a fresh, empty
 * history for each test.
 */
export function runSpaceHistorySuite(name: string, setup: () => Promise<HistoryFixture>): void {
  describe(`SpaceHistory conformance: ${name}`, () => {
    let fx: HistoryFixture
    let history: SpaceHistory

    beforeEach(async () => {
      fx = await setup()
      history = fx.history
    })

    afterEach(async () => {
      await fx.cleanup()
    })

    /** Saves versions one after another (so their ids are in that order); returns [id, version] pairs. */
    async function saveAll(spaceId: string, versions: NewVersion[]): Promise<[number, NewVersion][]> {
      const out: [number, NewVersion][] = []
      for (const v of versions) out.push([await history.saveVersion(spaceId, v), v])
      return out
    }

    it('HISTORY-1 a saved version reads back exactly — every field, the state byte for byte — also after reopening', async () => {
      const state = new Uint8Array(512).map((_, i) => (i * 7 + 3) & 0xff)
      const authors = ['Zoë 🛒', 'Sam "the cook"', 'line\nbreak', 'nul\u0000', '']
      const v: NewVersion = { at: 1_767_225_600_123, changes: 5_000_000_000, authors, state }
      const copy: NewVersion = { ...v, authors: [...authors], state: state.slice() }
      const want = (id: number): unknown => stored('space-a/ü 1', id, copy)
      const id = await history.saveVersion('space-a/ü 1', v)
      expect(Number.isSafeInteger(id)).toBe(true)
      expect(plain(await history.version('space-a/ü 1', id))).toStrictEqual(want(id))

      // changing the caller's arrays afterwards, or what was handed out, changes nothing stored
      state.fill(0)
      authors.pop()
      authors[0] = 'changed'
      const read = await history.version('space-a/ü 1', id)
      expect(plain(read)).toStrictEqual(want(id))
      read!.state.fill(1)
      ;(read!.authors as string[]).push('more')
      expect(plain(await history.version('space-a/ü 1', id))).toStrictEqual(want(id))

      // an empty state, no authors, no changes; and a 1 MiB state
      const empty: NewVersion = { at: 0, changes: 0, authors: [], state: new Uint8Array(0) }
      const emptyId = await history.saveVersion('space-b', empty)
      expect(plain(await history.version('space-b', emptyId))).toStrictEqual(
        stored('space-b', emptyId, empty),
      )
      const big = testVersion({ state: testBytes(99, 1024 * 1024) })
      const bigId = await history.saveVersion('space-b', big)
      expect(plain(await history.version('space-b', bigId))).toStrictEqual(stored('space-b', bigId, big))

      // an id never saved is null
      expect(await history.version('space-a/ü 1', Math.max(id, emptyId, bigId) + 1000)).toBeNull()

      history = await fx.reopen()
      expect(plain(await history.version('space-a/ü 1', id))).toStrictEqual(want(id))
      expect(plain(await history.version('space-b', emptyId))).toStrictEqual(
        stored('space-b', emptyId, empty),
      )
      expect(plain(await history.version('space-b', bigId))).toStrictEqual(stored('space-b', bigId, big))
    })

    it('HISTORY-2 ids increase per space and are never reused — after a delete, after reopening, under concurrent saves', async () => {
      const a1 = await history.saveVersion('a', testVersion())
      const b1 = await history.saveVersion('b', testVersion())
      const a2 = await history.saveVersion('a', testVersion())
      const a3 = await history.saveVersion('a', testVersion())
      const b2 = await history.saveVersion('b', testVersion())
      expect(a1).toBeLessThan(a2)
      expect(a2).toBeLessThan(a3)
      expect(b1).toBeLessThan(b2)
      expect(new Set([a1, a2, a3, b1, b2]).size).toBe(5)

      // the newest deleted: its id is not given again
      expect(await history.deleteVersions('a', [a3])).toBe(1)
      const a4 = await history.saveVersion('a', testVersion())
      expect(a4).toBeGreaterThan(a3)
      history = await fx.reopen()
      const a5 = await history.saveVersion('a', testVersion())
      expect(a5).toBeGreaterThan(a4)

      // 20 at once: each its own id, none lost
      const many = Array.from({ length: 20 }, () => testVersion())
      const ids = await Promise.all(many.map((v) => history.saveVersion('busy', v)))
      expect(new Set(ids).size).toBe(20)
      for (const [i, id] of ids.entries())
        expect(plain(await history.version('busy', id))).toStrictEqual(stored('busy', id, many[i]!))
      expect(await history.versions('busy')).toHaveLength(20)
    })

    it("HISTORY-3 versions() lists the space's own versions without their state, newest first by at then id, at most limit", async () => {
      const saved = await saveAll('s', [
        testVersion({ at: 2000 }),
        testVersion({ at: 1000, authors: [] }),
        testVersion({ at: 3000, authors: ['Ana', 'Bo'] }),
        testVersion({ at: 2000, state: new Uint8Array(0) }),
        testVersion({ at: 2000 }),
      ])
      await saveAll('s-', [testVersion({ at: 2500 })])
      await saveAll('other', [testVersion({ at: 2500 })])
      const [v2a, v1, v3, v2b, v2c] = saved.map(([id, v]) => listed('s', id, v))
      const newestFirst = [v3, v2c, v2b, v2a, v1]

      const list = await history.versions('s')
      for (const info of list) expect('state' in info).toBe(false)
      expect(list.map(plain)).toStrictEqual(newestFirst)
      expect((await history.versions('s', { limit: 2 })).map(plain)).toStrictEqual(newestFirst.slice(0, 2))
      expect((await history.versions('s', { limit: 5 })).map(plain)).toStrictEqual(newestFirst)
      expect((await history.versions('s', { limit: 50 })).map(plain)).toStrictEqual(newestFirst)
      expect(await history.versions('s', { limit: 0 })).toEqual([])
      expect(await history.versions('never-seen')).toEqual([])
      history = await fx.reopen()
      expect((await history.versions('s', {})).map(plain)).toStrictEqual(newestFirst)
    })

    it('HISTORY-3 versions() gives at most 100 without a limit; a limit that is not a whole number ≥ 0 throws RangeError', async () => {
      const saved = await saveAll(
        'many',
        Array.from({ length: 101 }, (_, i) => testVersion({ at: 1_000_000 + i, state: Uint8Array.of(i) })),
      )
      const newest = saved.map(([id, v]) => listed('many', id, v)).reverse()
      expect((await history.versions('many')).map(plain)).toStrictEqual(newest.slice(0, 100))
      expect((await history.versions('many', { limit: 101 })).map(plain)).toStrictEqual(newest)
      for (const limit of [-1, 1.5, Number.NaN])
        await expect(history.versions('many', { limit })).rejects.toBeInstanceOf(RangeError)
    })

    it("HISTORY-4 another space's version is invisible and untouched: version() is null, deleteVersions() deletes nothing", async () => {
      const v = testVersion()
      const mine = await history.saveVersion('space', v)
      for (const other of ['space-', 'spac', 'other']) {
        expect(await history.version(other, mine)).toBeNull()
        expect(await history.deleteVersions(other, [mine])).toBe(0)
        expect(await history.versions(other)).toEqual([])
      }
      expect(plain(await history.version('space', mine))).toStrictEqual(stored('space', mine, v))
      expect((await history.versions('space')).map(plain)).toStrictEqual([listed('space', mine, v)])
    })

    it('HISTORY-5 deleteVersions() deletes exactly the ids given and says how many; repeating it deletes nothing; durable', async () => {
      const a = await history.saveVersion('s', testVersion())
      const b = await history.saveVersion('s', testVersion())
      const c = await history.saveVersion('s', testVersion())
      const dv = testVersion()
      const d = await history.saveVersion('s', dv)
      const ev = testVersion()
      const elsewhere = await history.saveVersion('t', ev)
      const unknown = Math.max(a, b, c, d, elsewhere) + 1000
      expect(await history.deleteVersions('s', [])).toBe(0)
      // duplicates count once; an unknown id, a fractional one and another space's are left alone
      expect(await history.deleteVersions('s', [b, a, b, unknown, a + 0.5, elsewhere])).toBe(2)
      expect(await history.deleteVersions('s', [a, b])).toBe(0)
      expect(await history.version('s', a)).toBeNull()
      expect(await history.version('s', b)).toBeNull()
      expect(await history.deleteVersions('s', [c])).toBe(1)
      expect(await history.deleteVersions('s', [c])).toBe(0)

      const left = [listed('s', d, dv)]
      expect((await history.versions('s')).map(plain)).toStrictEqual(left)
      history = await fx.reopen()
      expect((await history.versions('s')).map(plain)).toStrictEqual(left)
      expect(await history.version('s', c)).toBeNull()
      expect(await history.version('s', d + 0.5)).toBeNull()
      expect(plain(await history.version('t', elsewhere))).toStrictEqual(stored('t', elsewhere, ev))
    })

    it('HISTORY-6 saveVersion() refuses an at or a changes count that is not a whole number (changes ≥ 0) with RangeError, storing nothing', async () => {
      const bad: Partial<NewVersion>[] = [
        { at: 1.5 },
        { at: Number.NaN },
        { at: Number.POSITIVE_INFINITY },
        { changes: -1 },
        { changes: 0.5 },
        { changes: Number.NaN },
      ]
      for (const o of bad)
        await expect(history.saveVersion('s', testVersion(o))).rejects.toBeInstanceOf(RangeError)
      expect(await history.versions('s')).toEqual([])
      // the space saves as any other after them
      const [id, v] = (await saveAll('s', [testVersion()]))[0]!
      expect((await history.versions('s')).map(plain)).toStrictEqual([listed('s', id, v)])
    })

    it('HISTORY-7 after close every call rejects with StorageError (a read never answers empty); the versions are there after reopening', async () => {
      const v = testVersion()
      const id = await history.saveVersion('s', v)
      await fx.close()
      await expect(history.saveVersion('s', testVersion())).rejects.toBeInstanceOf(StorageError)
      await expect(history.versions('s')).rejects.toBeInstanceOf(StorageError)
      await expect(history.versions('unknown')).rejects.toBeInstanceOf(StorageError)
      await expect(history.version('s', id)).rejects.toBeInstanceOf(StorageError)
      await expect(history.deleteVersions('s', [id])).rejects.toBeInstanceOf(StorageError)
      history = await fx.reopen()
      expect(plain(await history.version('s', id))).toStrictEqual(stored('s', id, v))
      expect(await history.versions('s')).toHaveLength(1)
    })
  })
}
