/**
 * Finishing a shopping trip (PROTOCOL.md §P10; SPEC.md TRIPS-1…TRIPS-7): the one strongly consistent
 * island of a space. A trip is recorded exactly once however many phones press "Done", and its bought
 * lines leave the list once — a saga of two steps over two stores:
 *
 * 1. **Record** (the ledger, one SQL transaction: server-core `TripLedger`, TRIP-1…6): the lines that
 *    are checked off at the committed version the client's `If-Match` names, with quantities, prices,
 *    who checked them and the totals — and the CRDT change that removes exactly those lines, made
 *    here through packages/merge at that version. Pending.
 * 2. **Remove** (the space: server-core `SyncCore.write`, WRITE-1…3): that change committed to the
 *    space's log before anyone holds it (origin `server:trip`), then relayed like any edit. Complete.
 *
 * If step 2 fails, the compensation marks the trip void and the client is told; nothing was removed.
 * A process killed between the steps finds the trip pending on restart and finishes it (`recover`):
 * step 2's change is kept in the ledger and applying it again is a no-op, so a pending trip is
 * rolled forward, never left half-done. Concurrent "Done"s are decided by the ledger's
 * one-pending-trip-per-space and one-trip-per-base-version rules; a retry with the same
 * Idempotency-Key gets the same trip back.
 */
import { randomBytes } from 'node:crypto'
import { type EngineKind, Origin, loadEngine, openSpace } from '@converge/merge'
import { versionToken } from '@converge/protocol'
import {
  MalformedVersion,
  type SpaceRead,
  type SyncCore,
  type Trip,
  type TripLedger,
  type TripLine,
} from '@converge/server-core'
import type { Logger } from './log.js'

/**
 * Test-only faults between the saga's steps (SPEC.md TRIPS-5, TRIPS-6): `fail-remove` makes step 2
 * fail; `crash-after-record` and `crash-after-remove` kill the process (SIGKILL) right after step 1,
 * or right after step 2's commit and before the ledger hears of it.
 */
export type TripFault = 'fail-remove' | 'crash-after-record' | 'crash-after-remove'
export const TRIP_FAULTS: readonly TripFault[] = ['fail-remove', 'crash-after-record', 'crash-after-remove']

/** A trip as the API shows it: everything but the CRDT change. */
export type TripView = Omit<Trip, 'removal' | 'idempotencyKey'>

export const tripView = ({ removal: _r, idempotencyKey: _k, ...rest }: Trip): TripView => rest

/** What finishing a trip answered (the HTTP status and body, PROTOCOL.md §P10). */
export type FinishOutcome =
  /** Recorded and the lines removed — also for a retry of a complete one (TRIPS-1, TRIPS-2). */
  | { readonly status: 201; readonly trip: TripView; readonly replay: boolean }
  /** Another "Done" won (TRIPS-3), or the one under this key is still being finished. */
  | { readonly status: 409; readonly error: string; readonly trip: TripView }
  /** The committed version is not the one If-Match names (TRIPS-4); the newest trip, if any. */
  | {
      readonly status: 412
      readonly error: string
      readonly version: string
      readonly trip: TripView | null
    }
  /** Nothing is checked off (or the If-Match is not a version of this space). */
  | { readonly status: 400 | 422; readonly error: string }
  /**
   * Step 2 failed: the trip is void, nothing was removed (TRIPS-5) — also for a retry of it, which
   * gets the same void trip for ever: finishing again takes a new key (so no Retry-After).
   */
  | { readonly status: 503; readonly error: string; readonly trip: TripView }
  /** The space is busy committing, or storage is unavailable: nothing happened; retry. */
  | { readonly status: 503; readonly error: string; readonly trip?: undefined; readonly retryAfter: number }

export interface FinishRequest {
  readonly spaceId: string
  readonly idempotencyKey: string
  /** The If-Match's version token: the committed version the client saw. */
  readonly ifMatch: Uint8Array
  /** Who pressed "Done" (a name). */
  readonly by: string
}

export interface TripsDeps {
  readonly core: Pick<SyncCore, 'read' | 'write'>
  readonly ledger: TripLedger
  readonly log: Logger
  readonly now?: () => number
  readonly fault?: TripFault | null
  /** What a crash fault does (default: SIGKILL this process). */
  readonly crash?: () => void
}

export interface Trips {
  finish(request: FinishRequest): Promise<FinishOutcome>
  /** The space's trips, newest first (TRIPS-7). */
  list(spaceId: string, limit?: number): Promise<TripView[]>
  /**
   * TRIPS-6: finishes every trip left pending by a process that stopped between the steps — those
   * finished before `before` (ms; this process's start), so none still in flight here is touched.
   * Resolves with how many it completed and voided.
   */
  recover(before: number): Promise<{ complete: number; void: number }>
}

const newTripId = (): string => randomBytes(12).toString('base64url')

/** The checked-off lines of a state, and the change removing exactly them (made at that state). */
async function tripOf(
  engine: EngineKind,
  spaceId: string,
  state: Uint8Array,
): Promise<{ lines: TripLine[]; removal: Uint8Array | null }> {
  await loadEngine(engine)
  const space = openSpace({ engine, spaceId, state, origin: Origin.ServerTrip })
  try {
    const bought = space.items().filter((i) => i.checked)
    const lines = bought.map((i) => ({
      key: i.key,
      name: i.name,
      quantity: i.quantity,
      unit: i.unit,
      priceCents: i.priceCents,
      checkedBy: i.checkedBy,
    }))
    if (bought.length === 0) return { lines, removal: null }
    const updates: Uint8Array[] = []
    const stop = space.onUpdate((update, e) => {
      if (e.local) updates.push(update)
    })
    // CART-3: an observed remove of what this state holds of each line; what anyone adds to it
    // concurrently stays on the list
    space.transact(() => {
      for (const i of bought) space.removeItem(i.key)
    })
    stop()
    if (updates.length !== 1) throw new Error(`the removal made ${updates.length} changes, not one`)
    return { lines, removal: updates[0]! }
  } finally {
    space.destroy()
  }
}

export function createTrips({ core, ledger, log, now = Date.now, fault = null, crash }: TripsDeps): Trips {
  const kill = crash ?? ((): void => void process.kill(process.pid, 'SIGKILL'))

  /** Step 2, then the ledger's last word: complete, or void when the change could not be committed. */
  async function remove(trip: Trip): Promise<Trip> {
    let version: Uint8Array | null = null
    let why = 'the list could not be stored'
    try {
      if (fault === 'fail-remove') throw new Error('fault injected: fail-remove')
      version = await core.write(trip.spaceId, trip.removal, Origin.ServerTrip)
    } catch (e) {
      why = e instanceof Error ? e.message : String(e)
    }
    if (version === null) {
      // the compensation: the trip never happened; nothing of the change reached the space (WRITE-2)
      const voided = await ledger.void(trip.spaceId, trip.id, why)
      log.error(
        { spaceId: trip.spaceId, trip: trip.id, err: why },
        'trip void: its lines could not be removed',
      )
      return voided
    }
    if (fault === 'crash-after-remove') kill()
    const done = await ledger.complete(trip.spaceId, trip.id, versionToken(version))
    log.info(
      { spaceId: trip.spaceId, trip: trip.id, lines: trip.lines.length, totalCents: trip.totalCents },
      'trip finished',
    )
    return done
  }

  /** The answer for a trip found under the request's key: what the first request was answered. */
  const answerFor = (trip: Trip): FinishOutcome => {
    if (trip.status === 'complete') return { status: 201, trip: tripView(trip), replay: true }
    if (trip.status === 'void')
      return {
        status: 503,
        error:
          'this trip was voided: its lines could not be removed, so it was not recorded; finish again with a new Idempotency-Key',
        trip: tripView(trip),
      }
    return { status: 409, error: 'this trip is still being finished', trip: tripView(trip) }
  }

  return {
    async finish({ spaceId, idempotencyKey, ifMatch, by }) {
      // TRIPS-2: a retry gets the first answer, whatever the space holds now
      const earlier = await ledger.tripByKey(spaceId, idempotencyKey)
      if (earlier) return answerFor(earlier)
      let read: SpaceRead
      try {
        read = await core.read(spaceId, { settle: true, ifMatch })
      } catch (e) {
        if (e instanceof MalformedVersion)
          return { status: 400, error: `If-Match is not a version of this space: ${e.message}` }
        throw e
      }
      const version = versionToken(read.version)
      if (!read.matches) {
        // TRIPS-4 (and TRIPS-3 for a "Done" that lost to one already complete): the newest trip
        const [newest] = await ledger.trips(spaceId, { limit: 1 })
        return {
          status: 412,
          error: 'the list changed since this version: look again and finish with the current one',
          version,
          trip: newest ? tripView(newest) : null,
        }
      }
      if (!read.settled)
        return { status: 503, error: 'the space is saving changes; try again in a moment', retryAfter: 1 }
      const { lines, removal } = await tripOf(read.engine, spaceId, read.state)
      if (!removal) return { status: 422, error: 'nothing is checked off: there is no trip to finish' }
      const priced = lines.filter((l) => l.priceCents !== null)
      const recorded = await ledger.record({
        id: newTripId(),
        spaceId,
        idempotencyKey,
        baseVersion: version,
        finishedBy: by,
        finishedAt: now(),
        lines,
        totalCents: priced.reduce((n, l) => n + l.quantity * l.priceCents!, 0),
        unpricedLines: lines.length - priced.length,
        removal,
      })
      if (recorded.outcome === 'replay') return answerFor(recorded.trip)
      if (recorded.outcome === 'conflict') {
        log.info({ spaceId, trip: recorded.trip.id }, 'trip refused: another one of this list won')
        return {
          status: 409,
          error: `${recorded.trip.finishedBy || 'someone'} finished this trip already`,
          trip: tripView(recorded.trip),
        }
      }
      if (fault === 'crash-after-record') kill()
      const trip = await remove(recorded.trip)
      if (trip.status === 'complete') return { status: 201, trip: tripView(trip), replay: false }
      return answerFor(trip)
    },

    async list(spaceId, limit = 100) {
      return (await ledger.trips(spaceId, { limit })).map(tripView)
    },

    async recover(before) {
      const counts = { complete: 0, void: 0 }
      for (const trip of await ledger.pendingTrips()) {
        if (trip.finishedAt >= before) continue
        log.warn({ spaceId: trip.spaceId, trip: trip.id }, 'trip left pending by a stop: finishing it')
        const after = await remove(trip)
        if (after.status === 'complete') counts.complete++
        else if (after.status === 'void') counts.void++
      }
      return counts
    },
  }
}
