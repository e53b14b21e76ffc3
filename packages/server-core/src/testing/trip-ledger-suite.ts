import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { NewTrip, RecordOutcome, Trip, TripLedger } from '../ports.js'
import { testBytes } from './persistence-suite.js'

/** What the TripLedger suite needs of an adapter: a fresh ledger per test, reopening it, removing it. */
export interface TripLedgerFixture<L extends TripLedger = TripLedger> {
  /** A fresh, empty ledger. */
  ledger: L
  /** Closes the instance in use (it may be closed already) and returns a new one over the same storage. */
  reopen: () => Promise<L>
  /** Closes whatever instance is in use (it may be closed already) and removes the storage. */
  cleanup: () => Promise<void>
}

let made = 0

/**
 * A valid NewTrip: every field set (a priced line and one with nulls), with an id, an Idempotency-Key
 * and a base version of its own (each call's differ), in space "space" unless `overrides` say else.
 */
export function testTrip(overrides: Partial<NewTrip> = {}): NewTrip {
  const n = ++made
  return {
    id: `trip-${n}`,
    spaceId: 'space',
    idempotencyKey: `key-${n}`,
    baseVersion: `v-${n}`,
    finishedBy: 'Ana',
    finishedAt: 1_750_000_000_000 + n,
    lines: [
      { key: 'milk', name: 'Milk', quantity: 2, unit: 'l', priceCents: 129, checkedBy: 'Ana' },
      { key: 'bread', name: 'Bread', quantity: 1, unit: '', priceCents: null, checkedBy: null },
    ],
    totalCents: 258,
    unpricedLines: 1,
    removal: testBytes(n, 24),
    ...overrides,
  }
}

/** A trip as plain data (bytes as numbers), so a Buffer and a Uint8Array with the same bytes are equal. */
function plain(t: Trip | null): unknown {
  if (t === null) return null
  expect(t.removal).toBeInstanceOf(Uint8Array)
  return { ...t, lines: t.lines.map((l) => ({ ...l })), removal: Array.from(t.removal) }
}

/** `t` as the ledger holds it once recorded (pending), or after `complete`/`void`. */
function stored(
  t: NewTrip,
  after: Partial<Pick<Trip, 'status' | 'completedVersion' | 'voidReason'>> = {},
): unknown {
  return plain({ ...t, status: 'pending', completedVersion: null, voidReason: null, ...after })
}

const plainAll = (list: readonly Trip[]): unknown[] => list.map(plain)

/**
 * The conformance suite of the TripLedger port (SPEC.md TRIP-1…TRIP-6): what `ports.ts` promises of
 * `record`, `complete`, `void` and the reads, concurrency of one instance included. `setup` makes a
 * fresh, empty ledger for each test.
 */
export function runTripLedgerSuite(name: string, setup: () => Promise<TripLedgerFixture>): void {
  describe(`TripLedger conformance: ${name}`, () => {
    let fx: TripLedgerFixture
    let ledger: TripLedger

    beforeEach(async () => {
      fx = await setup()
      ledger = fx.ledger
    })

    afterEach(async () => {
      await fx.cleanup()
    })

    /** Records `t`, which must be recorded, and returns the trip. */
    async function recorded(t: NewTrip): Promise<Trip> {
      const r = await ledger.record(t)
      expect(r.outcome).toBe('recorded')
      return r.trip
    }

    it('TRIP-1 record stores a pending trip: every field reads back exactly, also after reopening', async () => {
      const removal = new Uint8Array(512).map((_, i) => (i * 7 + 3) & 0xff)
      const t = testTrip({
        spaceId: 'space-a/ü 1',
        finishedBy: 'Zoë 🛒',
        finishedAt: 1_767_225_600_123,
        lines: [
          {
            key: 'apples',
            name: 'Äpfel "Boskoop"',
            quantity: 3,
            unit: 'kg',
            priceCents: 249,
            checkedBy: 'Ana',
          },
          { key: 'salt', name: 'Salt', quantity: 1, unit: '', priceCents: null, checkedBy: null },
          {
            key: 'eggs',
            name: 'Eggs\n(free range)',
            quantity: 1.5,
            unit: 'dozen',
            priceCents: 0,
            checkedBy: 'Bo',
          },
          { key: 'free', name: '', quantity: 0, unit: 'x', priceCents: null, checkedBy: 'Ana' },
        ],
        totalCents: 123_456_789_012, // past 32 bits
        unpricedLines: 2,
        removal,
      })
      const want = stored({ ...t, removal: removal.slice(), lines: t.lines.map((l) => ({ ...l })) })
      const r = await ledger.record(t)
      expect(r.outcome).toBe('recorded')
      expect(plain(r.trip)).toStrictEqual(want)
      expect(plain(await ledger.trip(t.spaceId, t.id))).toStrictEqual(want)

      // changing the caller's arrays afterwards, or what was handed out, changes nothing stored
      removal.fill(0)
      ;(t.lines[0] as { name: string }).name = 'changed'
      ;(t.lines as unknown[]).pop()
      r.trip.removal.fill(1)
      ;(r.trip.lines[1] as { quantity: number }).quantity = 99
      const read = await ledger.trip(t.spaceId, t.id)
      expect(plain(read)).toStrictEqual(want)
      read!.removal.fill(2)
      expect(plain(await ledger.trip(t.spaceId, t.id))).toStrictEqual(want)

      // a trip with no lines and an empty removal
      const empty = testTrip({
        spaceId: 'space-b',
        lines: [],
        totalCents: 0,
        unpricedLines: 0,
        removal: new Uint8Array(0),
      })
      expect(plain(await recorded(empty))).toStrictEqual(stored(empty))

      ledger = await fx.reopen()
      expect(plain(await ledger.trip(t.spaceId, t.id))).toStrictEqual(want)
      expect(plain(await ledger.trip(empty.spaceId, empty.id))).toStrictEqual(stored(empty))
    })

    it('TRIP-1 trip() is null for an id never recorded and for an id of another space', async () => {
      const t = testTrip({ spaceId: 'mine' })
      await recorded(t)
      expect(await ledger.trip('mine', 'never-recorded')).toBeNull()
      expect(await ledger.trip('other', t.id)).toBeNull()
      expect(await ledger.trip('min', t.id)).toBeNull()
    })

    it('TRIP-1 an id is unique over all spaces: recording a taken id under another key rejects and stores nothing', async () => {
      const a = testTrip({ spaceId: 's1' })
      await recorded(a)
      const elsewhere = testTrip({ id: a.id, spaceId: 's2' })
      await expect(ledger.record(elsewhere)).rejects.toBeInstanceOf(Error)
      expect(await ledger.trips('s2')).toEqual([])
      // in its own space too, once no trip holds the slot
      await ledger.complete('s1', a.id, 'v-done')
      await expect(ledger.record(testTrip({ id: a.id, spaceId: 's1' }))).rejects.toBeInstanceOf(Error)
      expect(plainAll(await ledger.trips('s1'))).toStrictEqual([
        stored(a, { status: 'complete', completedVersion: 'v-done' }),
      ])
      expect(await ledger.pendingTrips()).toEqual([])
      // the space can still record under a fresh id
      await recorded(testTrip({ spaceId: 's2' }))
    })

    it('TRIP-2 the same Idempotency-Key in the same space replays the stored trip unchanged, whatever the call carries, also once it is complete or void', async () => {
      const t = testTrip({ spaceId: 's' })
      const first = await recorded(t)
      // a retry carrying other fields: another id, base version, lines, time
      const retry = testTrip({
        spaceId: 's',
        idempotencyKey: t.idempotencyKey,
        baseVersion: 'v-other',
        finishedBy: 'Bo',
        lines: [],
        totalCents: 0,
        unpricedLines: 0,
      })
      const replay = await ledger.record(retry)
      expect(replay.outcome).toBe('replay')
      expect(plain(replay.trip)).toStrictEqual(plain(first))
      expect(await ledger.trip('s', retry.id)).toBeNull()
      expect(plain(await ledger.tripByKey('s', t.idempotencyKey))).toStrictEqual(plain(first))

      const done = await ledger.complete('s', t.id, 'v-after')
      const afterDone = await ledger.record(retry)
      expect(afterDone.outcome).toBe('replay')
      expect(plain(afterDone.trip)).toStrictEqual(plain(done))

      const u = testTrip({ spaceId: 's' })
      await recorded(u)
      const voided = await ledger.void('s', u.id, 'the removal was refused')
      const afterVoid = await ledger.record(testTrip({ spaceId: 's', idempotencyKey: u.idempotencyKey }))
      expect(afterVoid.outcome).toBe('replay')
      expect(plain(afterVoid.trip)).toStrictEqual(plain(voided))
      expect(plain(await ledger.tripByKey('s', u.idempotencyKey))).toStrictEqual(plain(voided))

      ledger = await fx.reopen()
      const later = await ledger.record(retry)
      expect(later.outcome).toBe('replay')
      expect(plain(later.trip)).toStrictEqual(plain(done))
      expect(plain(await ledger.tripByKey('s', t.idempotencyKey))).toStrictEqual(plain(done))
      expect(await ledger.trips('s')).toHaveLength(2)
    })

    it('TRIP-2 the same key in another space is a different trip; tripByKey reads a trip by its key', async () => {
      const a = testTrip({ spaceId: 'space-a', idempotencyKey: 'shared' })
      const b = testTrip({ spaceId: 'space-b', idempotencyKey: 'shared', baseVersion: a.baseVersion })
      expect(plain(await recorded(a))).toStrictEqual(stored(a))
      expect(plain(await recorded(b))).toStrictEqual(stored(b))
      expect(plain(await ledger.trip('space-a', a.id))).toStrictEqual(stored(a))
      expect(plain(await ledger.trip('space-b', b.id))).toStrictEqual(stored(b))
      expect(plain(await ledger.tripByKey('space-a', 'shared'))).toStrictEqual(stored(a))
      expect(plain(await ledger.tripByKey('space-b', 'shared'))).toStrictEqual(stored(b))
      // an unknown key, or a key of another space, is null
      expect(await ledger.tripByKey('space-a', 'never-used')).toBeNull()
      expect(await ledger.tripByKey('space-c', 'shared')).toBeNull()
    })

    it('TRIP-2 of 10 concurrent calls with one key exactly one records; the others replay it', async () => {
      const calls = Array.from({ length: 10 }, () => testTrip({ spaceId: 'busy', idempotencyKey: 'retry' }))
      const outcomes = await Promise.all(calls.map((t) => ledger.record(t)))
      const winners = outcomes.filter((o) => o.outcome === 'recorded')
      expect(winners).toHaveLength(1)
      const won = winners[0]!.trip
      for (const o of outcomes.filter((o) => o.outcome !== 'recorded')) {
        expect(o.outcome).toBe('replay')
        expect(plain(o.trip)).toStrictEqual(plain(won))
      }
      expect(plainAll(await ledger.trips('busy'))).toStrictEqual([plain(won)])
    })

    it('TRIP-3 a pending trip of the space holds the slot: a new key conflicts with it, whatever its base version; another space is unaffected', async () => {
      const p = testTrip({ spaceId: 's', baseVersion: 'v1' })
      const pending = await recorded(p)
      const other = testTrip({ spaceId: 's', baseVersion: 'v2' })
      const r = await ledger.record(other)
      expect(r.outcome).toBe('conflict')
      expect(plain(r.trip)).toStrictEqual(plain(pending))
      expect(await ledger.trip('s', other.id)).toBeNull()
      // the same base version in another space records
      await recorded(testTrip({ spaceId: 's-2', baseVersion: 'v1' }))
      // once the pending trip is settled, the next records
      await ledger.complete('s', p.id, 'v1-done')
      await recorded(other)
    })

    it('TRIP-3 a trip not void with the same base version conflicts, also once complete; once it is void the base version is free', async () => {
      const a = testTrip({ spaceId: 's', baseVersion: 'v1' })
      await recorded(a)
      const done = await ledger.complete('s', a.id, 'v2')
      const sameBase = await ledger.record(testTrip({ spaceId: 's', baseVersion: 'v1' }))
      expect(sameBase.outcome).toBe('conflict')
      expect(plain(sameBase.trip)).toStrictEqual(plain(done))

      const b = testTrip({ spaceId: 's', baseVersion: 'v2' })
      await recorded(b)
      const voided = await ledger.void('s', b.id, 'the version moved on')
      const c = testTrip({ spaceId: 's', baseVersion: 'v2' })
      const again = await recorded(c)
      expect(plain(again)).toStrictEqual(stored(c))
      expect(plain(await ledger.trip('s', b.id))).toStrictEqual(plain(voided))

      // pending and same-base at once: the pending trip is the one named
      const d = await ledger.record(testTrip({ spaceId: 's', baseVersion: 'v1' }))
      expect(d.outcome).toBe('conflict')
      expect(plain(d.trip)).toStrictEqual(plain(again))

      ledger = await fx.reopen()
      const afterReopen = await ledger.record(testTrip({ spaceId: 's', baseVersion: 'v1' }))
      expect(afterReopen.outcome).toBe('conflict')
      expect(plain(afterReopen.trip)).toStrictEqual(plain(again))
    })

    it('TRIP-3 of 10 concurrent calls for one space with different keys exactly one records; the others conflict with it', async () => {
      const check = (outcomes: RecordOutcome[]): Trip => {
        const winners = outcomes.filter((o) => o.outcome === 'recorded')
        expect(winners).toHaveLength(1)
        const won = winners[0]!.trip
        for (const o of outcomes.filter((o) => o.outcome !== 'recorded')) {
          expect(o.outcome).toBe('conflict')
          expect(plain(o.trip)).toStrictEqual(plain(won))
        }
        return won
      }
      // each with a base version of its own: only the pending slot stops them
      const first = check(
        await Promise.all(Array.from({ length: 10 }, () => ledger.record(testTrip({ spaceId: 'race' })))),
      )
      await ledger.void('race', first.id, 'done with it')
      // all on one base version
      const second = check(
        await Promise.all(
          Array.from({ length: 10 }, () =>
            ledger.record(testTrip({ spaceId: 'race', baseVersion: 'v-same' })),
          ),
        ),
      )
      expect(plainAll(await ledger.pendingTrips())).toStrictEqual([plain(second)])
      expect(await ledger.trips('race')).toHaveLength(2)
    })

    it('TRIP-4 complete and void act only on a pending trip: a complete trip stays complete, a void one void; each returns the trip as it is', async () => {
      const a = testTrip({ spaceId: 's' })
      await recorded(a)
      const done = await ledger.complete('s', a.id, 'v-done')
      expect(plain(done)).toStrictEqual(stored(a, { status: 'complete', completedVersion: 'v-done' }))
      expect(plain(await ledger.void('s', a.id, 'too late'))).toStrictEqual(plain(done))
      expect(plain(await ledger.complete('s', a.id, 'v-again'))).toStrictEqual(plain(done))
      expect(plain(await ledger.trip('s', a.id))).toStrictEqual(plain(done))

      const b = testTrip({ spaceId: 's' })
      await recorded(b)
      const voided = await ledger.void('s', b.id, 'the removal was refused')
      expect(plain(voided)).toStrictEqual(
        stored(b, { status: 'void', voidReason: 'the removal was refused' }),
      )
      // a late complete never revives a void trip
      expect(plain(await ledger.complete('s', b.id, 'v-late'))).toStrictEqual(plain(voided))
      expect(plain(await ledger.void('s', b.id, 'again'))).toStrictEqual(plain(voided))
      expect(plain(await ledger.trip('s', b.id))).toStrictEqual(plain(voided))

      ledger = await fx.reopen()
      expect(plain(await ledger.trip('s', a.id))).toStrictEqual(plain(done))
      expect(plain(await ledger.trip('s', b.id))).toStrictEqual(plain(voided))
      expect(plain(await ledger.complete('s', b.id, 'v-later'))).toStrictEqual(plain(voided))
    })

    it('TRIP-4 of concurrent complete and void calls on one pending trip one wins; every call returns the trip as it ends', async () => {
      const t = testTrip({ spaceId: 's' })
      await recorded(t)
      const results = await Promise.all([
        ledger.complete('s', t.id, 'v-1'),
        ledger.void('s', t.id, 'failed'),
        ledger.complete('s', t.id, 'v-2'),
        ledger.void('s', t.id, 'failed again'),
      ])
      // the first to commit settles it; every call after it returns it unchanged
      const end = await ledger.trip('s', t.id)
      expect(end!.status).not.toBe('pending')
      for (const r of results) expect(plain(r)).toStrictEqual(plain(end))
    })

    it('TRIP-4 completing or voiding an id never recorded, or one of another space, throws RangeError', async () => {
      const t = testTrip({ spaceId: 's' })
      await recorded(t)
      await expect(ledger.complete('s', 'never-recorded', 'v')).rejects.toBeInstanceOf(RangeError)
      await expect(ledger.void('s', 'never-recorded', 'why')).rejects.toBeInstanceOf(RangeError)
      await expect(ledger.complete('other', t.id, 'v')).rejects.toBeInstanceOf(RangeError)
      await expect(ledger.void('other', t.id, 'why')).rejects.toBeInstanceOf(RangeError)
      expect(plain(await ledger.trip('s', t.id))).toStrictEqual(stored(t))
    })

    it("TRIP-5 trips() lists the space's trips, any status, newest first by finishedAt then id, at most limit", async () => {
      // each settled before the next is recorded (a pending trip holds the slot)
      const make = async (
        id: string,
        finishedAt: number,
        end: 'complete' | 'void' | 'pending',
      ): Promise<Trip> => {
        const t = testTrip({ id, spaceId: 's', finishedAt })
        await recorded(t)
        if (end === 'complete') return ledger.complete('s', id, `${id}-done`)
        if (end === 'void') return ledger.void('s', id, `${id} failed`)
        return (await ledger.trip('s', id))!
      }
      const t2b = await make('t2-b', 2000, 'complete')
      const t1 = await make('t1', 1000, 'void')
      const t3 = await make('t3', 3000, 'complete')
      const t2a = await make('t2-a', 2000, 'void')
      const t2c = await make('t2-c', 2000, 'pending')
      await recorded(testTrip({ spaceId: 'other', finishedAt: 2500 }))
      await recorded(testTrip({ spaceId: 's-', finishedAt: 2500 }))

      const newestFirst = [t3, t2c, t2b, t2a, t1].map(plain)
      expect(plainAll(await ledger.trips('s'))).toStrictEqual(newestFirst)
      expect(plainAll(await ledger.trips('s', { limit: 2 }))).toStrictEqual(newestFirst.slice(0, 2))
      expect(plainAll(await ledger.trips('s', { limit: 5 }))).toStrictEqual(newestFirst)
      expect(plainAll(await ledger.trips('s', { limit: 50 }))).toStrictEqual(newestFirst)
      expect(await ledger.trips('s', { limit: 0 })).toEqual([])
      expect(await ledger.trips('never-seen')).toEqual([])
      ledger = await fx.reopen()
      expect(plainAll(await ledger.trips('s', {}))).toStrictEqual(newestFirst)
    })

    it('TRIP-5 trips() gives at most 100 without a limit; a limit that is not a whole number ≥ 0 throws RangeError', async () => {
      const all: Trip[] = []
      for (let i = 0; i < 101; i++) {
        const t = testTrip({ spaceId: 'many', finishedAt: 1_000_000 + i })
        await recorded(t)
        all.push(await ledger.void('many', t.id, 'x'))
      }
      const newest = all.reverse().map(plain)
      expect(plainAll(await ledger.trips('many'))).toStrictEqual(newest.slice(0, 100))
      expect(plainAll(await ledger.trips('many', { limit: 101 }))).toStrictEqual(newest)
      for (const limit of [-1, 1.5, Number.NaN]) {
        await expect(ledger.trips('many', { limit })).rejects.toBeInstanceOf(RangeError)
      }
    })

    it('TRIP-6 pendingTrips() lists the pending trips of every space, oldest first, never a complete or void one', async () => {
      expect(await ledger.pendingTrips()).toEqual([])
      const b = await recorded(testTrip({ id: 'b', spaceId: 'space-b', finishedAt: 1000 }))
      const a = await recorded(testTrip({ id: 'a', spaceId: 'space-a', finishedAt: 2000 }))
      // settled ones, before the space's pending one
      const c1 = testTrip({ spaceId: 'space-c', finishedAt: 500 })
      await recorded(c1)
      await ledger.complete('space-c', c1.id, 'v')
      const c2 = testTrip({ spaceId: 'space-c', finishedAt: 600 })
      await recorded(c2)
      await ledger.void('space-c', c2.id, 'failed')
      const c = await recorded(testTrip({ id: 'c', spaceId: 'space-c', finishedAt: 2000 }))
      const d = testTrip({ spaceId: 'space-d', finishedAt: 100 })
      await recorded(d)
      await ledger.void('space-d', d.id, 'failed')

      const oldestFirst = [b, a, c].map(plain)
      expect(plainAll(await ledger.pendingTrips())).toStrictEqual(oldestFirst)
      ledger = await fx.reopen()
      expect(plainAll(await ledger.pendingTrips())).toStrictEqual(oldestFirst)
      await ledger.complete('space-a', 'a', 'v-a')
      expect(plainAll(await ledger.pendingTrips())).toStrictEqual([plain(b), plain(c)])
    })
  })
}
