import { describe, expect, it } from 'vitest'
import { StorageError } from './ports.js'
import { MemoryPersistence, createMemoryStore, runPersistenceSuite } from './testing/index.js'

runPersistenceSuite('memory', () => {
  const store = createMemoryStore()
  let current = new MemoryPersistence(store)
  return Promise.resolve({
    persistence: current,
    reopen: async () => {
      await current.close()
      current = new MemoryPersistence(store)
      return current
    },
    cleanup: () => current.close(),
  })
})

describe('MemoryPersistence', () => {
  it('rejects with StorageError after close', async () => {
    const p = new MemoryPersistence()
    await p.close()
    await expect(p.load('s')).rejects.toBeInstanceOf(StorageError)
    await expect(p.append('s', [new Uint8Array([1])])).rejects.toBeInstanceOf(StorageError)
  })

  it('rejects a compaction past the last position, and ignores one older than the snapshot', async () => {
    const p = new MemoryPersistence()
    const first = await p.append('s', [new Uint8Array([1])])
    const second = await p.append('s', [new Uint8Array([2])])
    await expect(p.compact('s', new Uint8Array([9]), second + 1)).rejects.toBeInstanceOf(RangeError)
    await p.compact('s', new Uint8Array([8]), second)
    await p.compact('s', new Uint8Array([7]), first)
    const space = await p.load('s')
    expect(Array.from(space.snapshot ?? [])).toEqual([8])
    expect(space.updates).toEqual([])
  })
})
