/**
 * Two IdbStore connections on one fake IndexedDB factory = two tabs of one browser, each with its own
 * Y.Doc, appending, relaying, acknowledging and compacting concurrently in random interleavings.
 * Rule ids STORE-n.
 *
 * Reproduce a failure: fast-check prints `{ seed: S, path: "P", endOnFailure: true }`; pass it as the
 * second argument of `fc.assert`.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import * as fc from 'fast-check'
import { wrap } from 'idb'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { IdbStore, type PendingChange, parseSnapshotRecord } from '../src/store/index.js'

const SPACE = 's'

type Cmd =
  | { tab: 0 | 1; op: 'edit'; n: number; delay: number }
  | { tab: 0 | 1; op: 'relay'; delay: number } // receive the other tab's changes (BroadcastChannel) and store them
  | { tab: 0 | 1; op: 'compact'; delay: number }
  | { tab: 0 | 1; op: 'ack'; delay: number } // the server confirmed this tab's current state vector

const tab = fc.constantFrom<0 | 1>(0, 1)
const delay = fc.nat(4)
const cmd = (withAcks: boolean): fc.Arbitrary<Cmd> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ tab, op: fc.constant('edit' as const), n: fc.nat(1000), delay }) },
    { weight: 1, arbitrary: fc.record({ tab, op: fc.constant('relay' as const), delay }) },
    { weight: 2, arbitrary: fc.record({ tab, op: fc.constant('compact' as const), delay }) },
    { weight: withAcks ? 1 : 0, arbitrary: fc.record({ tab, op: fc.constant('ack' as const), delay }) },
  )

// Node's setImmediate (this package compiles without Node types): fake-indexeddb advances one step per call.
const { setImmediate: nextTask } = globalThis as unknown as { setImmediate: (cb: () => void) => void }

/** Waits `n` macrotasks (each lets fake-indexeddb advance its transactions by one step). */
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => nextTask(r))
}

interface Tab {
  store: IdbStore
  doc: Y.Doc
  edits: PendingChange[]
  ops: Promise<void>[]
}

async function openTab(factory: IDBFactory): Promise<Tab> {
  const store = await IdbStore.open({ indexedDB: factory })
  const doc = new Y.Doc()
  const t: Tab = { store, doc, edits: [], ops: [] }
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === 'relay') {
      t.ops.push(store.append(SPACE, update, null))
    } else {
      const change = { clientId: doc.clientID, clock: Y.getState(doc.store, doc.clientID) }
      t.edits.push(change)
      t.ops.push(store.append(SPACE, update, change))
    }
  })
  return t
}

function apply(t: Tab, other: Tab, c: Cmd, acked: Map<number, number>): void {
  switch (c.op) {
    case 'edit':
      if (c.n % 2) t.doc.getArray<number>('a').insert(c.n % (t.doc.getArray('a').length + 1), [c.n])
      else t.doc.getMap<number>('m').set(`k${c.n % 7}`, c.n)
      break
    case 'relay':
      Y.applyUpdate(t.doc, Y.encodeStateAsUpdate(other.doc, Y.encodeStateVector(t.doc)), 'relay')
      break
    case 'compact':
      t.ops.push(t.store.compact(SPACE))
      break
    case 'ack': {
      // the server acknowledges what this tab has *durably* sent: model it as its state right now, but
      // only once this tab's earlier appends are stored (a server can't ack what it hasn't received).
      const sv = Y.encodeStateVector(t.doc)
      for (const [client, clock] of Y.decodeStateVector(sv))
        acked.set(client, Math.max(clock, acked.get(client) ?? 0))
      const earlier = [...t.ops]
      t.ops.push(Promise.allSettled(earlier).then(() => t.store.setAcked(SPACE, sv)))
      break
    }
  }
}

/**
 * Unacked local (clientId ≥ 0) changes in storage: log records plus snapshot `pending`, as stored — one
 * entry per stored record, so a duplicate shows up twice.
 */
async function storedUnacked(factory: IDBFactory, acked: Map<number, number>): Promise<string[]> {
  const db = (await wrap(factory.open('converge')))!
  const updates = (await db.getAll('updates')) as { clientId: number; clock: number }[]
  const snapshots = (await db.getAll('snapshots')).map((raw) => {
    const parsed = parseSnapshotRecord(raw)
    if (!parsed.ok) throw new Error(parsed.reason)
    return parsed.value
  })
  db.close()
  const fromSnapshots: PendingChange[] = snapshots.flatMap((s) =>
    s.pending.flatMap(({ clientId, clocks }) => clocks.map((clock) => ({ clientId, clock }))),
  )
  return [...updates.filter((u) => u.clientId >= 0), ...fromSnapshots]
    .filter((c) => c.clock > (acked.get(c.clientId) ?? 0))
    .map((c) => `${c.clientId}:${c.clock}`)
    .sort()
}

async function run(cmds: Cmd[]): Promise<void> {
  const factory = new IDBFactory()
  const tabs = [await openTab(factory), await openTab(factory)] as const
  const acked = new Map<number, number>()
  // every command starts after its own random delay, so transactions of the two connections interleave
  await Promise.all(
    cmds.map(async (c, i) => {
      await ticks(c.delay + (i % 3 === 0 ? 0 : 1))
      apply(tabs[c.tab], tabs[1 - c.tab]!, c, acked)
    }),
  )
  for (const t of tabs) await Promise.all(t.ops)
  const reader = await IdbStore.open({ indexedDB: factory })
  try {
    const expected = new Y.Doc()
    for (const t of tabs) Y.applyUpdate(expected, Y.encodeStateAsUpdate(t.doc))
    const loaded = new Y.Doc()
    for (const u of (await reader.load(SPACE)).updates) Y.applyUpdate(loaded, u)
    expect(loaded.getArray('a').toJSON()).toEqual(expected.getArray('a').toJSON())
    expect(loaded.getMap('m').toJSON()).toEqual(expected.getMap('m').toJSON())
    expect(Y.encodeStateVector(loaded)).toEqual(Y.encodeStateVector(expected))

    // exactly once: every local change is stored once (log or snapshot pending), minus the acked ones
    const allEdits = tabs.flatMap((t) => t.edits)
    const unacked = allEdits.filter((e) => e.clock > (acked.get(e.clientId) ?? 0))
    expect(await storedUnacked(factory, acked)).toEqual(unacked.map((c) => `${c.clientId}:${c.clock}`).sort())
    expect(await reader.pendingCount(SPACE)).toBe(unacked.length)
    for (const t of tabs) expect(await t.store.pendingCount(SPACE)).toBe(unacked.length)
  } finally {
    reader.close()
    for (const t of tabs) t.store.close()
  }
}

describe('IdbStore across tabs', () => {
  it('[STORE-16] two tabs appending, relaying and compacting concurrently lose no update and duplicate none', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd(false), { minLength: 1, maxLength: 30 }), (cmds) => run(cmds)),
      { numRuns: 60 },
    )
  })

  it('[STORE-17] ... with acknowledgements arriving concurrently: pendingCount counts exactly the unacked changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd(true), { minLength: 1, maxLength: 30 }), (cmds) => run(cmds)),
      { numRuns: 60 },
    )
  })
})
