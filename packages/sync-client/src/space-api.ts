import type { EngineKind } from '@converge/merge'
import { browser } from './browser.js'

/** The server's HTTP API for spaces (`POST /api/spaces`, `POST /api/spaces/<id>/links/reset`). */

export interface SpaceTokens {
  readonly writeToken: string
  readonly readToken: string
}

export interface CreatedSpace extends SpaceTokens {
  readonly id: string
}

export type CreateResult =
  | ({ readonly ok: true } & CreatedSpace)
  | {
      readonly ok: false
      /** the HTTP status, or null when the request did not reach the server */
      readonly status: number | null
      readonly message: string
      /** A 429's `Retry-After`, in milliseconds (REG-6). */
      readonly retryAfterMs?: number
    }

export type ResetResult =
  | ({ readonly ok: true } & SpaceTokens)
  | {
      readonly ok: false
      /** the HTTP status, or null when the request did not reach the server */
      readonly status: number | null
      readonly message: string
    }

export interface SpaceApi {
  /** Creates a space on the server; `id` registers one created offline under its local id (REG-1). */
  /**
   * `engine`: sent only for another engine than Yjs — a server from before engines refuses a body
   * with a field it does not know.
   */
  createSpace(body: { name?: string; id?: string; engine?: EngineKind }): Promise<CreateResult>
  /**
   * Resets the space's share links with its write token (PROTOCOL.md §P5.10): the old links stop
   * working at once, everywhere; the answer holds the new write and read tokens (SYNC-11).
   */
  resetLinks(spaceId: string, writeToken: string): Promise<ResetResult>
}

export interface HttpSpaceApiOptions {
  /** Default: the browser's `fetch`. */
  readonly fetch?: typeof fetch
  /** A request that has not answered by then counts as not reaching the server (default 10 s). */
  readonly timeoutMs?: number
}

const isCreated = (v: unknown): v is CreatedSpace => {
  const o = v as Partial<Record<keyof CreatedSpace, unknown>> | null
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.id === 'string' &&
    typeof o.writeToken === 'string' &&
    typeof o.readToken === 'string'
  )
}

const isTokens = (v: unknown): v is SpaceTokens => {
  const o = v as Partial<Record<keyof SpaceTokens, unknown>> | null
  return (
    typeof o === 'object' && o !== null && typeof o.writeToken === 'string' && typeof o.readToken === 'string'
  )
}

/** The `error` of a JSON answer, or a sentence naming the status. */
const errorOf = (json: unknown, status: number): string => {
  const error = (json as { error?: unknown } | null)?.error
  return typeof error === 'string' ? error : `the server answered ${status}`
}

/** `SpaceApi` over HTTP at `apiBase` (e.g. `https://converge.example/api`). */
export function httpSpaceApi(apiBase: string, options: HttpSpaceApiOptions = {}): SpaceApi {
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    async resetLinks(spaceId, writeToken) {
      const fetchFn = options.fetch ?? browser.fetch()
      let res: Response
      try {
        if (!fetchFn) throw new Error('no fetch here')
        res = await fetchFn(`${apiBase}/spaces/${encodeURIComponent(spaceId)}/links/reset`, {
          method: 'POST',
          headers: { authorization: `Bearer ${writeToken}` },
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (e) {
        return { ok: false, status: null, message: e instanceof Error ? e.message : String(e) }
      }
      let json: unknown = null
      try {
        json = await res.json()
      } catch {
        /* not JSON */
      }
      if (res.status === 200 && isTokens(json))
        return { ok: true, writeToken: json.writeToken, readToken: json.readToken }
      return { ok: false, status: res.status, message: errorOf(json, res.status) }
    },
    async createSpace(body) {
      const fetchFn = options.fetch ?? browser.fetch()
      let res: Response
      try {
        if (!fetchFn) throw new Error('no fetch here')
        res = await fetchFn(`${apiBase}/spaces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body.engine === 'yjs' ? { ...body, engine: undefined } : body),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (e) {
        return { ok: false, status: null, message: e instanceof Error ? e.message : String(e) }
      }
      let json: unknown = null
      try {
        json = await res.json()
      } catch {
        /* not JSON */
      }
      if (res.status === 201 && isCreated(json))
        return { ok: true, id: json.id, writeToken: json.writeToken, readToken: json.readToken }
      const message = errorOf(json, res.status)
      const retryAfter = Number(res.headers.get('retry-after'))
      return {
        ok: false,
        status: res.status,
        message,
        ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      }
    },
  }
}
