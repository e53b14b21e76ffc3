/**
 * The data directory is the server's alone: one server process per DATA_DIR (a lock file with its
 * PID), private modes, a secret that is never empty or silently replaced, and a database that cannot
 * go missing (or be swapped) under a directory that held spaces without the server refusing to start.
 * Real server processes, as an operator would run them.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SqlitePersistence } from '@converge/persistence-sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createFileAtomic } from '../src/datadir.js'
import {
  type ChildServer,
  RawClient,
  cleanup,
  covers,
  createSpace,
  fetchDoc,
  freePort,
  spawnServer,
  startTestServer,
  tempDir,
  until,
} from './helpers.js'

afterEach(cleanup)

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0')

async function stop(server: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  server.child.kill(signal)
  return (await server.exited).code
}

/** Writes some text into a space and waits until the server says it is durable. */
async function write(
  server: ChildServer,
  space: { id: string; writeToken: string },
  text: string,
): Promise<void> {
  const c = await RawClient.open(server, space.id, space.writeToken)
  c.send({ type: 'hello', version: 1 })
  const doc = new Y.Doc()
  doc.getText('body:n1').insert(0, text)
  c.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
  await c.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
  c.ws.close()
}

describe('the data directory', () => {
  it(
    'a second server on the same DATA_DIR refuses to start, naming the directory and the PID of the first; SIGTERM, SIGINT and exit release the lock; a dead holder is taken over',
    { timeout: 60_000 },
    async () => {
      const dataDir = tempDir()
      const lock = join(dataDir, 'server.lock')
      const first = await spawnServer(dataDir, await freePort())
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: first.child.pid })
      expect(mode(lock)).toBe('0600')

      const port = await freePort()
      await expect(spawnServer(dataDir, port)).rejects.toThrow(
        new RegExp(
          `server exited \\(1\\) before ready: .*DATA_DIR ${escape(dataDir)} is in use by another converge server \\(pid ${first.child.pid}, since .*Stop that server first`,
          's',
        ),
      )
      // the first one is untouched and keeps serving
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: first.child.pid })

      expect(await stop(first, 'SIGTERM')).toBe(0)
      expect(existsSync(lock)).toBe(false)
      const second = await spawnServer(dataDir, port)
      expect(await stop(second, 'SIGINT')).toBe(0)
      expect(existsSync(lock)).toBe(false)

      // SIGKILL leaves the lock behind; its process is gone, so the next server takes it over
      const killed = await spawnServer(dataDir, port)
      await stop(killed, 'SIGKILL')
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: killed.child.pid })
      const next = await spawnServer(dataDir, port)
      expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: next.child.pid })
      await until(
        () => next.stdout.some((l) => l.includes('took over a stale lock of DATA_DIR')),
        'the takeover log line',
      )
      expect(await stop(next)).toBe(0)
    },
  )

  it('two servers in one process on one DATA_DIR: the second refuses; closing the first frees it', async () => {
    const dataDir = tempDir()
    const first = await startTestServer({ dataDir })
    await expect(startTestServer({ dataDir })).rejects.toThrow(/is in use by another server in this process/)
    await first.close()
    const again = await startTestServer({ dataDir })
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200)
  })

  it(
    'folders are created 0700 and files 0600: the secret, the lock, the database with its -wal and -shm, the marker',
    { timeout: 30_000 },
    async () => {
      const dataDir = join(tempDir(), 'nested', 'data')
      const server = await spawnServer(dataDir, await freePort(), { SECRET: '' })
      const space = await createSpace(server)
      await write(server, space, 'private')
      for (const dir of [dataDir, join(dataDir, '..')]) expect(mode(dir), dir).toBe('0700')
      const files = readdirSync(dataDir).sort()
      expect(files).toEqual(
        [
          'converge.sqlite',
          'converge.sqlite-shm',
          'converge.sqlite-wal',
          'secret',
          'server.lock',
          'spaces.json',
        ].sort(),
      )
      for (const f of files) expect(mode(join(dataDir, f)), f).toBe('0600')
      expect(await stop(server)).toBe(0)
    },
  )

  it(
    'an empty or short secret file is refused at start and left as it is; the secret is written whole or not at all',
    { timeout: 30_000 },
    async () => {
      const dataDir = tempDir()
      const file = join(dataDir, 'secret')
      const port = await freePort()
      writeFileSync(file, '', { mode: 0o600 })
      await expect(spawnServer(dataDir, port, { SECRET: '' })).rejects.toThrow(
        new RegExp(
          `server exited \\(1\\) before ready: .*the token secret ${escape(file)} is empty.*Refusing to start rather than replace it`,
          's',
        ),
      )
      expect(readFileSync(file, 'utf8')).toBe('') // not replaced
      expect(existsSync(join(dataDir, 'server.lock'))).toBe(false) // released on the way out
      writeFileSync(file, 'truncated\n')
      await expect(spawnServer(dataDir, port, { SECRET: '' })).rejects.toThrow(
        /holds 9 characters, fewer than 32/,
      )
      expect(readFileSync(file, 'utf8')).toBe('truncated\n')

      // what a crash while writing the secret leaves: a temp file beside it, never a short `secret`
      rmSync(file)
      writeFileSync(join(dataDir, '.secret.tmp-99999-abcd'), 'half')
      const server = await spawnServer(dataDir, port, { SECRET: '' })
      const secret = readFileSync(file, 'utf8').trim()
      expect(secret.length).toBeGreaterThanOrEqual(32)
      expect(readdirSync(dataDir).filter((f) => f.includes('.tmp-'))).toEqual([])
      expect(await stop(server)).toBe(0)
      // and it is reused, never replaced
      const again = await spawnServer(dataDir, port, { SECRET: '' })
      expect(readFileSync(file, 'utf8').trim()).toBe(secret)
      expect(await stop(again)).toBe(0)
      // created atomically, never over an existing file
      expect(createFileAtomic(file, 'other\n')).toBe(false)
      expect(readFileSync(file, 'utf8').trim()).toBe(secret)
    },
  )

  it(
    'a removed or emptied database refuses to start while DATA_DIR shows it held spaces, unless ALLOW_EMPTY_DATABASE=1',
    { timeout: 30_000 },
    async () => {
      const dataDir = tempDir()
      const port = await freePort()
      const db = join(dataDir, 'converge.sqlite')
      const server = await spawnServer(dataDir, port)
      const space = await createSpace(server) // registered only: no data yet
      expect(await stop(server)).toBe(0)
      expect(JSON.parse(readFileSync(join(dataDir, 'spaces.json'), 'utf8'))).toMatchObject({
        space: space.id,
        committed: false,
      })

      for (const f of ['converge.sqlite', 'converge.sqlite-wal', 'converge.sqlite-shm'])
        rmSync(join(dataDir, f), { force: true })
      await expect(spawnServer(dataDir, port)).rejects.toThrow(
        new RegExp(
          `server exited \\(1\\) before ready: .*the database ${escape(db)} is missing, but ${escape(join(dataDir, 'spaces.json'))} records that this data directory's database held spaces .*ALLOW_EMPTY_DATABASE=1`,
          's',
        ),
      )
      expect(existsSync(db)).toBe(false) // no empty database was made in its place
      writeFileSync(db, '', { mode: 0o600 })
      await expect(spawnServer(dataDir, port)).rejects.toThrow(/is empty \(0 bytes\), but/)

      // on purpose: starts, says so, and forgets the old record
      const fresh = await spawnServer(dataDir, port, { ALLOW_EMPTY_DATABASE: '1' })
      await until(
        () => fresh.stdout.some((l) => l.includes('ALLOW_EMPTY_DATABASE=1: starting on an empty database')),
        'the warning',
      )
      expect(existsSync(join(dataDir, 'spaces.json'))).toBe(false)
      expect(await stop(fresh)).toBe(0)
      const later = await spawnServer(dataDir, port) // nothing recorded, nothing refused
      expect(await stop(later)).toBe(0)
    },
  )

  it(
    'a database swapped for another one that lacks the spaces refuses to start; the right one starts',
    { timeout: 30_000 },
    async () => {
      const dataDir = tempDir()
      const port = await freePort()
      const db = join(dataDir, 'converge.sqlite')
      const server = await spawnServer(dataDir, port)
      const space = await createSpace(server)
      await write(server, space, 'keep me')
      expect(await stop(server)).toBe(0)
      expect(JSON.parse(readFileSync(join(dataDir, 'spaces.json'), 'utf8'))).toMatchObject({
        space: space.id,
        committed: true,
      })
      // keep the real one aside, put a new (valid, empty) database in its place
      const aside = join(tempDir(), 'real')
      mkdirSync(aside)
      for (const f of ['converge.sqlite', 'converge.sqlite-wal', 'converge.sqlite-shm'])
        if (existsSync(join(dataDir, f))) writeFileSync(join(aside, f), readFileSync(join(dataDir, f)))
      for (const f of ['converge.sqlite', 'converge.sqlite-wal', 'converge.sqlite-shm'])
        rmSync(join(dataDir, f), { force: true })
      await new SqlitePersistence({ file: db }).close()
      await expect(spawnServer(dataDir, port)).rejects.toThrow(
        new RegExp(`does not hold space ${space.id}, which it held before`),
      )
      // the right database back: it starts and serves what was written
      for (const f of ['converge.sqlite', 'converge.sqlite-wal', 'converge.sqlite-shm']) {
        rmSync(join(dataDir, f), { force: true })
        if (existsSync(join(aside, f)))
          writeFileSync(join(dataDir, f), readFileSync(join(aside, f)), { mode: 0o600 })
      }
      const back = await spawnServer(dataDir, port)
      expect((await fetchDoc(back, space.id, space.writeToken)).getText('body:n1').toJSON()).toBe('keep me')
      expect(await stop(back)).toBe(0)
    },
  )
})
