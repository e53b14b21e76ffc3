/**
 * The data directory belongs to one server process: an exclusive lock file (with the holder's PID,
 * stale locks of dead processes taken over), folders 0700 and files 0600, files written atomically
 * (temp file, fsync, rename), and a marker recording that the database held spaces — so a deleted or
 * swapped database is refused at start instead of silently serving empty spaces.
 */
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { Persistence } from '@converge/server-core'
import type { Logger } from './log.js'

/** The server cannot start with this data directory; `message` says why and what to do. */
export class StartupError extends Error {
  override readonly name = 'StartupError'
}

const FILE_MODE = 0o600
const DIR_MODE = 0o700

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code

/** Creates the folder (and any missing parent) with mode 0700; warns when an existing one is open to others. */
export function ensureDataDir(dataDir: string, log: Logger): void {
  const created = mkdirSync(dataDir, { recursive: true, mode: DIR_MODE })
  if (created === undefined) warnIfShared(dataDir, log, 'DATA_DIR')
}

/** Logs a warning when a file or folder can be read or written by other users. */
export function warnIfShared(path: string, log: Logger, what: string): void {
  try {
    const st = statSync(path)
    const mode = st.mode & 0o777
    const own = st.isDirectory() ? '0700' : '0600'
    if (mode & 0o077)
      log.warn(
        { path, mode: `0${mode.toString(8)}` },
        `${what} is accessible to other users (the server creates it ${own}); consider chmod go-rwx`,
      )
  } catch {
    /* gone or unreadable: whoever uses it next reports that */
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    /* some platforms cannot fsync a directory; the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Writes `data` to a new temp file (mode 0600) next to `file` and fsyncs it; returns its path. */
function writeTemp(file: string, data: string): string {
  const temp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  const fd = openSync(temp, 'wx', FILE_MODE)
  try {
    const bytes = Buffer.from(data)
    let written = 0
    while (written < bytes.length) written += writeSync(fd, bytes, written)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    unlinkSync(temp)
    throw e
  }
  closeSync(fd)
  return temp
}

/**
 * Replaces `file` with `data` atomically: a reader (or a crash, or a full disk) sees the old content
 * or the new one, never an empty or partial file.
 */
export function writeFileAtomic(file: string, data: string): void {
  const temp = writeTemp(file, data)
  try {
    renameSync(temp, file)
  } catch (e) {
    unlinkSync(temp)
    throw e
  }
  fsyncDir(dirname(file))
}

/**
 * Creates `file` with `data` atomically, unless it exists: false then (another process made it
 * first), and the existing file is left as it is.
 */
export function createFileAtomic(file: string, data: string): boolean {
  const temp = writeTemp(file, data)
  try {
    linkSync(temp, file) // a rename that never replaces: EEXIST if the file is there
  } catch (e) {
    if (errno(e) === 'EEXIST') return false
    // a file system without hard links: the data-directory lock keeps other servers out
    try {
      statSync(file)
      return false
    } catch {
      renameSync(temp, file)
      fsyncDir(dirname(file))
      return true
    }
  } finally {
    try {
      unlinkSync(temp)
    } catch {
      /* renamed */
    }
  }
  fsyncDir(dirname(file))
  return true
}

/** Removes temp files of `name` left by a process that died while writing them. */
export function removeStaleTemps(dir: string, name: string): void {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  for (const entry of entries)
    if (entry.startsWith(`.${name}.tmp-`))
      try {
        unlinkSync(join(dir, entry))
      } catch {
        /* someone else's cleanup */
      }
}

/** Creates `file` empty with mode 0600 if missing, so that SQLite (and its -wal / -shm files, which take the database's mode) are private. */
export function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', FILE_MODE))
  } catch (e) {
    if (errno(e) !== 'EEXIST' && errno(e) !== 'ENOENT') throw e
  }
}

// ---------------------------------------------------------------------------------------------
// the lock

export const LOCK_FILE = 'server.lock'

interface LockRecord {
  readonly pid: number
  readonly host: string
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat), to tell a reused PID. */
  readonly start: string | null
  readonly since: string
  readonly nonce: string
}

/** Locks held by this process: lock file → nonce (process-wide, also across module copies). */
const HELD: Map<string, string> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('converge.server.dataDirLocks')
] ??= new Map<string, string>()) as Map<string, string>

let exitHookInstalled = false

/** The start time of a process (Linux), or null when it cannot be read. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return errno(e) === 'EPERM' // alive, someone else's
  }
}

/** A lock file younger than this that does not parse is being written by a starting server. */
const UNREADABLE_GRACE_MS = 10_000

type Verdict = { held: true; message: string } | { held: false; why: string; pid?: number }

function judge(file: string, text: string, dataDir: string): Verdict {
  let record: LockRecord | null = null
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord>
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0)
      record = parsed as LockRecord
  } catch {
    /* empty or cut short */
  }
  if (!record) {
    let age = Infinity
    try {
      age = Date.now() - statSync(file).mtimeMs
    } catch {
      /* gone: stale */
    }
    if (age < UNREADABLE_GRACE_MS)
      return {
        held: true,
        message: `DATA_DIR ${dataDir} is being locked by another converge server that is starting (${file}). Start only one server on this directory.`,
      }
    return { held: false, why: 'an unreadable lock file' }
  }
  const by = `pid ${record.pid}${record.host && record.host !== hostname() ? ` on host ${record.host}` : ''}, since ${record.since}`
  const advice = `Stop that server first, or give this one another DATA_DIR. If no server runs on it any more, remove ${file}.`
  const heldBy = (): Verdict => ({
    held: true,
    message: `DATA_DIR ${dataDir} is in use by another converge server (${by}). ${advice}`,
  })
  if (record.host && record.host !== hostname()) return heldBy() // its PID cannot be checked from here
  if (record.pid === process.pid) {
    if (HELD.has(file))
      return {
        held: true,
        message: `DATA_DIR ${dataDir} is in use by another server in this process (${file}).`,
      }
    return { held: false, why: 'a lock of an earlier process with this PID', pid: record.pid }
  }
  if (!isAlive(record.pid)) return { held: false, why: 'the lock of a process that is gone', pid: record.pid }
  const start = processStart(record.pid)
  if (record.start && start && record.start !== start)
    return { held: false, why: 'the lock of a process that is gone (its PID was reused)', pid: record.pid }
  return heldBy()
}

export interface DataDirLock {
  readonly file: string
  /** Removes the lock file if it is still this process's. Idempotent. */
  readonly release: () => void
}

function releaseFile(file: string, nonce: string): void {
  if (HELD.get(file) !== nonce) return
  HELD.delete(file)
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockRecord>
    if (record.nonce === nonce) unlinkSync(file)
  } catch {
    /* gone already */
  }
}

/**
 * Takes the exclusive lock of `dataDir` (`server.lock`, created with O_EXCL, holding this process's
 * PID), or throws StartupError naming the directory and the PID of the server that holds it. A lock
 * whose process is gone is taken over. Released by `release()` and, at the latest, when the process
 * exits.
 */
export function lockDataDir(dataDir: string, log: Logger): DataDirLock {
  const file = join(dataDir, LOCK_FILE)
  const nonce = randomBytes(8).toString('hex')
  const record: LockRecord = {
    pid: process.pid,
    host: hostname(),
    start: processStart(process.pid),
    since: new Date().toISOString(),
    nonce,
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number
    try {
      fd = openSync(file, 'wx', FILE_MODE)
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw e
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (readError) {
        if (errno(readError) === 'ENOENT') continue // released meanwhile
        throw readError
      }
      const verdict = judge(file, text, dataDir)
      if (verdict.held) throw new StartupError(verdict.message)
      // stale: move it aside atomically, and make sure what moved is what was judged (another
      // starting server may have replaced it meanwhile; then it goes back)
      const aside = `${file}.stale-${process.pid}-${nonce}`
      try {
        renameSync(file, aside)
      } catch (renameError) {
        if (errno(renameError) === 'ENOENT') continue
        throw renameError
      }
      if (readFileSync(aside, 'utf8') !== text) {
        renameSync(aside, file)
        continue
      }
      unlinkSync(aside)
      log.warn({ lock: file, previousPid: verdict.pid }, `took over a stale lock of DATA_DIR: ${verdict.why}`)
      continue
    }
    try {
      writeSync(fd, JSON.stringify(record) + '\n')
      fsyncSync(fd)
    } catch (e) {
      closeSync(fd)
      unlinkSync(file)
      throw e
    }
    closeSync(fd)
    HELD.set(file, nonce)
    if (!exitHookInstalled) {
      exitHookInstalled = true
      // process.exit (a second signal, an uncaught exception) still removes this process's locks
      process.on('exit', () => {
        for (const [f, n] of [...HELD]) releaseFile(f, n)
      })
    }
    return { file, release: () => releaseFile(file, nonce) }
  }
  throw new StartupError(
    `DATA_DIR ${dataDir}: could not take the lock ${file} (other servers keep starting on it?)`,
  )
}

// ---------------------------------------------------------------------------------------------
// the record that the database held spaces

export const SPACES_MARKER = 'spaces.json'

interface MarkerRecord {
  readonly version: 1
  /** The first space seen: registered, or (once `committed`) holding committed data. */
  readonly space: string
  /** Whether `space` holds committed data (the database must still have it). */
  readonly committed: boolean
  readonly database: string
  readonly since: string
}

function readMarker(file: string): MarkerRecord | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if (errno(e) === 'ENOENT') return null
    throw e
  }
  try {
    const m = JSON.parse(text) as Partial<MarkerRecord>
    if (typeof m.space === 'string' && typeof m.committed === 'boolean') return m as MarkerRecord
  } catch {
    /* below */
  }
  // written atomically, so this is damage from outside: still a sign that spaces were held
  return { version: 1, space: '(unknown)', committed: false, database: '(unknown)', since: '(unknown)' }
}

const fileSize = (file: string): number | null => {
  try {
    return statSync(file).size
  } catch (e) {
    if (errno(e) === 'ENOENT') return null
    throw e
  }
}

export interface SpacesMarker {
  /** A space id was registered (POST /api/spaces). */
  registered(spaceId: string): void
  /** A batch of a space was committed. */
  committed(spaceId: string): void
}

/**
 * The database-presence check of a SQLite DATA_DIR, in two steps around opening the storage:
 * `beforeOpen` (the file must exist and not be empty if the marker says spaces were held — checked
 * before SQLite would create an empty one), `afterOpen` (the space the marker names as holding data
 * must still hold it). Then `marker` records the first registration and the first commit.
 */
export class DatabaseGuard implements SpacesMarker {
  readonly file: string
  private record: MarkerRecord | null
  private problem: string | null = null
  private failedToWrite = false

  constructor(
    dataDir: string,
    private readonly database: string,
    private readonly allowEmpty: boolean,
    private readonly log: Logger,
  ) {
    this.file = join(dataDir, SPACES_MARKER)
    this.record = readMarker(this.file)
  }

  private refuseOrAccept(): void {
    if (!this.problem || !this.record) return
    const m = this.record
    const what = `${this.file} records that this data directory's database held spaces (${m.committed ? 'space' : 'first registered'} ${m.space}, since ${m.since})`
    if (!this.allowEmpty)
      throw new StartupError(
        `${this.problem}, but ${what}. Refusing to serve empty spaces in their place: restore the database (or point STORAGE at it). To start over with an empty database on purpose, set ALLOW_EMPTY_DATABASE=1 once.`,
      )
    this.log.warn(
      { database: this.database, marker: this.file, space: m.space },
      `ALLOW_EMPTY_DATABASE=1: starting on an empty database although ${what}; the record is reset`,
    )
    try {
      unlinkSync(this.file)
    } catch {
      /* gone */
    }
    this.record = null
    this.problem = null
  }

  /** Before the storage is opened: throws StartupError when the database file is missing or empty. */
  beforeOpen(): void {
    if (!this.record) return
    const size = fileSize(this.database)
    if (size === null) this.problem = `the database ${this.database} is missing`
    else if (size === 0) this.problem = `the database ${this.database} is empty (0 bytes)`
    this.refuseOrAccept()
  }

  /** After the storage is opened: throws StartupError when the space the marker names is gone. */
  async afterOpen(storage: Persistence): Promise<void> {
    const m = this.record
    if (!m?.committed) return
    const stored = await storage.load(m.space)
    if (stored.snapshot === null && stored.updates.length === 0 && stored.lastSeq === 0)
      this.problem = `the database ${this.database} does not hold space ${m.space}, which it held before (a new or another database?)`
    this.refuseOrAccept()
  }

  private write(spaceId: string, committed: boolean): void {
    const record: MarkerRecord = {
      version: 1,
      space: spaceId,
      committed,
      database: this.database,
      since: this.record?.since ?? new Date().toISOString(),
    }
    try {
      writeFileAtomic(this.file, JSON.stringify(record, null, 2) + '\n')
      this.record = record
    } catch (e) {
      if (!this.failedToWrite)
        this.log.error(
          { marker: this.file, err: e instanceof Error ? e.message : String(e) },
          'could not record that the database holds spaces (retried on the next commit)',
        )
      this.failedToWrite = true
    }
  }

  registered(spaceId: string): void {
    if (!this.record) this.write(spaceId, false)
  }

  committed(spaceId: string): void {
    if (!this.record?.committed) this.write(spaceId, true)
  }
}
