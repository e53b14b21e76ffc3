// @ts-check
/**
 * The SQLite append transaction on a worker thread: its fsync (synchronous=FULL) blocks this thread,
 * not the server's event loop, so relays and reads go on while a commit is being made durable.
 * Plain JavaScript so that it loads in any runtime without a TypeScript loader.
 * Messages: { id, batch: [{ spaceId, updates: Uint8Array[] }] } → { id, seqs } | { id, error, code };
 *           { id, close: true } → { id }.
 */
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

if (!parentPort) throw new Error('append-worker runs as a worker thread')
const port = parentPort
// workerData is `any` by its typing; the JSDoc cast states its shape (set by sqlite-persistence.ts)
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
const { file, busyTimeoutMs } = /** @type {{ file: string, busyTimeoutMs: number }} */ (workerData)
const db = new Database(file, { timeout: busyTimeoutMs })
db.pragma(`busy_timeout = ${busyTimeoutMs}`)
db.pragma('synchronous = FULL') // per connection; WAL is a property of the file, set by the opener
const insert = db.prepare('INSERT INTO updates (space_id, data) VALUES (?, ?)')
const appendAll = db.transaction(
  /** @param {{ spaceId: string, updates: Uint8Array[] }[]} batch */
  (batch) =>
    batch.map(({ spaceId, updates }) => {
      let seq = 0
      for (const data of updates) seq = Number(insert.run(spaceId, data).lastInsertRowid)
      return seq
    }),
)

port.on(
  'message',
  /** @param {{ id: number, batch?: { spaceId: string, updates: Uint8Array[] }[], close?: boolean }} m */
  (m) => {
    if (m.close) {
      db.close()
      port.postMessage({ id: m.id })
      return
    }
    try {
      port.postMessage({ id: m.id, seqs: appendAll.immediate(m.batch ?? []) })
    } catch (e) {
      const err = /** @type {{ message?: string, code?: string }} */ (e)
      port.postMessage({ id: m.id, error: String(err?.message ?? e), code: err?.code })
    }
  },
)
