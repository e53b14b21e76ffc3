/**
 * Version history (SPEC.md HIST-1…8): when a room saves a version of its space, what the version
 * holds, and which versions are kept. Only the recording: restoring a version is a forward change the
 * client makes. Time is stepped (ManualScheduler): a test types, runs the turns, advances past the
 * quiet time and reads the history store.
 *
 * versionsToDrop (HIST-7) is also property-tested: replay a failure with HISTORY_SEED=<seed>
 * (printed); HISTORY_RUNS=<n> runs longer.
 */
import * as fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  HISTORY_BEFORE_WRITE_MAX_MS,
  HISTORY_MAX_INTERVAL_MS,
  HISTORY_QUIET_MS,
  type HistoryOptions,
  type HistoryPolicy,
  type LogFields,
  type Logger,
  type SpaceHistory,
  StorageError,
  type StoredVersion,
  type VersionInfo,
  defaultHistoryPolicy,
  versionsToDrop,
} from '../src/index.js'
import { MemoryHistory } from '../src/testing/index.js'
import { Client, ControlledStore, type CoreOptions, world } from './harness.js'

const DAY = 86_400_000
const HOUR = 3_600_000

/** A MemoryHistory that can be made to fail, counting the versions it was asked to save. */
class FlakyHistory extends MemoryHistory {
  failing = false
  /** Saves do not answer until `release()` (a stalled database). */
  hanging = false
  private held: (() => void)[] = []
  saves = 0
  release(): void {
    this.hanging = false
    for (const go of this.held.splice(0)) go()
  }
  override saveVersion(...args: Parameters<SpaceHistory['saveVersion']>): Promise<number> {
    this.saves++
    if (this.hanging)
      return new Promise((resolve, reject) =>
        this.held.push(() => void super.saveVersion(...args).then(resolve, reject)),
      )
    if (this.failing) return Promise.reject(new StorageError('history disk on fire'))
    return super.saveVersion(...args)
  }
}

/** Keeps every log line. */
const logged = () => {
  const lines: { level: string; msg: string; fields: LogFields }[] = []
  const log =
    (level: string) =>
    (fields: LogFields, msg: string): void =>
      void lines.push({ level, msg, fields })
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  return { lines, logger }
}

/** One core with history in a FlakyHistory, on a stepped clock. */
function historyWorld(history: Partial<HistoryOptions> = {}, options: CoreOptions = {}) {
  const { time, hub, core } = world()
  const store = new ControlledStore()
  const versions = new FlakyHistory()
  const { lines, logger } = logged()
  const one = core(store, { history: { store: versions, ...history }, logger, ...options })
  return { time, hub, core, store, versions, lines, one }
}

let nextPresenceId = 5000

/** The client shows itself as `name` (a presence state of an id of its own), as the web app does. */
function showAs(client: Client, name: string, id = nextPresenceId++, clock = 1): number {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, id)
  encoding.writeVarUint(e, clock)
  encoding.writeVarString(e, JSON.stringify({ user: { name, color: '#4f46e5' } }))
  client.send({ type: 'awareness', update: encoding.toUint8Array(e) })
  return id
}

/**
 * A change the server makes itself, as the trips make theirs: read the committed space s1, append
 * " (bought)" to its note `n` (which reads "milk"), and return that as an update.
 */
async function boughtAppended(
  core: ReturnType<typeof historyWorld>['one'],
  time: ReturnType<typeof historyWorld>['time'],
): Promise<Uint8Array> {
  const read = core.read('s1')
  await time.runTurns()
  const doc = new Y.Doc()
  Y.applyUpdate(doc, (await read).state)
  const before = Y.encodeStateVector(doc)
  doc.getText('body:n').insert(4, ' (bought)')
  return Y.encodeStateAsUpdate(doc, before)
}

/** The text of note `n` in a version's state. */
function textOf(v: StoredVersion | null): string {
  expect(v).not.toBeNull()
  const doc = new Y.Doc()
  Y.applyUpdate(doc, v!.state)
  return doc.getText('body:n').toJSON()
}

/** The space's versions, oldest first (easier to read in a test). */
const oldestFirst = async (h: SpaceHistory, spaceId = 's1'): Promise<VersionInfo[]> =>
  (await h.versions(spaceId, { limit: 1000 })).reverse()

describe('version history: recording', () => {
  it('[HIST-1] a burst of typing, then quiet: one version after quietMs, with every change and the whole document', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    showAs(a, 'Sam')
    for (const letter of 'milk') {
      a.type(letter)
      await time.advance(1000) // one commit each
    }
    // the last commit was at 3 s: nothing before it has been quiet for a minute
    await time.advance(HISTORY_QUIET_MS - 1000 - 1)
    expect(await versions.versions('s1')).toEqual([])
    await time.advance(1)
    const [v, ...more] = await versions.versions('s1')
    expect(more).toEqual([])
    expect(v).toMatchObject({ spaceId: 's1', at: 3000 + HISTORY_QUIET_MS, changes: 4, authors: ['Sam'] })
    const stored = await versions.version('s1', v!.id)
    expect(textOf(stored)).toBe('milk')
    expect(v!.bytes).toBe(stored!.state.byteLength)
    expect(stored!.state).toEqual(one.loadedRoom('s1')!.document.snapshot())

    // quiet from then on: no more versions; the next burst makes the next one, of its changes only
    await time.advance(10 * HISTORY_QUIET_MS)
    expect(await versions.versions('s1')).toHaveLength(1)
    a.type(' and eggs')
    await time.advance(HISTORY_QUIET_MS)
    const [, second] = await oldestFirst(versions)
    expect(second).toMatchObject({ changes: 1, authors: ['Sam'] })
    expect(textOf(await versions.version('s1', second!.id))).toBe('milk and eggs')
  })

  it('[HIST-1] a change the server makes itself counts as one, with no author', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    showAs(a, 'Sam')
    a.type('milk')
    await time.advance(HISTORY_QUIET_MS)
    const update = await boughtAppended(one, time)
    const writing = one.write('s1', update, 'server:trip')
    await time.advance(HISTORY_QUIET_MS)
    expect(await writing).not.toBeNull()
    const [first, second] = await oldestFirst(versions)
    expect(first).toMatchObject({ changes: 1, authors: ['Sam'] })
    expect(second).toMatchObject({ changes: 1, authors: [] })
    expect(textOf(await versions.version('s1', second!.id))).toBe('milk (bought)')
  })

  it('[HIST-9] a change the server makes itself first saves what was pending as a version of its own', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    showAs(a, 'Sam')
    a.type('milk')
    await time.runTurns()
    // no quiet time: the server's change follows at once
    const update = await boughtAppended(one, time)
    const writing = one.write('s1', update, 'server:trip')
    await time.runTurns()
    expect(await writing).not.toBeNull()
    // Sam's burst is a version already, as it was before the server's change
    const saved = await versions.versions('s1')
    expect(saved).toMatchObject([{ changes: 1, authors: ['Sam'] }])
    expect(textOf(await versions.version('s1', saved[0]!.id))).toBe('milk')
    // the server's change is the next version, a quiet time later
    await time.advance(HISTORY_QUIET_MS)
    const [first, second] = await oldestFirst(versions)
    expect(first!.id).toBe(saved[0]!.id)
    expect(second).toMatchObject({ changes: 1, authors: [] })
    expect(textOf(await versions.version('s1', second!.id))).toBe('milk (bought)')
  })

  it('[HIST-9] a history store that never answers holds a change the server makes itself HISTORY_BEFORE_WRITE_MAX_MS at most', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    a.type('milk')
    await time.runTurns()
    versions.hanging = true
    const update = await boughtAppended(one, time)
    let written: Uint8Array | null | undefined
    void one.write('s1', update, 'server:trip').then((v) => (written = v))
    await time.advance(HISTORY_BEFORE_WRITE_MAX_MS - 1)
    expect(versions.saves).toBe(1) // asked, never answered
    expect(written).toBeUndefined()
    await time.advance(1)
    await time.runTurns()
    expect(written).not.toBeNull()
    expect(written).toBeDefined()
    expect(a.text).toBe('milk (bought)')
    // the store answers at last: the version it was given is the list before the server's change
    versions.release()
    await time.runTurns()
    const [first] = await versions.versions('s1')
    expect(textOf(await versions.version('s1', first!.id))).toBe('milk')
  })

  it('[HIST-1] changes that came from another instance are not counted here: that instance records them', async () => {
    const { time, hub, core } = world()
    const store = new ControlledStore()
    const here = new MemoryHistory()
    const there = new MemoryHistory()
    const one = core(store, { fanOut: hub.instance(), history: { store: here } })
    const two = core(store, { fanOut: hub.instance(), history: { store: there } })
    const a = new Client(one, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    await time.runTurns()
    a.type('across')
    await time.runTurns()
    expect(b.text).toBe('across')
    await time.advance(HISTORY_QUIET_MS)
    expect(await here.versions('s1')).toMatchObject([{ changes: 1 }])
    expect(await there.versions('s1')).toEqual([])
  })

  it('[HIST-2] a burst that never goes quiet gets a version every maxIntervalMs', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    // a letter every 30 s for 25 minutes: never a minute of quiet
    for (let i = 0; i <= 50; i++) {
      a.type('x')
      await time.advance(30_000)
    }
    await time.advance(HISTORY_QUIET_MS)
    const list = await oldestFirst(versions)
    // the oldest change not in a version is 10 minutes old at 10:00 and at 20:00; the last letter is
    // at 25:00, and a minute of quiet after it makes the last version
    expect(list.map((v) => v.at)).toEqual([
      HISTORY_MAX_INTERVAL_MS,
      2 * HISTORY_MAX_INTERVAL_MS,
      25 * 60_000 + HISTORY_QUIET_MS,
    ])
    expect(list.map((v) => v.changes)).toEqual([20, 20, 11])
    expect(textOf(await versions.version('s1', list[2]!.id))).toBe('x'.repeat(51))
  })

  it('[HIST-3] a space that unloads saves a version of its pending changes first; one without changes saves none', async () => {
    const { time, one, versions } = historyWorld({}, { limits: { idleUnloadMs: 1000 } })
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    a.type('before I go')
    await time.runTurns()
    a.drop()
    await time.advance(1000)
    expect(one.loadedSpaces).toBe(0)
    expect(await versions.versions('s1')).toMatchObject([{ at: 1000, changes: 1 }])
    expect(textOf(await versions.version('s1', (await versions.versions('s1'))[0]!.id))).toBe('before I go')
    // nothing is left to fire: the quiet timer went with the room
    await time.runAll()
    expect(await versions.versions('s1')).toHaveLength(1)

    // loaded, read, unloaded again with nothing changed: no version
    const reader = new Client(one, 's1', 'r')
    await time.runTurns()
    expect(reader.text).toBe('before I go')
    reader.drop()
    await time.runAll()
    expect(one.loadedSpaces).toBe(0)
    expect(await versions.versions('s1')).toHaveLength(1)
  })

  it('[HIST-3] shutdown saves a version of every space with pending changes, before the documents go', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    const b = new Client(one, 's2', 'w')
    const c = new Client(one, 's3', 'w')
    await time.runTurns()
    a.type('one')
    b.type('two')
    await time.runTurns()
    c.type('three, not committed yet') // shutdown commits it first, and the version holds it
    await one.shutdown()
    expect(textOf(await versions.version('s1', (await versions.versions('s1'))[0]!.id))).toBe('one')
    expect(textOf(await versions.version('s2', (await versions.versions('s2'))[0]!.id))).toBe('two')
    expect(textOf(await versions.version('s3', (await versions.versions('s3'))[0]!.id))).toBe(
      'three, not committed yet',
    )
    const again = new Client(one, 's4', 'w')
    expect(again.closed).not.toBeNull()
  })

  it('[HIST-4] a version names who made its changes: their presence names as they show at the save, deduplicated, at most 10', async () => {
    const { time, one, versions } = historyWorld()
    const sam = new Client(one, 's1', 'w')
    const ana = new Client(one, 's1', 'w')
    const anon = new Client(one, 's1', 'w')
    const idle = new Client(one, 's1', 'w')
    await time.runTurns()
    showAs(sam, 'Sam')
    showAs(ana, 'Ana')
    showAs(ana, 'Ana') // a second tab of hers, carried by the same connection
    showAs(idle, 'Ida') // shows herself, writes nothing
    sam.type('a')
    ana.type('b')
    anon.type('c') // no presence: no name
    await time.advance(HISTORY_QUIET_MS)
    const [v] = await versions.versions('s1')
    expect(v).toMatchObject({ changes: 3 })
    expect([...v!.authors].sort()).toEqual(['Ana', 'Sam'])

    // a writer who leaves (its presence with it) in the same turn as its last change is still named
    const bo = new Client(one, 's1', 'w')
    await time.runTurns()
    showAs(bo, 'Bo')
    await time.runTurns()
    bo.type('d')
    bo.drop()
    await time.advance(HISTORY_QUIET_MS)
    expect((await versions.versions('s1'))[0]).toMatchObject({ changes: 1, authors: ['Bo'] })

    // a first visit writes as "Guest 518", then chooses a name: the version names the person as now
    const guest = new Client(one, 's1', 'w')
    await time.runTurns()
    const id = showAs(guest, 'Guest 518')
    await time.runTurns()
    guest.type('f')
    await time.runTurns()
    showAs(guest, 'Alex', id, 2)
    await time.advance(HISTORY_QUIET_MS)
    expect((await versions.versions('s1'))[0]).toMatchObject({ changes: 1, authors: ['Alex'] })

    // twelve writers: ten names
    const many = Array.from({ length: 12 }, () => new Client(one, 's1', 'w'))
    await time.runTurns()
    many.forEach((c, i) => showAs(c, `Writer ${i}`))
    many.forEach((c) => c.type('e'))
    await time.advance(HISTORY_QUIET_MS)
    const [last] = await versions.versions('s1')
    expect(last).toMatchObject({ changes: 12 })
    expect(last!.authors).toHaveLength(10)
    expect(new Set(last!.authors).size).toBe(10)
    for (const name of last!.authors) expect(name).toMatch(/^Writer \d+$/)
  })

  it('[HIST-5] a version holds only what is committed: with a commit in flight it waits for it', async () => {
    const { time, one, store, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    a.type('A')
    await time.advance(HISTORY_QUIET_MS - 1000)
    store.hold = true // the next commit hangs
    a.type('B')
    await time.advance(1000) // the quiet time since A's commit is over; B is in the document, not stored
    await time.advance(HISTORY_QUIET_MS)
    expect(await versions.versions('s1')).toEqual([])
    expect(one.loadedRoom('s1')!.settled).toBe(false)
    store.release()
    await time.runTurns()
    const [v, ...more] = await versions.versions('s1')
    expect(more).toEqual([])
    expect(v).toMatchObject({ changes: 2 })
    expect(textOf(await versions.version('s1', v!.id))).toBe('AB')
    expect(store.text('s1')).toBe('AB')
    await time.runAll()
    expect(await versions.versions('s1')).toHaveLength(1)
  })

  it('[HIST-6] a failing history store is logged and never affects sync; the changes are saved at the next try', async () => {
    const { time, one, versions, lines } = historyWorld({}, { limits: { idleUnloadMs: 1000 } })
    const a = new Client(one, 's1', 'w')
    const b = new Client(one, 's1', 'w')
    await time.runTurns()
    showAs(a, 'Sam')
    versions.failing = true
    a.type('abc')
    await time.advance(HISTORY_QUIET_MS)
    expect(versions.saves).toBe(1)
    const warned = lines.filter((l) => l.level === 'warn' && l.fields.spaceId === 's1')
    expect(warned).toHaveLength(1)
    expect(warned[0]!.fields.err).toMatch(/history disk on fire/)
    // sync goes on: acknowledged, relayed, stored; nobody was closed
    expect(a.saved).toBe(true)
    expect(b.text).toBe('abc')
    a.type('d')
    await time.runTurns()
    expect(b.text).toBe('abcd')
    expect(a.closed).toBeNull()
    expect(b.closed).toBeNull()
    // the commits while it fails do not each try again: the next try is a quiet time later
    for (let i = 0; i < 5; i++) {
      b.type('!')
      await time.advance(1000)
    }
    expect(versions.saves).toBe(1)
    versions.failing = false
    await time.advance(HISTORY_QUIET_MS)
    expect(versions.saves).toBe(2)
    const [v] = await versions.versions('s1')
    expect(v).toMatchObject({ changes: 7, authors: ['Sam'] })
    expect(textOf(await versions.version('s1', v!.id))).toBe('abcd!!!!!')

    // failing at unload: logged, and the space unloads as ever
    versions.failing = true
    a.type('?')
    await time.runTurns()
    a.drop()
    b.drop()
    await time.advance(1000)
    expect(one.loadedSpaces).toBe(0)
    expect(lines.filter((l) => l.level === 'warn' && l.fields.spaceId === 's1').length).toBeGreaterThan(1)
  })

  it('[HIST-7] after each save the space is thinned by the policy: at most maxVersions, the newest kept', async () => {
    const { time, one, versions } = historyWorld({ quietMs: 1000, policy: { maxVersions: 3 } })
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    for (let i = 1; i <= 5; i++) {
      a.type(String(i))
      await time.advance(1000)
      expect(await versions.versions('s1')).toHaveLength(Math.min(i, 3))
    }
    const kept = await oldestFirst(versions)
    expect(kept.map((v) => v.at)).toEqual([3000, 4000, 5000])
    expect(textOf(await versions.version('s1', kept[2]!.id))).toBe('12345')
  })

  it('[HIST-8] versions and version read the history store without loading the space; without history they are empty', async () => {
    const { time, one, versions } = historyWorld()
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    a.type('kept')
    await time.advance(HISTORY_QUIET_MS)
    a.drop()
    await time.runAll()
    expect(one.loadedSpaces).toBe(0)
    const list = await one.versions('s1')
    expect(list).toEqual(await versions.versions('s1'))
    expect(list).toHaveLength(1)
    expect(await one.versions('s1', 0)).toEqual([])
    expect(textOf(await one.version('s1', list[0]!.id))).toBe('kept')
    expect(await one.version('s2', list[0]!.id)).toBeNull()
    expect(one.loadedSpaces).toBe(0)
    await expect(one.versions('s1', -1)).rejects.toBeInstanceOf(RangeError)

    const { core } = world()
    const off = core(new ControlledStore())
    expect(await off.versions('s1')).toEqual([])
    expect(await off.version('s1', 1)).toBeNull()
  })
})

describe('version history: retention (versionsToDrop)', () => {
  const info = (id: number, at: number): VersionInfo => ({
    id,
    spaceId: 's',
    at,
    changes: 1,
    authors: [],
    bytes: 1,
  })

  it('[HIST-7] hourly versions for 40 days, the defaults: every one of the last day, then the last of each day up to 30 days', () => {
    const list = Array.from({ length: 40 * 24 + 1 }, (_, k) => info(k + 1, k * HOUR))
    const now = 40 * DAY
    const dropped = new Set(versionsToDrop(list, now, defaultHistoryPolicy))
    const kept = list.filter((v) => !dropped.has(v.id)).map((v) => v.at)
    const young = Array.from({ length: 25 }, (_, i) => now - 24 * HOUR + i * HOUR)
    const daily = Array.from({ length: 29 }, (_, d) => (10 + d) * DAY + 23 * HOUR)
    expect(kept).toEqual([...daily, ...young])
  })

  it('[HIST-7] the newest is never dropped, however old, and maxVersions keeps the newest', () => {
    expect(versionsToDrop([info(1, 0)], 1000 * DAY, defaultHistoryPolicy)).toEqual([])
    expect(
      versionsToDrop([info(1, 0), info(2, DAY)], 1000 * DAY, { ...defaultHistoryPolicy, maxVersions: 0 }),
    ).toEqual([1])
    const same = [info(3, 5), info(1, 5), info(2, 5)] // one instant: the larger id is the newer
    expect(versionsToDrop(same, 10, { keepAllMs: 100, keepDays: 30, maxVersions: 2 })).toEqual([1])
    expect(versionsToDrop([], 0, defaultHistoryPolicy)).toEqual([])
  })

  const seed = Number(process.env.HISTORY_SEED ?? Math.floor(Math.random() * 2 ** 31))
  const numRuns = Number(process.env.HISTORY_RUNS ?? 500)

  const now = 50 * DAY + 7 * HOUR
  const version: fc.Arbitrary<{ id: number; at: number }> = fc.record({
    id: fc.integer({ min: 1, max: 100_000 }),
    // mostly within the policy's reach, some on the hour (ties, day boundaries), a few in the future
    at: fc.oneof(
      fc.integer({ min: now - 45 * DAY, max: now + HOUR }),
      fc.integer({ min: 0, max: 45 * 24 }).map((h) => now - 7 * HOUR - h * HOUR),
    ),
  })
  const list = fc
    .uniqueArray(version, { selector: (v) => v.id, maxLength: 80 })
    .map((vs) => vs.map((v) => info(v.id, v.at)))
  const policy: fc.Arbitrary<HistoryPolicy> = fc.record({
    keepAllMs: fc.oneof(fc.constant(DAY), fc.integer({ min: 0, max: 4 * DAY })),
    keepDays: fc.oneof(fc.constant(30), fc.integer({ min: 0, max: 50 })),
    maxVersions: fc.oneof(fc.constant(200), fc.integer({ min: 0, max: 90 })),
  })

  const isNewer = (a: VersionInfo, b: VersionInfo): boolean => a.at > b.at || (a.at === b.at && a.id > b.id)
  const newestOf = (vs: readonly VersionInfo[]): VersionInfo => vs.reduce((n, v) => (isNewer(v, n) ? v : n))
  const day = (v: VersionInfo): number => Math.floor(v.at / DAY)
  /** Whether the policy would keep `v` but for maxVersions. */
  const eligible = (vs: readonly VersionInfo[], v: VersionInfo, at: number, p: HistoryPolicy): boolean => {
    if (v === newestOf(vs) || at - v.at <= p.keepAllMs) return true
    return at - v.at <= p.keepDays * DAY && v === newestOf(vs.filter((w) => day(w) === day(v)))
  }
  const keptOf = (vs: readonly VersionInfo[], at: number, p: HistoryPolicy): VersionInfo[] => {
    const drop = new Set(versionsToDrop(vs, at, p))
    return vs.filter((v) => !drop.has(v.id))
  }

  it('[HIST-7] property: keeps the newest, keeps what the policy keeps up to maxVersions, drops the rest; thinning again changes nothing', () => {
    console.log(`[HIST-7] seed ${seed}, ${numRuns} runs (replay: HISTORY_SEED=${seed})`)
    fc.assert(
      fc.property(list, policy, (vs, p) => {
        const drop = versionsToDrop(vs, now, p)
        const ids = vs.map((v) => v.id)
        // ids of the list, once each, in the list's order
        expect(drop).toEqual(ids.filter((id) => drop.includes(id)))
        const kept = keptOf(vs, now, p)
        if (vs.length === 0) return
        const newest = newestOf(vs)
        expect(kept).toContain(newest)
        expect(kept.length).toBeLessThanOrEqual(Math.max(1, p.maxVersions))
        // what is kept is what the policy keeps (young, or the day's last within keepDays)
        for (const v of kept) expect(eligible(vs, v, now, p)).toBe(true)
        // and what it keeps is dropped only by maxVersions, oldest first
        for (const v of vs)
          if (eligible(vs, v, now, p) && !kept.includes(v)) {
            expect(kept).toHaveLength(Math.max(1, p.maxVersions))
            for (const k of kept) expect(isNewer(k, v)).toBe(true)
          }
        // at most one version per day beyond keepAllMs
        const oldDays = kept.filter((v) => v !== newest && now - v.at > p.keepAllMs).map(day)
        expect(new Set(oldDays).size).toBe(oldDays.length)
        // thinning what is kept again, at the same time, drops nothing
        expect(versionsToDrop(kept, now, p)).toEqual([])
      }),
      { seed, numRuns },
    )
  })

  it('[HIST-7] property: without the maxVersions cut, thinning at each save is the same as thinning once, later', () => {
    console.log(`[HIST-7] seed ${seed}, ${numRuns} runs (replay: HISTORY_SEED=${seed})`)
    fc.assert(
      fc.property(list, policy, fc.integer({ min: 0, max: 40 * DAY }), (vs, p, later) => {
        const roomy = { ...p, maxVersions: vs.length }
        const once = keptOf(vs, now + later, roomy).map((v) => v.id)
        const twice = keptOf(keptOf(vs, now, roomy), now + later, roomy).map((v) => v.id)
        expect(twice).toEqual(once)
      }),
      { seed, numRuns },
    )
  })
})
