import {
  StorageError,
  type NewTrip,
  type RecordOutcome,
  type Trip,
  type TripLedger,
  type TripLine,
} from './ports.js'

/** The backing store of MemoryTripLedger, by trip id; share one between instances to "reopen" it. */
export type MemoryTripStore = Map<string, Trip>

export function createMemoryTripStore(): MemoryTripStore {
  return new Map<string, Trip>()
}

/**
 * The in-memory reference TripLedger (TRIP-n), for unit tests and the simulation: nothing survives
 * the process (share a `MemoryTripStore` to "reopen"). Each method runs in one synchronous step, so
 * it is as atomic as a transaction. Stores copies of what it is given and hands out copies, so
 * callers cannot alias stored lines or bytes.
 */
export class MemoryTripLedger implements TripLedger {
  readonly store: MemoryTripStore
  private closed = false

  constructor(store: MemoryTripStore = createMemoryTripStore()) {
    this.store = store
  }

  record(trip: NewTrip): Promise<RecordOutcome> {
    return this.run('record', trip.spaceId, (): RecordOutcome => {
      const mine = [...this.store.values()].filter((t) => t.spaceId === trip.spaceId)
      const same = mine.find((t) => t.idempotencyKey === trip.idempotencyKey)
      if (same) return { outcome: 'replay', trip: copyTrip(same) }
      const holder =
        mine.find((t) => t.status === 'pending') ??
        mine.find((t) => t.status !== 'void' && t.baseVersion === trip.baseVersion)
      if (holder) return { outcome: 'conflict', trip: copyTrip(holder) }
      if (this.store.has(trip.id)) throw new Error(`trip id "${trip.id}" is taken`)
      const stored: Trip = {
        ...copyNewTrip(trip),
        status: 'pending',
        completedVersion: null,
        voidReason: null,
      }
      this.store.set(stored.id, stored)
      return { outcome: 'recorded', trip: copyTrip(stored) }
    })
  }

  complete(spaceId: string, id: string, version: string): Promise<Trip> {
    return this.run('complete', spaceId, () =>
      this.settle(spaceId, id, { status: 'complete', completedVersion: version, voidReason: null }),
    )
  }

  void(spaceId: string, id: string, reason: string): Promise<Trip> {
    return this.run('void', spaceId, () =>
      this.settle(spaceId, id, { status: 'void', completedVersion: null, voidReason: reason }),
    )
  }

  trip(spaceId: string, id: string): Promise<Trip | null> {
    return this.run('trip', spaceId, () => {
      const t = this.store.get(id)
      return t && t.spaceId === spaceId ? copyTrip(t) : null
    })
  }

  tripByKey(spaceId: string, idempotencyKey: string): Promise<Trip | null> {
    return this.run('tripByKey', spaceId, () => {
      for (const t of this.store.values()) {
        if (t.spaceId === spaceId && t.idempotencyKey === idempotencyKey) return copyTrip(t)
      }
      return null
    })
  }

  trips(spaceId: string, options?: { readonly limit?: number }): Promise<Trip[]> {
    return this.run('trips', spaceId, () => {
      const limit = checkLimit(options?.limit)
      return [...this.store.values()]
        .filter((t) => t.spaceId === spaceId)
        .sort((a, b) => -oldestFirst(a, b))
        .slice(0, limit)
        .map(copyTrip)
    })
  }

  pendingTrips(): Promise<Trip[]> {
    return this.run('pendingTrips', null, () =>
      [...this.store.values()]
        .filter((t) => t.status === 'pending')
        .sort(oldestFirst)
        .map(copyTrip),
    )
  }

  /** Releases nothing but refuses every call after it (StorageError), as a closed database would. */
  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }

  /** pending → `to`; a trip that is not pending is left as it is. Returns the trip as it is after. */
  private settle(
    spaceId: string,
    id: string,
    to: Pick<Trip, 'status' | 'completedVersion' | 'voidReason'>,
  ): Trip {
    const t = this.store.get(id)
    if (!t || t.spaceId !== spaceId) throw new RangeError(`space "${spaceId}" has no trip "${id}"`)
    if (t.status !== 'pending') return copyTrip(t)
    const after: Trip = { ...t, ...to }
    this.store.set(id, after)
    return copyTrip(after)
  }

  /** Runs `fn` as an operation: a rejected promise (never a synchronous throw) on failure. */
  private run<T>(operation: string, spaceId: string | null, fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (this.closed) {
        const where = spaceId === null ? '' : ` of space "${spaceId}"`
        throw new StorageError(`memory trip ledger: ${operation}${where} after close`)
      }
      resolve(fn())
    })
  }
}

/** The default and the check of `trips`' limit: a whole number ≥ 0, else RangeError. */
function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return 100
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`trips: limit ${limit} is not a whole number ≥ 0`)
  }
  return limit
}

/** By finishedAt, then id (UTF-16 code units: the same as byte order for the url-safe ids). */
function oldestFirst(a: Trip, b: Trip): number {
  if (a.finishedAt !== b.finishedAt) return a.finishedAt - b.finishedAt
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function copyLine(l: TripLine): TripLine {
  return {
    key: l.key,
    name: l.name,
    quantity: l.quantity,
    unit: l.unit,
    priceCents: l.priceCents,
    checkedBy: l.checkedBy,
  }
}

/** Exactly the fields of a NewTrip (a Trip passed in keeps none of its own), lines and bytes copied. */
function copyNewTrip(t: NewTrip): NewTrip {
  return {
    id: t.id,
    spaceId: t.spaceId,
    idempotencyKey: t.idempotencyKey,
    baseVersion: t.baseVersion,
    finishedBy: t.finishedBy,
    finishedAt: t.finishedAt,
    lines: t.lines.map(copyLine),
    totalCents: t.totalCents,
    unpricedLines: t.unpricedLines,
    removal: new Uint8Array(t.removal), // a copy (a Buffer's slice() would share its memory)
  }
}

function copyTrip(t: Trip): Trip {
  return {
    ...copyNewTrip(t),
    status: t.status,
    completedVersion: t.completedVersion,
    voidReason: t.voidReason,
  }
}
