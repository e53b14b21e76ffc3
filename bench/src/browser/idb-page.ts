/**
 * Runs in Chromium (bundled by sections/idb.ts): persists the automerge-paper trace keystroke by
 * keystroke with Converge's IdbStore (compacting every 200 writes, as SpaceSession does) or with
 * y-indexeddb, and counts IndexedDB readwrite transactions and the bytes handed to put/add.
 */
// the store module alone: the package's index also brings the merge engines (Automerge's wasm)
import { IdbStore } from '../../../packages/sync-client/src/store/index.js'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'

type Kind = 'IdbStore' | 'y-indexeddb'
type Patch = [number, number, string]

const SPACE = 'paper'
const COMPACT_EVERY = 200

// ---------------------------------------------------------------- IndexedDB instrumentation
let transactions = 0
let bytesWritten = 0
let pending = 0
let drained: (() => void)[] = []

const sizeOf = (v: unknown): number => {
  if (v instanceof Uint8Array) return v.byteLength
  if (v instanceof ArrayBuffer) return v.byteLength
  if (typeof v === 'string') return v.length
  if (typeof v === 'number' || typeof v === 'boolean') return 8
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + sizeOf(x), 0)
  if (v && typeof v === 'object') return Object.values(v).reduce((n: number, x) => n + sizeOf(x) + 8, 0)
  return 0
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
const origTransaction = IDBDatabase.prototype.transaction
IDBDatabase.prototype.transaction = function (
  this: IDBDatabase,
  ...args: Parameters<IDBDatabase['transaction']>
) {
  const tx = origTransaction.apply(this, args)
  if (args[1] === 'readwrite') {
    transactions++
    pending++
    const done = (): void => {
      if (--pending === 0) {
        const d = drained
        drained = []
        d.forEach((f) => f())
      }
    }
    tx.addEventListener('complete', done)
    tx.addEventListener('abort', done)
    tx.addEventListener('error', done)
  }
  return tx
} as IDBDatabase['transaction']
for (const m of ['put', 'add'] as const) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with call below
  const orig = IDBObjectStore.prototype[m]
  IDBObjectStore.prototype[m] = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    bytesWritten += sizeOf(value)
    return orig.call(this, value, key)
  }
}

/** Resolves when every readwrite transaction issued so far (including ones a microtask issues) completed. */
async function durable(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve()
  if (pending === 0) return
  await new Promise<void>((resolve) => drained.push(resolve))
}

// ---------------------------------------------------------------- the stores
interface Writer {
  readonly doc: Y.Doc
  close(): Promise<void>
}

async function openWriter(kind: Kind, db: string, doc: Y.Doc): Promise<Writer> {
  if (kind === 'y-indexeddb') {
    const p = new IndexeddbPersistence(db, doc)
    await p.whenSynced
    return { doc, close: () => p.destroy() }
  }
  const store = await IdbStore.open({ dbName: db })
  for (const u of (await store.load(SPACE)).updates) Y.applyUpdate(doc, u, 'idb-restore')
  let writes = 0
  let chain = Promise.resolve()
  const onUpdate = (u: Uint8Array, origin: unknown): void => {
    if (origin === 'idb-restore') return
    const clock = Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) ?? 0
    void store.append(SPACE, u, { clientId: doc.clientID, clock })
    if (++writes % COMPACT_EVERY === 0) chain = chain.then(() => store.compact(SPACE))
  }
  doc.on('update', onUpdate)
  return {
    doc,
    close: async () => {
      doc.off('update', onUpdate)
      await chain
      await durable()
      store.close()
    },
  }
}

// ---------------------------------------------------------------- the page's API (called by Playwright)
let writer: Writer | null = null
let typed = 0
let patches: Patch[] = []
const doc = new Y.Doc()
const text = doc.getText('body:paper')

const apply = (p: Patch): void => {
  if (p[1] > 0) text.delete(p[0], p[1])
  if (p[2]) text.insert(p[0], p[2])
}

const api = {
  setPatches(ps: Patch[]): void {
    patches = patches.concat(ps)
  },
  async start(kind: Kind, db: string): Promise<void> {
    writer = await openWriter(kind, db, doc)
  },
  /** Types `n` keystrokes one at a time, each after the previous is durable: keystroke → durable, ms. */
  async typeMeasured(n: number): Promise<{ latencies: number[]; transactions: number; bytes: number }> {
    const t0 = transactions
    const b0 = bytesWritten
    const latencies: number[] = []
    for (let i = 0; i < n; i++) {
      const start = performance.now()
      apply(patches[typed++]!)
      await durable()
      latencies.push(performance.now() - start)
    }
    return { latencies, transactions: transactions - t0, bytes: bytesWritten - b0 }
  },
  /**
   * Types up to keystroke `until` in bursts of 100 keystrokes per task: one update each, or with
   * `grouped` one update per burst (a paste-sized change; what the stores then hold is the same text).
   */
  async typeBulk(until: number, grouped = false): Promise<{ transactions: number; bytes: number }> {
    const t0 = transactions
    const b0 = bytesWritten
    while (typed < until) {
      const end = Math.min(until, typed + 100)
      const burst = (): void => {
        while (typed < end) apply(patches[typed++]!)
      }
      if (grouped) doc.transact(burst)
      else burst()
      await new Promise((r) => setTimeout(r, 0))
    }
    await durable()
    return { transactions: transactions - t0, bytes: bytesWritten - b0 }
  },
  async stop(): Promise<void> {
    await writer?.close()
    writer = null
  },
  /** In a fresh page: open the store and rebuild the document; ms and the text length. */
  async coldOpen(kind: Kind, db: string): Promise<{ ms: number; length: number }> {
    const start = performance.now()
    const d = new Y.Doc()
    const w = await openWriter(kind, db, d)
    const length = d.getText('body:paper').length
    const ms = performance.now() - start
    await w.close()
    d.destroy()
    return { ms, length }
  },
  /** Bytes held in every object store of the database (values' payload sizes). */
  async storedBytes(db: string): Promise<number> {
    const conn = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(db)
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error ?? new Error('open failed'))
    })
    let total = 0
    for (const name of Array.from(conn.objectStoreNames)) {
      const values = await new Promise<unknown[]>((resolve, reject) => {
        const r = conn.transaction(name, 'readonly').objectStore(name).getAll()
        r.onsuccess = () => resolve(r.result as unknown[])
        r.onerror = () => reject(r.error ?? new Error('getAll failed'))
      })
      total += values.reduce((n: number, v) => n + sizeOf(v), 0)
    }
    conn.close()
    return total
  },
}

;(globalThis as unknown as { bench: typeof api }).bench = api
