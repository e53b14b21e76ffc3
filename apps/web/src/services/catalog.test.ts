import { describe, expect, it } from 'vitest'
import { Catalog, type PendingRemovalStore } from './catalog.js'
import type { CatalogStore, SpaceRecord } from './types.js'

const record = (id: string, lastOpenedAt: number): SpaceRecord => ({
  id,
  name: id,
  createdAt: 0,
  lastOpenedAt,
  registered: true,
})

class MemoryStore implements CatalogStore {
  readonly spaces = new Map<string, SpaceRecord>()
  readonly removed: string[] = []
  pending = new Map<string, number>()
  listSpaces(): Promise<SpaceRecord[]> {
    return Promise.resolve([...this.spaces.values()])
  }
  getSpace(id: string): Promise<SpaceRecord | undefined> {
    return Promise.resolve(this.spaces.get(id))
  }
  putSpace(r: SpaceRecord): Promise<void> {
    this.spaces.set(r.id, r)
    return Promise.resolve()
  }
  removeSpace(id: string): Promise<void> {
    this.spaces.delete(id)
    this.removed.push(id)
    return Promise.resolve()
  }
  pendingCount(id: string): Promise<number> {
    return Promise.resolve(this.pending.get(id) ?? 0)
  }
}

class MemoryPending implements PendingRemovalStore {
  readonly map = new Map<string, string>()
  getItem(k: string): string | null {
    return this.map.get(k) ?? null
  }
  setItem(k: string, v: string): void {
    this.map.set(k, v)
  }
  removeItem(k: string): void {
    this.map.delete(k)
  }
}

const ids = (c: Catalog): string[] => c.getSnapshot().spaces.map((s) => s.id)

async function setup(): Promise<{ store: MemoryStore; pending: MemoryPending; catalog: Catalog }> {
  const store = new MemoryStore()
  for (const r of [record('a', 3), record('b', 2), record('c', 1)]) store.spaces.set(r.id, r)
  const pending = new MemoryPending()
  const catalog = new Catalog(store, () => undefined, pending)
  await catalog.load()
  return { store, pending, catalog }
}

describe('Catalog: a removal that can be undone', () => {
  it('hides the space at once and keeps its data until remove()', async () => {
    const { store, catalog } = await setup()
    catalog.hide('b')
    expect(ids(catalog)).toEqual(['a', 'c'])
    expect(catalog.getSnapshot().removing?.id).toBe('b')
    expect(store.spaces.has('b')).toBe(true)
    await catalog.remove('b')
    expect(store.removed).toEqual(['b'])
    expect(catalog.getSnapshot().removing).toBeNull()
    expect(ids(catalog)).toEqual(['a', 'c'])
  })

  it('restore() lists the space again, in its place, and deletes nothing', async () => {
    const { store, pending, catalog } = await setup()
    catalog.hide('b')
    expect(catalog.restore('b')?.id).toBe('b')
    expect(ids(catalog)).toEqual(['a', 'b', 'c'])
    expect(catalog.getSnapshot().removing).toBeNull()
    expect(store.removed).toEqual([])
    expect(pending.map.size).toBe(0)
  })

  it('stays hidden through a reload of the list (another tab changed it)', async () => {
    const { catalog } = await setup()
    catalog.hide('a')
    await catalog.load()
    expect(ids(catalog)).toEqual(['b', 'c'])
  })

  it('one at a time: hiding another returns the one still waiting', async () => {
    const { catalog } = await setup()
    expect(catalog.hide('a').previous).toBeNull()
    expect(catalog.hide('b').previous).toBe('a')
    expect(catalog.getSnapshot().removing?.id).toBe('b')
  })

  it('a removal left waiting when the page went away is finished by the next first load', async () => {
    const { store, pending, catalog } = await setup()
    catalog.hide('c')
    expect(pending.map.size).toBe(1)
    // the page goes away before the notice timed out: a new page in the same tab
    const next = new Catalog(store, () => undefined, pending)
    await next.load()
    expect(store.removed).toEqual(['c'])
    expect(ids(next)).toEqual(['a', 'b'])
    expect(pending.map.size).toBe(0)
  })

  it('unsyncedChanges: the store’s count, or null when there is no store to ask', async () => {
    const { store, catalog } = await setup()
    store.pending.set('a', 3)
    expect(await catalog.unsyncedChanges('a')).toBe(3)
    expect(await catalog.unsyncedChanges('b')).toBe(0)
    const memoryOnly = new Catalog(null, () => undefined, null)
    expect(await memoryOnly.unsyncedChanges('a')).toBeNull()
  })
})
