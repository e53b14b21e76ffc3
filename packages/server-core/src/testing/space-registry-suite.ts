import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Persistence, type SpaceRegistry, StorageError } from '../ports.js'
import type { PersistenceFixture } from './persistence-suite.js'
import { testBytes } from './persistence-suite.js'

/** A storage adapter that keeps the register of space ids beside the spaces. */
export type RegistryStorage = Persistence & SpaceRegistry

/**
 * The conformance suite of the SpaceRegistry port (SPEC.md REG-1…REG-10), for an adapter that keeps
 * it in the same storage as the spaces (so "taken" can include "holds data"). `setup` is the same
 * kind of fixture as `runPersistenceSuite`'s, over a `Persistence & SpaceRegistry`.
 */
export function runSpaceRegistrySuite(
  name: string,
  setup: () => Promise<PersistenceFixture<RegistryStorage>>,
): void {
  describe(`SpaceRegistry conformance: ${name}`, () => {
    let fx: PersistenceFixture<RegistryStorage>
    let s: RegistryStorage

    beforeEach(async () => {
      fx = await setup()
      s = fx.persistence
    })

    afterEach(async () => {
      await fx.cleanup()
    })

    it('REG-1 a free id registers once: true the first time, false after', async () => {
      expect(await s.registerSpace('new-space')).toBe(true)
      expect(await s.registerSpace('new-space')).toBe(false)
      expect(await s.registerSpace('other-space')).toBe(true)
    })

    it('REG-2 an id that holds data is taken, though never registered', async () => {
      await s.append('offline', [testBytes(1)])
      expect(await s.registerSpace('offline')).toBe(false)
      // also when a compaction has dropped every update
      const last = await s.append('compacted', [testBytes(2)])
      await s.compact('compacted', testBytes(3), last)
      expect(await s.registerSpace('compacted')).toBe(false)
    })

    it('REG-3 registering stores no data: the space loads empty and is then written as any other', async () => {
      expect(await s.registerSpace('fresh')).toBe(true)
      expect(await s.load('fresh')).toEqual({ snapshot: null, updates: [], lastSeq: 0, bytes: 0 })
      const seq = await s.append('fresh', [testBytes(4)])
      const space = await s.load('fresh')
      expect(space.updates.map((u) => Array.from(u))).toEqual([Array.from(testBytes(4))])
      expect(space.lastSeq).toBe(seq)
    })

    it('REG-4 of concurrent registrations of one id exactly one succeeds, and registrations survive reopening', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => s.registerSpace('race')))
      expect(results.filter(Boolean)).toHaveLength(1)
      s = await fx.reopen()
      expect(await s.registerSpace('race')).toBe(false)
    })

    it('REG-5 after close, registering rejects with StorageError', async () => {
      await s.close()
      await expect(s.registerSpace('late')).rejects.toBeInstanceOf(StorageError)
    })

    it('REG-6 a link generation starts at 0, goes up by one per bump, per space, and survives reopening', async () => {
      expect(await s.linkGeneration('never-seen')).toBe(0)
      expect(await s.registerSpace('gen')).toBe(true)
      await s.append('gen', [testBytes(5)])
      expect(await s.linkGeneration('gen')).toBe(0)
      expect(await s.bumpLinkGeneration('gen')).toBe(1)
      expect(await s.bumpLinkGeneration('gen')).toBe(2)
      expect(await s.linkGeneration('gen')).toBe(2)
      // spaces are isolated, whatever their ids
      expect(await s.linkGeneration('ge')).toBe(0)
      expect(await s.linkGeneration('gen-2')).toBe(0)
      expect(await s.bumpLinkGeneration('gen/ü 2')).toBe(1)
      expect(await s.linkGeneration('gen')).toBe(2)
      s = await fx.reopen()
      expect(await s.linkGeneration('gen')).toBe(2)
      expect(await s.linkGeneration('gen/ü 2')).toBe(1)
      expect(await s.bumpLinkGeneration('gen')).toBe(3)
    })

    it('REG-7 of concurrent bumps each gets a generation of its own; none is lost', async () => {
      await s.registerSpace('busy')
      const got = await Promise.all(Array.from({ length: 10 }, () => s.bumpLinkGeneration('busy')))
      expect([...got].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(await s.linkGeneration('busy')).toBe(10)
    })

    it('REG-8 a bump stores no data: the space loads as before; an id never seen is taken after it', async () => {
      const seq = await s.append('kept', [testBytes(6)])
      await s.bumpLinkGeneration('kept')
      const kept = await s.load('kept')
      expect(kept.updates.map((u) => Array.from(u))).toEqual([Array.from(testBytes(6))])
      expect(kept.lastSeq).toBe(seq)
      await s.bumpLinkGeneration('only-links')
      expect(await s.load('only-links')).toEqual({ snapshot: null, updates: [], lastSeq: 0, bytes: 0 })
      expect(await s.registerSpace('only-links')).toBe(false)
      expect(await s.linkGeneration('only-links')).toBe(1)
      // appends after a bump still take their positions as before
      expect(await s.append('only-links', [testBytes(7)])).toBeGreaterThan(0)
      expect(await s.linkGeneration('only-links')).toBe(1)
    })

    it('REG-9 after close, reading or bumping a link generation rejects with StorageError', async () => {
      await s.close()
      await expect(s.linkGeneration('late')).rejects.toBeInstanceOf(StorageError)
      await expect(s.bumpLinkGeneration('late')).rejects.toBeInstanceOf(StorageError)
    })

    it("REG-10 a space's engine is the one its registration named, Yjs otherwise; a later registration does not change it; it survives reopening; after close reading it rejects", async () => {
      expect(await s.registerSpace('am', 'automerge')).toBe(true)
      expect(await s.registerSpace('y')).toBe(true)
      expect(await s.spaceEngine('am')).toBe('automerge')
      expect(await s.spaceEngine('y')).toBe('yjs')
      expect(await s.spaceEngine('never-seen')).toBe('yjs')
      // a second registration (another device, the same id) is refused and leaves the engine
      expect(await s.registerSpace('am', 'yjs')).toBe(false)
      expect(await s.registerSpace('y', 'automerge')).toBe(false)
      expect(await s.spaceEngine('am')).toBe('automerge')
      expect(await s.spaceEngine('y')).toBe('yjs')
      // data written before any registration is Yjs's (spaces older than engines), and stays so
      await s.append('old', [testBytes(8)])
      expect(await s.registerSpace('old', 'automerge')).toBe(false)
      expect(await s.spaceEngine('old')).toBe('yjs')
      // a link reset neither registers an engine nor changes one
      await s.bumpLinkGeneration('am')
      await s.bumpLinkGeneration('links-only')
      expect(await s.spaceEngine('links-only')).toBe('yjs')
      s = await fx.reopen()
      expect(await s.spaceEngine('am')).toBe('automerge')
      expect(await s.spaceEngine('y')).toBe('yjs')
      await s.close()
      await expect(s.spaceEngine('am')).rejects.toBeInstanceOf(StorageError)
    })
  })
}
