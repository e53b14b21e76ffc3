import { browser } from './browser.js'

/**
 * Finishing a shopping trip from a device (PROTOCOL.md §P9, §P10): the server's committed view of the
 * space (`GET /api/spaces/<id>`), `POST /api/spaces/<id>/trips` with an Idempotency-Key and the
 * version that view was read at as If-Match, and the space's trips. Every answer is a value, never a
 * throw: `status: null` means the request did not reach the server.
 */

/** One line of the cart as the server's read model shows it. */
export interface ServerLine {
  readonly key: string
  readonly name: string
  readonly quantity: number
  readonly unit: string
  readonly priceCents: number | null
  readonly checked: boolean
  readonly checkedBy: string | null
}

/** The space as the server has committed it: what a trip finished now would record. */
export interface ServerView {
  /** The committed version (a version token): a trip's If-Match. */
  readonly version: string
  readonly cart: readonly ServerLine[]
}

export interface TripLine {
  readonly key: string
  readonly name: string
  readonly quantity: number
  readonly unit: string
  readonly priceCents: number | null
  readonly checkedBy: string | null
}

export interface Trip {
  readonly id: string
  readonly spaceId: string
  readonly status: 'pending' | 'complete' | 'void'
  readonly finishedBy: string
  /** ms since the epoch */
  readonly finishedAt: number
  readonly lines: readonly TripLine[]
  readonly totalCents: number
  readonly unpricedLines: number
  readonly baseVersion: string
  readonly completedVersion: string | null
  readonly voidReason: string | null
}

export interface Failure {
  /** The HTTP status, or null when the request did not reach the server. */
  readonly status: number | null
  readonly message: string
  /** 409, 412, 503 after step 1: the trip that won, the newest trip, the voided one. */
  readonly trip?: Trip | null
  /** 412: the committed version now. */
  readonly version?: string
  /** Retry-After, in milliseconds. */
  readonly retryAfterMs?: number
}

export type Result<T> = ({ readonly ok: true } & T) | ({ readonly ok: false } & Failure)

export interface TripsApi {
  /** The committed view of the space (read or write token). */
  serverView(spaceId: string, token: string): Promise<Result<{ view: ServerView }>>
  /**
   * Finishes the trip of what is checked off at `ifMatch` (write token). Retrying with the same
   * `key` is safe: the server answers with the same trip (TRIPS-2).
   */
  finishTrip(
    spaceId: string,
    writeToken: string,
    o: { readonly key: string; readonly ifMatch: string; readonly by: string },
  ): Promise<Result<{ trip: Trip; replay: boolean }>>
  /** The space's trips, newest first (read or write token). */
  trips(spaceId: string, token: string): Promise<Result<{ trips: readonly Trip[] }>>
}

export interface HttpTripsApiOptions {
  /** Default: the browser's `fetch`. */
  readonly fetch?: typeof fetch
  /** A request that has not answered by then counts as not reaching the server (default 15 s). */
  readonly timeoutMs?: number
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

const isTrip = (v: unknown): v is Trip =>
  isObject(v) &&
  typeof v.id === 'string' &&
  typeof v.status === 'string' &&
  typeof v.finishedAt === 'number' &&
  Array.isArray(v.lines) &&
  typeof v.totalCents === 'number'

/** `TripsApi` over HTTP at `apiBase` (e.g. `https://converge.example/api`). */
export function httpTripsApi(apiBase: string, options: HttpTripsApiOptions = {}): TripsApi {
  const timeoutMs = options.timeoutMs ?? 15_000
  const call = async (
    path: string,
    init: RequestInit,
  ): Promise<{ res: Response; json: unknown } | ({ ok: false } & Failure)> => {
    const fetchFn = options.fetch ?? browser.fetch()
    let res: Response
    try {
      if (!fetchFn) throw new Error('no fetch here')
      res = await fetchFn(`${apiBase}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    } catch (e) {
      return { ok: false, status: null, message: e instanceof Error ? e.message : String(e) }
    }
    let json: unknown = null
    try {
      json = await res.json()
    } catch {
      /* not JSON */
    }
    return { res, json }
  }
  const failure = (res: Response, json: unknown): { ok: false } & Failure => {
    const o = isObject(json) ? json : {}
    const retryAfter = Number(res.headers.get('retry-after'))
    return {
      ok: false,
      status: res.status,
      message: typeof o.error === 'string' ? o.error : `the server answered ${res.status}`,
      ...(isTrip(o.trip) ? { trip: o.trip } : o.trip === null ? { trip: null } : {}),
      ...(typeof o.version === 'string' ? { version: o.version } : {}),
      ...(res.headers.has('retry-after') && Number.isFinite(retryAfter)
        ? { retryAfterMs: retryAfter * 1000 }
        : {}),
    }
  }
  const space = (id: string): string => `/spaces/${encodeURIComponent(id)}`
  return {
    async serverView(spaceId, token) {
      const r = await call(space(spaceId), { headers: { authorization: `Bearer ${token}` } })
      if ('ok' in r) return r
      const o = r.json
      if (r.res.status === 200 && isObject(o) && typeof o.version === 'string' && Array.isArray(o.cart))
        return { ok: true, view: { version: o.version, cart: o.cart as ServerLine[] } }
      return failure(r.res, o)
    },
    async finishTrip(spaceId, writeToken, { key, ifMatch, by }) {
      const r = await call(`${space(spaceId)}/trips`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${writeToken}`,
          'content-type': 'application/json',
          'idempotency-key': key,
          'if-match': `"${ifMatch}"`,
        },
        body: JSON.stringify({ by }),
      })
      if ('ok' in r) return r
      const o = r.json
      if (r.res.status === 201 && isObject(o) && isTrip(o.trip))
        return { ok: true, trip: o.trip, replay: o.replay === true }
      return failure(r.res, o)
    },
    async trips(spaceId, token) {
      const r = await call(`${space(spaceId)}/trips`, { headers: { authorization: `Bearer ${token}` } })
      if ('ok' in r) return r
      const o = r.json
      if (r.res.status === 200 && isObject(o) && Array.isArray(o.trips))
        return { ok: true, trips: o.trips.filter(isTrip) }
      return failure(r.res, o)
    },
  }
}
