import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { StorageError } from '@converge/server-core'
import {
  runPersistenceSuite,
  runSpaceHistorySuite,
  runSpaceRegistrySuite,
  runTripLedgerSuite,
} from '@converge/server-core/testing'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { crashUpdate } from '../test/crash-update.js'
import { MIGRATIONS, SCHEMA_VERSION, SqlitePersistence } from './index.js'

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'converge-sqlite-'))
}

const setup = () => {
  const dir = tempDir()
  const file = path.join(dir, 'converge.db')
  let current = new SqlitePersistence({ file })
  return Promise.resolve({
    persistence: current,
    reopen: async () => {
      await current.close()
      current = new SqlitePersistence({ file })
      return current
    },
    cleanup: async () => {
      await current.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  })
}

runPersistenceSuite('sqlite', setup)
runSpaceRegistrySuite('sqlite', setup)
runTripLedgerSuite('sqlite', async () => {
  const { persistence, reopen, cleanup } = await setup()
  return { ledger: persistence, reopen, cleanup }
})
runSpaceHistorySuite('sqlite', async () => {
  const { persistence, reopen, cleanup } = await setup()
  let current = persistence
  return {
    history: persistence,
    reopen: async () => (current = await reopen()),
    close: () => current.close(),
    cleanup,
  }
})

describe('SqlitePersistence', () => {
  let dir: string
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('SQLITE-1 open fails with a StorageError naming the path when the directory does not exist', () => {
    const file = path.join(dir, 'missing', 'converge.db')
    let error: unknown
    try {
      new SqlitePersistence({ file })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(StorageError)
    expect((error as Error).message).toContain(file)
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false)
  })

  it('SQLITE-2 open fails with a StorageError naming the path on a file that is not a database, leaving it untouched', () => {
    const file = path.join(dir, 'garbage.db')
    const garbage = Buffer.alloc(16 * 1024)
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff
    fs.writeFileSync(file, garbage)

    expect(() => new SqlitePersistence({ file })).toThrow(StorageError)
    expect(() => new SqlitePersistence({ file })).toThrow(file)
    expect(fs.readFileSync(file).equals(garbage)).toBe(true)
    expect(fs.readdirSync(dir)).toEqual(['garbage.db'])
  })

  it('SQLITE-3 sets WAL, synchronous=FULL and the schema version', async () => {
    const file = path.join(dir, 'converge.db')
    const p = new SqlitePersistence({ file })
    await p.append('s', [new Uint8Array([1])])
    await p.close()
    const db = new Database(file, { readonly: true })
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    } finally {
      db.close()
    }
    const reopened = new SqlitePersistence({ file })
    const pragmas = (reopened as unknown as { db: Database.Database }).db
    expect(pragmas.pragma('synchronous', { simple: true })).toBe(2) // FULL
    await reopened.close()
  })

  it('SQLITE-4 refuses a database whose schema is newer than this code', () => {
    const file = path.join(dir, 'future.db')
    const db = new Database(file)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    expect(() => new SqlitePersistence({ file })).toThrow(/newer than this code/)
  })

  it('SQLITE-5 operations after close reject with StorageError; close twice is fine', async () => {
    const p = new SqlitePersistence({ file: path.join(dir, 'converge.db') })
    await p.close()
    await p.close()
    await expect(p.load('s')).rejects.toBeInstanceOf(StorageError)
    await expect(p.append('s', [new Uint8Array([1])])).rejects.toBeInstanceOf(StorageError)
    await expect(p.compact('s', new Uint8Array([1]), 0)).rejects.toBeInstanceOf(StorageError)
  })

  it('SQLITE-6 compaction past the last position is refused; one older than the snapshot is ignored', async () => {
    const p = new SqlitePersistence({ file: path.join(dir, 'converge.db') })
    const first = await p.append('s', [new Uint8Array([1])])
    const second = await p.append('s', [new Uint8Array([2])])
    await expect(p.compact('s', new Uint8Array([9]), second + 1)).rejects.toBeInstanceOf(RangeError)
    await p.compact('s', new Uint8Array([8]), second)
    await p.compact('s', new Uint8Array([7]), first)
    const space = await p.load('s')
    expect(Array.from(space.snapshot ?? [])).toEqual([8])
    expect(space.updates).toEqual([])
    await p.close()
  })

  it('SQLITE-7 every append reported before a SIGKILL is there after reopening', async () => {
    const file = path.join(dir, 'crash.db')
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join('test', 'crash-child.ts'), file, '200'],
      {
        cwd: packageDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const reported: { i: number; seq: number }[] = []
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    let pending = ''
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child.on('exit', (_code, signal) => resolve(signal))
    })
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const [i, seq] = line.split(' ').map(Number)
        reported.push({ i: i!, seq: seq! })
      }
      if (reported.length >= 100 && child.exitCode === null && !child.killed) child.kill('SIGKILL')
    })
    // Never leave the child behind, even if it stalls before reporting 100 appends.
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const signal = await exited
    clearTimeout(guard)
    expect(signal, stderr).toBe('SIGKILL')
    expect(reported.length).toBeGreaterThanOrEqual(100)
    expect(reported.length).toBeLessThan(200)

    const p = new SqlitePersistence({ file })
    const space = await p.load('crash')
    await p.close()
    const stored = new Set(space.updates.map((u) => new DataView(u.buffer, u.byteOffset).getUint32(0)))
    const losses = reported.filter(({ i }) => !stored.has(i))
    expect(losses).toEqual([])
    // What is stored is exactly the first appends, in order, each intact.
    space.updates.forEach((u, i) => expect(Array.from(u)).toEqual(Array.from(crashUpdate(i))))
    expect(space.lastSeq).toBeGreaterThanOrEqual(reported.at(-1)!.seq)
  }, 20_000)

  it('SQLITE-9 storageBytes counts the database file, its write-ahead log and index, and grows with what is appended', async () => {
    const file = path.join(dir, 'size.db')
    const p = new SqlitePersistence({ file })
    const onDisk = (): number =>
      ['', '-wal', '-shm'].reduce((n, s) => n + (fs.existsSync(file + s) ? fs.statSync(file + s).size : 0), 0)
    const before = await p.storageBytes()
    expect(before).toBe(onDisk())
    await p.append('s', [new Uint8Array(256 * 1024).fill(7)])
    const after = await p.storageBytes()
    expect(after).toBe(onDisk())
    expect(after).toBeGreaterThan(before + 256 * 1024)
    await p.close()
  })

  it('SQLITE-9 storageBytes counts the saved versions too: they are in the same file', async () => {
    const file = path.join(dir, 'versions.db')
    const p = new SqlitePersistence({ file })
    const before = await p.storageBytes()
    const id = await p.saveVersion('s', {
      at: 1,
      changes: 1,
      authors: ['Ana'],
      state: new Uint8Array(256 * 1024).fill(9),
    })
    expect(await p.storageBytes()).toBeGreaterThan(before + 256 * 1024)
    expect((await p.version('s', id))?.bytes).toBe(256 * 1024)
    await p.close()
  })

  it('SQLITE-8 a database from before link generations migrates: its spaces keep their data and registrations, at generation 0', async () => {
    const file = path.join(dir, 'schema2.db')
    const db = new Database(file)
    for (const step of MIGRATIONS.slice(0, 2)) step(db)
    db.pragma('user_version = 2')
    db.prepare('INSERT INTO spaces (space_id, created_at) VALUES (?, ?)').run('old', 1)
    db.prepare('INSERT INTO updates (space_id, data) VALUES (?, ?)').run('old', Buffer.from([1, 2, 3]))
    db.close()
    const p = new SqlitePersistence({ file })
    expect(Array.from((await p.load('old')).updates[0] ?? [])).toEqual([1, 2, 3])
    expect(await p.registerSpace('old')).toBe(false)
    expect(await p.linkGeneration('old')).toBe(0)
    expect(await p.bumpLinkGeneration('old')).toBe(1)
    await p.close()
    const check = new Database(file, { readonly: true })
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    check.close()
  })

  it('SQLITE-10 a database from before engines migrates: its spaces are Yjs spaces; a stored engine the code does not know is a StorageError', async () => {
    const file = path.join(dir, 'schema3.db')
    const db = new Database(file)
    for (const step of MIGRATIONS.slice(0, 3)) step(db)
    db.pragma('user_version = 3')
    db.prepare('INSERT INTO spaces (space_id, created_at, link_gen) VALUES (?, ?, ?)').run('old', 1, 2)
    db.close()
    const p = new SqlitePersistence({ file })
    expect(await p.spaceEngine('old')).toBe('yjs')
    expect(await p.linkGeneration('old')).toBe(2)
    expect(await p.registerSpace('new', 'automerge')).toBe(true)
    await p.close()
    const damage = new Database(file)
    damage.prepare("UPDATE spaces SET engine = 'crdt-x' WHERE space_id = 'new'").run()
    damage.close()
    const q = new SqlitePersistence({ file })
    await expect(q.spaceEngine('new')).rejects.toThrow(/unknown engine "crdt-x"/)
    await expect(q.spaceEngine('new')).rejects.toBeInstanceOf(StorageError)
    expect(await q.spaceEngine('old')).toBe('yjs')
    await q.close()
  })
})
