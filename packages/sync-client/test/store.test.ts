/**
 * IdbStore against fake-indexeddb (a fresh IDBFactory per test for isolation). Rule ids STORE-n.
 */
import 'fake-indexeddb/auto'
import { IDBFactory, forceCloseDatabase } from 'fake-indexeddb'
import { wrap, type IDBPDatabase } from 'idb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  IdbStore,
  StoreError,
  parseSnapshotRecord,
  type IdbStoreOptions,
  type SpaceRecord,
} from '../src/store/index.js'

const SPACE = 'space-a'
const stores: IdbStore[] = []
const raws: IDBPDatabase[] = []

afterEach(() => {
  vi.restoreAllMocks()
  for (const s of stores.splice(0)) s.close()
  for (const r of raws.splice(0)) r.close()
})

async function openStore(factory: IDBFactory, options: IdbStoreOptions = {}): Promise<IdbStore> {
  const store = await IdbStore.open({ indexedDB: factory, ...options })
  stores.push(store)
  return store
}

/** A second, raw connection to inspect or tamper with what is stored. */
async function rawDb(factory: IDBFactory, name = 'converge'): Promise<IDBPDatabase> {
  const db = (await wrap(factory.open(name)))!
  raws.push(db)
  return db
}

type Dump = Record<string, [IDBValidKey, unknown][]>

async function dump(factory: IDBFactory): Promise<Dump> {
  const db = await rawDb(factory)
  const out: Dump = {}
  for (const name of ['catalog', 'updates', 'snapshots', 'meta']) {
    const tx = db.transaction(name, 'readonly')
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()])
    out[name] = keys.map((k, i) => [k, values[i]])
  }
  db.close()
  return out
}

const bytesOf = (d: Dump) =>
  new TextEncoder().encode(JSON.stringify(d, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)))
    .length
const countOf = (d: Dump) => Object.values(d).reduce((n, rows) => n + rows.length, 0)

/** A doc whose every local change is appended to `store` with its origin; returns the append promises. */
function trackedDoc(store: IdbStore, spaceId = SPACE) {
  const doc = new Y.Doc()
  const appends: Promise<void>[] = []
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    const local = origin !== 'remote'
    appends.push(
      store.append(
        spaceId,
        update,
        local ? { clientId: doc.clientID, clock: Y.getState(doc.store, doc.clientID) } : null,
      ),
    )
  })
  return { doc, appends, settle: () => Promise.all(appends) }
}

function docFrom(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return doc
}

const snapshotOf = (doc: Y.Doc) => ({
  text: doc.getText('t').toJSON(),
  map: doc.getMap('m').toJSON(),
  list: doc.getArray('a').toJSON(),
  sv: [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort(),
})

function edit(doc: Y.Doc, i: number): void {
  switch (i % 3) {
    case 0:
      doc.getText('t').insert(Math.min(i, doc.getText('t').length), `w${i} `)
      break
    case 1:
      doc.getMap('m').set(`k${i % 5}`, i)
      break
    default:
      doc.getArray('a').push([i])
  }
}

const space = (id: string, extra: Partial<SpaceRecord> = {}): SpaceRecord => ({
  id,
  name: `Space ${id}`,
  createdAt: 1,
  lastOpenedAt: 2,
  registered: true,
  ...extra,
})

async function expectKind(p: Promise<unknown>, kind: StoreError['kind']): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StoreError)
  expect((err as StoreError).kind).toBe(kind)
  return err as StoreError
}

describe('IdbStore', () => {
  it('[STORE-1] round trip: appended updates load back into the same document (before and after compaction)', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, settle } = trackedDoc(store)
    for (let i = 0; i < 30; i++) edit(doc, i)
    doc.transact(() => {
      edit(doc, 100)
      edit(doc, 101)
    })
    await settle()
    const loaded = await store.load(SPACE)
    expect(loaded.records).toBe(31)
    expect(snapshotOf(docFrom(loaded.updates))).toEqual(snapshotOf(doc))

    await store.compact(SPACE)
    const compacted = await store.load(SPACE)
    expect(compacted).toMatchObject({ records: 0 })
    expect(compacted.updates).toHaveLength(1)
    expect(snapshotOf(docFrom(compacted.updates))).toEqual(snapshotOf(doc))

    // a fresh connection (a reload) sees the same
    const reopened = await openStore(factory)
    expect(snapshotOf(docFrom((await reopened.load(SPACE)).updates))).toEqual(snapshotOf(doc))
    expect(await reopened.load('other-space')).toEqual({ updates: [], records: 0 })
  })

  it('[STORE-2] load writes nothing: 10 loads (and reads) leave record count and bytes unchanged', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    await store.putSpace(space(SPACE))
    const { doc, settle } = trackedDoc(store)
    for (let i = 0; i < 8; i++) edit(doc, i)
    await settle()
    await store.compact(SPACE)
    for (let i = 8; i < 12; i++) edit(doc, i)
    await settle()
    await store.setAcked(SPACE, Y.encodeStateVector(doc))
    const before = await dump(factory)
    for (let i = 0; i < 10; i++) {
      await store.load(SPACE)
      await store.pendingCount(SPACE)
      await store.listSpaces()
      await store.getSpace(SPACE)
      // compaction of an untouched, already compacted space must not write either
      if (i === 0) await store.compact('nothing-here')
    }
    const after = await dump(factory)
    expect(countOf(after)).toBe(countOf(before))
    expect(bytesOf(after)).toBe(bytesOf(before))
    expect(after).toEqual(before)
  })

  it('[STORE-3] appends of one turn share a transaction and resolve only once durable', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
    const { doc, settle } = trackedDoc(store)
    for (let i = 0; i < 20; i++) edit(doc, i) // 20 updates in one synchronous turn
    await settle()
    const writes = spy.mock.calls.filter((c) => c[1] === 'readwrite')
    expect(writes).toHaveLength(1)
    spy.mockRestore()

    // once append resolved, a different connection already sees the record
    const before = (await dump(factory)).updates!.length
    await store.append(SPACE, Y.encodeStateAsUpdate(new Y.Doc()), null)
    expect((await dump(factory)).updates!.length).toBe(before + 1)

    // a view into a larger buffer is stored as just its bytes
    const big = new Uint8Array(4096)
    const u = Y.encodeStateAsUpdate(doc)
    big.set(u, 100)
    await store.append('view', big.subarray(100, 100 + u.length), null)
    const stored = (await dump(factory)).updates!.find(
      ([, v]) => (v as { spaceId: string }).spaceId === 'view',
    )!
    expect((stored[1] as { update: Uint8Array }).update.buffer.byteLength).toBe(u.length)

    await expectKind(store.append(SPACE, 'nope' as unknown as Uint8Array, null), 'Failed')
    await expectKind(store.append(SPACE, u, { clientId: -5, clock: 1 }), 'Failed')
  })

  it('[STORE-4] compaction merges what it read and keeps later appends in the log', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, settle } = trackedDoc(store)
    for (let i = 0; i < 5; i++) edit(doc, i)
    await settle()
    await store.compact(SPACE)
    for (let i = 5; i < 8; i++) edit(doc, i)
    await settle()
    const d = await dump(factory)
    expect(d.snapshots).toHaveLength(1)
    expect(d.updates).toHaveLength(3)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))

    // second compaction folds the 3 later records into the snapshot
    await store.compact(SPACE)
    const d2 = await dump(factory)
    expect(d2.updates).toHaveLength(0)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))
  })

  it('[STORE-5] compaction is a no-op with no log record, or one record and no snapshot', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    await store.compact(SPACE)
    expect(countOf(await dump(factory))).toBe(0)
    await store.append(SPACE, Y.encodeStateAsUpdate(new Y.Doc()), null)
    const before = await dump(factory)
    await store.compact(SPACE)
    expect(await dump(factory)).toEqual(before)
  })

  it('[STORE-6] compaction racing an append from another tab: the append is merged or kept, never lost', async () => {
    for (const order of ['compact-first', 'append-first'] as const) {
      const factory = new IDBFactory()
      const a = await openStore(factory)
      const b = await openStore(factory)
      const ta = trackedDoc(a)
      for (let i = 0; i < 4; i++) edit(ta.doc, i)
      await ta.settle()
      const tb = trackedDoc(b)
      const racing: Promise<void>[] = []
      if (order === 'compact-first') racing.push(a.compact(SPACE))
      edit(tb.doc, 50)
      if (order === 'append-first') racing.push(a.compact(SPACE))
      await Promise.all([...racing, tb.settle()])
      const merged = docFrom([Y.encodeStateAsUpdate(ta.doc), Y.encodeStateAsUpdate(tb.doc)])
      expect(snapshotOf(docFrom((await a.load(SPACE)).updates))).toEqual(snapshotOf(merged))
      expect(await b.pendingCount(SPACE)).toBe(5)
    }
  })

  it('[STORE-19] compaction never holds back an append issued while it runs; two at once write one snapshot', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, settle } = trackedDoc(store)
    for (let i = 0; i < 150; i++) edit(doc, i)
    await settle()
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
    const order: string[] = []
    const compacted = store.compact(SPACE).then(() => order.push('compaction'))
    edit(doc, 150) // in the same task as the compaction's start
    await settle().then(() => order.push('append'))
    await compacted
    // the append committed before the compaction wrote: it waited for the read only, never the merge
    expect(order).toEqual(['append', 'compaction'])
    expect(spy.mock.calls.map((c) => c[1])).toEqual(['readonly', 'readwrite', 'readwrite'])
    spy.mockRestore()
    expect((await dump(factory)).updates).toHaveLength(1) // the append, never read, stays in the log
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))

    // two tabs compacting at once: the second to write finds its records gone and writes nothing
    const other = await openStore(factory)
    for (let i = 151; i < 160; i++) edit(doc, i)
    await settle()
    await Promise.all([store.compact(SPACE), other.compact(SPACE)])
    const d = await dump(factory)
    expect(d.updates).toHaveLength(0)
    expect(snapshotOf(docFrom((await other.load(SPACE)).updates))).toEqual(snapshotOf(doc))
    expect(await other.pendingCount(SPACE)).toBe(160)
  })

  it('[STORE-20] a compaction stores the document as Yjs encodes it: deleted text collected, a run of keystrokes one struct', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, settle } = trackedDoc(store)
    const keystrokes: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => keystrokes.push(u))
    const text = doc.getText('t')
    const typed = 'milk, bread, eggs and a dozen apples for the weekend; '.repeat(8)
    for (const ch of typed) text.insert(text.length, ch) // one record per keystroke
    const secret = 'SECRET-DELETED-WORDS'
    text.insert(0, secret)
    text.delete(0, secret.length)
    await settle()
    await store.compact(SPACE)
    const d = await dump(factory)
    expect(d.updates).toHaveLength(0)
    const snapshot = parseSnapshotRecord(d.snapshots![0]![1])
    if (!snapshot.ok) throw new Error(snapshot.reason)
    // as small as the whole document encoded once, and far below the merge of the keystrokes
    const whole = Y.encodeStateAsUpdate(doc)
    const mergedKeystrokes = Y.mergeUpdates(keystrokes)
    expect(snapshot.value.update.byteLength).toBeLessThanOrEqual(whole.byteLength)
    expect(snapshot.value.update.byteLength * 3).toBeLessThan(mergedKeystrokes.byteLength)
    expect(new TextDecoder().decode(snapshot.value.update)).not.toContain(secret)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))
    // and the local changes in it are still pending, each once (a deletion adds no clock of its own)
    expect(await store.pendingCount(SPACE)).toBe(typed.length + 1)

    // the records of a compaction are deleted by one key range only when no other record lies inside it
    text.insert(0, 'a')
    await settle()
    await store.append('space-b', Y.encodeStateAsUpdate(docFrom([])), null)
    text.insert(0, 'b')
    await settle()
    await store.compact(SPACE)
    const after = await dump(factory)
    expect(after.updates!.map(([, v]) => (v as { spaceId: string }).spaceId)).toEqual(['space-b'])
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))
  })

  it('[STORE-7] pendingCount drops with setAcked, survives compaction and reopen, never moves back', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, settle } = trackedDoc(store)
    for (let i = 0; i < 3; i++) edit(doc, i)
    await settle()
    const ackedAfter3 = Y.encodeStateVector(doc)
    for (let i = 3; i < 5; i++) edit(doc, i)
    // a remote update (origin null) is stored but never counted
    const remote = new Y.Doc()
    remote.getMap('m').set('remote', true)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote), 'remote')
    await settle()
    expect(await store.pendingCount(SPACE)).toBe(5)

    await store.setAcked(SPACE, ackedAfter3)
    expect(await store.pendingCount(SPACE)).toBe(2)

    await store.compact(SPACE)
    expect((await dump(factory)).updates).toHaveLength(0)
    expect(await store.pendingCount(SPACE)).toBe(2)
    const snap = parseSnapshotRecord((await dump(factory)).snapshots![0]![1])
    if (!snap.ok) throw new Error(snap.reason)
    expect(snap.value.pending.flatMap((p) => p.clocks)).toHaveLength(2) // only the unacked ones are carried

    edit(doc, 5)
    await settle()
    store.close()
    const reopened = await openStore(factory)
    expect(await reopened.pendingCount(SPACE)).toBe(3)
    await reopened.compact(SPACE)
    expect(await reopened.pendingCount(SPACE)).toBe(3)

    await reopened.setAcked(SPACE, Y.encodeStateVector(doc))
    expect(await reopened.pendingCount(SPACE)).toBe(0)
    // a stale ack (e.g. from another tab) does not resurrect pending changes
    await reopened.setAcked(SPACE, ackedAfter3)
    expect(await reopened.pendingCount(SPACE)).toBe(0)
    expect((await reopened.getAcked(SPACE)).get(doc.clientID)).toBe(Y.getState(doc.store, doc.clientID))
    await expectKind(reopened.setAcked(SPACE, new Uint8Array([200])), 'Failed')
  })

  it('[STORE-8] corrupt log records and snapshots are skipped, reported and left in storage', async () => {
    const factory = new IDBFactory()
    const onCorrupt = vi.fn()
    const store = await openStore(factory, { onCorrupt })
    const { doc, settle } = trackedDoc(store)
    edit(doc, 0)
    await settle()
    const raw = await rawDb(factory)
    const badKeys = [
      await raw.add('updates', 'not an object'),
      await raw.add('updates', { spaceId: SPACE, update: [1, 2, 3], clientId: -1, clock: 0 }),
      await raw.add('updates', {
        spaceId: SPACE,
        update: new Uint8Array([255, 255, 255]),
        clientId: -1,
        clock: 0,
      }),
    ]
    // 'not an object' has no spaceId so it is not in the index: only the two indexed ones are this space's
    edit(doc, 1)
    edit(doc, 2)
    await settle()

    const loaded = await store.load(SPACE)
    expect(snapshotOf(docFrom(loaded.updates))).toEqual(snapshotOf(doc))
    expect(loaded.records).toBe(3)
    expect(onCorrupt.mock.calls.map((c: unknown[]) => c[1])).toEqual(badKeys.slice(1))
    expect(onCorrupt.mock.calls[0]![0]).toBe(SPACE)
    expect(String(onCorrupt.mock.calls[0]![2])).toMatch(/Uint8Array/)
    expect(String(onCorrupt.mock.calls[1]![2])).toMatch(/decode/)

    // compaction merges the valid ones and leaves the corrupt ones in the log
    onCorrupt.mockClear()
    await store.compact(SPACE)
    expect(onCorrupt).toHaveBeenCalledTimes(2)
    const keysLeft = (await dump(factory)).updates!.map(([k]) => k)
    expect(keysLeft).toEqual(badKeys)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))

    // a corrupt snapshot: load skips it, compaction refuses to overwrite it
    await raw.put('snapshots', { spaceId: 'broken', update: new Uint8Array([1, 1, 1]) })
    await raw.add('updates', {
      spaceId: 'broken',
      update: Y.encodeStateAsUpdate(doc),
      clientId: -1,
      clock: 0,
    })
    await raw.add('updates', {
      spaceId: 'broken',
      update: Y.encodeStateAsUpdate(doc),
      clientId: -1,
      clock: 0,
    })
    onCorrupt.mockClear()
    const broken = await store.load('broken')
    expect(broken.updates).toHaveLength(2)
    expect(onCorrupt).toHaveBeenCalledWith('broken', 'broken', expect.stringMatching(/snapshot/))
    const before = await dump(factory)
    await store.compact('broken')
    expect(await dump(factory)).toEqual(before)
  })

  it('[STORE-9] catalog: put/get/list; corrupt records are Corrupt for getSpace and skipped by listSpaces', async () => {
    const factory = new IDBFactory()
    const onCorrupt = vi.fn()
    const store = await openStore(factory, { onCorrupt })
    const offline = space('b', { registered: false, writeToken: 'w', readToken: 'r' })
    await store.putSpace(space('a'))
    await store.putSpace({ ...offline, junk: () => 1 } as SpaceRecord)
    expect(await store.getSpace('b')).toEqual(offline) // unknown fields are not stored
    expect(await store.getSpace('zzz')).toBeUndefined()
    expect((await store.listSpaces()).map((s) => s.id)).toEqual(['a', 'b'])

    await store.putSpace({ ...offline, registered: true, lastOpenedAt: 10 })
    expect(await store.getSpace('b')).toMatchObject({ registered: true, lastOpenedAt: 10 })

    const raw = await rawDb(factory)
    await raw.put('catalog', { id: 'c', name: 42 })
    await expectKind(store.getSpace('c'), 'Corrupt')
    expect((await store.listSpaces()).map((s) => s.id)).toEqual(['a', 'b'])
    expect(onCorrupt).toHaveBeenCalledWith('c', 'c', expect.stringMatching(/name/))
    expect(await raw.get('catalog', 'c')).toBeDefined() // reported, not deleted
    await expectKind(store.putSpace({ id: 'd' } as SpaceRecord), 'Corrupt')
  })

  it('[STORE-10] removeSpace removes catalog, log, snapshot and meta of that space only', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    for (const id of ['keep', 'drop']) {
      await store.putSpace(space(id))
      const { doc, settle } = trackedDoc(store, id)
      for (let i = 0; i < 4; i++) edit(doc, i)
      await settle()
      await store.compact(id)
      edit(doc, 9)
      await settle()
      await store.setAcked(id, Y.encodeStateVector(doc))
    }
    const before = await dump(factory)
    await store.removeSpace('drop')
    const after = await dump(factory)
    const only = (d: Dump, id: string) =>
      Object.fromEntries(
        Object.entries(d).map(([name, rows]) => [
          name,
          rows.filter(([k, v]) => k === id || (v as { spaceId?: string }).spaceId === id),
        ]),
      )
    expect(countOf(only(after, 'drop'))).toBe(0)
    expect(only(after, 'keep')).toEqual(only(before, 'keep'))
    expect(countOf(only(before, 'drop'))).toBe(4) // catalog + snapshot + 1 log + meta were there
    expect(await store.load('drop')).toEqual({ updates: [], records: 0 })
    expect(await store.getSpace('drop')).toBeUndefined()
  })

  it('[STORE-11] quota exceeded on put (thrown synchronously): StoreError QuotaExceeded, nothing damaged', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, appends, settle } = trackedDoc(store)
    for (let i = 0; i < 4; i++) edit(doc, i)
    await settle()
    await store.compact(SPACE)
    edit(doc, 4)
    await settle()
    const before = await dump(factory)
    const expected = snapshotOf(doc)

    const original: IDBObjectStore['put'] = Reflect.get(IDBObjectStore.prototype, 'put')
    let calls = 0
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      // let the first put of a transaction through, then fail: the batch must not commit half of itself
      if (++calls > 1) throw new DOMException('disk full', 'QuotaExceededError')
      return original.apply(this, args)
    })
    const n = appends.length
    for (let i = 10; i < 13; i++) edit(doc, i) // three appends in one turn → one batch
    const results = await Promise.allSettled(appends.slice(n))
    expect(results.map((r) => r.status === 'rejected' && (r.reason as StoreError).kind)).toEqual([
      'QuotaExceeded',
      'QuotaExceeded',
      'QuotaExceeded',
    ])
    calls = 1
    await expectKind(store.compact(SPACE), 'QuotaExceeded') // the snapshot put fails → nothing deleted
    calls = 1
    await expectKind(store.putSpace(space('x')), 'QuotaExceeded')
    vi.restoreAllMocks()

    expect(await dump(factory)).toEqual(before)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(expected)
    // the store keeps working once space is available again
    await store.append(SPACE, Y.encodeStateAsUpdate(doc), null)
    await store.compact(SPACE)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(snapshotOf(doc))
  })

  it('[STORE-12] quota exceeded at commit (transaction aborts): append and compact leave stored data intact', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, appends, settle } = trackedDoc(store)
    for (let i = 0; i < 6; i++) edit(doc, i)
    await settle()
    const before = await dump(factory)
    const expected = snapshotOf(doc)
    const pending = await store.pendingCount(SPACE)

    const original: IDBObjectStore['put'] = Reflect.get(IDBObjectStore.prototype, 'put')
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      const request = original.apply(this, args)
      // what a browser does when the commit does not fit: abort the transaction with QuotaExceededError
      const tx = this.transaction as unknown as { _abort(name: string): void }
      request.addEventListener('success', () => tx._abort('QuotaExceededError'))
      return request
    })
    await expectKind(store.compact(SPACE), 'QuotaExceeded')
    const n = appends.length
    edit(doc, 6)
    edit(doc, 7)
    const results = await Promise.allSettled(appends.slice(n))
    expect(results.map((r) => r.status === 'rejected' && (r.reason as StoreError).kind)).toEqual([
      'QuotaExceeded',
      'QuotaExceeded',
    ])
    vi.restoreAllMocks()

    expect(await dump(factory)).toEqual(before)
    expect(snapshotOf(docFrom((await store.load(SPACE)).updates))).toEqual(expected)
    expect(await store.pendingCount(SPACE)).toBe(pending)
  })

  it('[STORE-18] a long offline session keeps its pending changes in a couple of bytes each; older snapshots still read', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const { doc, settle } = trackedDoc(store)
    const text = doc.getText('t')
    for (let i = 0; i < 2000; i++) text.insert(i, 'x') // one change per keystroke, never acknowledged
    await settle()
    await store.compact(SPACE)
    expect(await store.pendingCount(SPACE)).toBe(2000)
    const stored = (await dump(factory)).snapshots![0]![1] as { pending: { clocks: Uint8Array }[] }
    const pendingBytes = stored.pending.reduce((n, p) => n + p.clocks.length, 0)
    expect(pendingBytes).toBeLessThanOrEqual(2 * 2000) // one varint delta per change
    // a snapshot written by the earlier format: one { clientId, clock } object per change
    const db = await rawDb(factory)
    const legacy = { ...stored, pending: [1, 2, 3].map((clock) => ({ clientId: doc.clientID, clock })) }
    await db.put('snapshots', legacy)
    db.close()
    expect(await store.pendingCount(SPACE)).toBe(3)
    await store.setAcked(SPACE, Y.encodeStateVector(doc))
    await store.compact(SPACE) // nothing in the log: a no-op that leaves the legacy record as it is
    expect(await store.pendingCount(SPACE)).toBe(0)
  })

  it('[STORE-13] versionchange: another connection upgrading triggers onVersionChange; later calls reject', async () => {
    const factory = new IDBFactory()
    const onVersionChange = vi.fn()
    const store = await openStore(factory, { onVersionChange })
    await store.append(SPACE, Y.encodeStateAsUpdate(new Y.Doc()), null)
    const upgraded = await wrap(factory.open('converge', 2)) // resolves only because the store closed
    raws.push(upgraded!)
    expect(onVersionChange).toHaveBeenCalledTimes(1)
    await expectKind(store.load(SPACE), 'VersionChange')
    await expectKind(store.append(SPACE, new Uint8Array([0, 0]), null), 'VersionChange')
    await expectKind(store.listSpaces(), 'VersionChange')

    // old code meeting the newer database on open
    await expectKind(IdbStore.open({ indexedDB: factory }), 'VersionChange')
  })

  it('[STORE-14] unavailable IndexedDB: missing factory, open throwing, open erroring, connection force-closed', async () => {
    await expectKind(IdbStore.open({ indexedDB: undefined }), 'Unavailable')
    await expectKind(IdbStore.open({ indexedDB: null }), 'Unavailable')
    const throwing = {
      open: () => {
        throw new DOMException('private mode', 'InvalidStateError')
      },
    } as unknown as IDBFactory
    await expectKind(IdbStore.open({ indexedDB: throwing }), 'Unavailable')
    const erroring = {
      open: () => {
        const request = { error: null as DOMException | null } as unknown as IDBOpenDBRequest & {
          error: DOMException
        }
        // fails after the caller set its handlers, as IndexedDB does
        queueMicrotask(() => {
          request.error = new DOMException('storage disabled', 'UnknownError')
          request.onerror?.(new Event('error'))
        })
        return request
      },
    } as unknown as IDBFactory
    const err = await expectKind(IdbStore.open({ indexedDB: erroring }), 'Unavailable')
    expect((err.cause as DOMException).name).toBe('UnknownError')

    const factory = new IDBFactory()
    const store = await openStore(factory)
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
    await store.load(SPACE)
    forceCloseDatabase(spy.mock.contexts[0] as never) // what "clear site data" does to an open connection
    // once the connection's close event arrived, every call says Unavailable
    await vi.waitFor(() => expectKind(store.load(SPACE), 'Unavailable'))
  })

  it('[STORE-15] close flushes queued appends; later calls reject with Failed', async () => {
    const factory = new IDBFactory()
    const store = await openStore(factory)
    const update = Y.encodeStateAsUpdate(new Y.Doc())
    const queued = store.append(SPACE, update, null) // not yet flushed
    store.close()
    await queued
    await expectKind(store.load(SPACE), 'Failed')
    const reopened = await openStore(factory)
    expect((await reopened.load(SPACE)).records).toBe(1)
  })
})
