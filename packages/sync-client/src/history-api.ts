import * as buffer from 'lib0/buffer'
import type { EngineKind } from '@converge/merge'
import { browser } from './browser.js'

/**
 * The versions the server keeps of a space (PROTOCOL.md §P11): listed, and one fetched whole to
 * preview read-only and restore through packages/merge (`Space.restoreFrom`, RESTORE-1…6). Every
 * answer is a value, never a throw: `status: null` means the request did not reach the server.
 */

export interface VersionInfo {
  readonly id: number
  /** When it was saved (ms since the epoch). */
  readonly at: number
  /** How many changes it gathered since the one before. */
  readonly changes: number
  /** Who made them (names, as the people's apps call them). */
  readonly authors: readonly string[]
  readonly bytes: number
}

export interface VersionState extends VersionInfo {
  readonly engine: EngineKind
  /** The whole document at that version, as an update of its engine (`openSpace({ state })`). */
  readonly state: Uint8Array
}

export type HistoryResult<T> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly status: number | null; readonly message: string }

export interface HistoryApi {
  versions(spaceId: string, token: string): Promise<HistoryResult<{ versions: readonly VersionInfo[] }>>
  version(spaceId: string, id: number, token: string): Promise<HistoryResult<{ version: VersionState }>>
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

const isInfo = (v: unknown): v is VersionInfo =>
  isObject(v) &&
  typeof v.id === 'number' &&
  typeof v.at === 'number' &&
  typeof v.changes === 'number' &&
  Array.isArray(v.authors) &&
  v.authors.every((a) => typeof a === 'string')

/** `HistoryApi` over HTTP at `apiBase` (e.g. `https://converge.example/api`). */
export function httpHistoryApi(
  apiBase: string,
  options: { readonly fetch?: typeof fetch; readonly timeoutMs?: number } = {},
): HistoryApi {
  const timeoutMs = options.timeoutMs ?? 15_000
  const get = async (
    path: string,
    token: string,
  ): Promise<{ status: number | null; json: unknown; message: string }> => {
    const fetchFn = options.fetch ?? browser.fetch()
    try {
      if (!fetchFn) throw new Error('no fetch here')
      const res = await fetchFn(`${apiBase}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      })
      let json: unknown = null
      try {
        json = await res.json()
      } catch {
        /* not JSON */
      }
      const error =
        isObject(json) && typeof json.error === 'string' ? json.error : `the server answered ${res.status}`
      return { status: res.status, json, message: error }
    } catch (e) {
      return { status: null, json: null, message: e instanceof Error ? e.message : String(e) }
    }
  }
  const space = (id: string): string => `/spaces/${encodeURIComponent(id)}/versions`
  return {
    async versions(spaceId, token) {
      const r = await get(space(spaceId), token)
      if (r.status === 200 && isObject(r.json) && Array.isArray(r.json.versions))
        return { ok: true, versions: r.json.versions.filter(isInfo) }
      return { ok: false, status: r.status, message: r.message }
    },
    async version(spaceId, id, token) {
      const r = await get(`${space(spaceId)}/${id}`, token)
      const o = r.json
      if (
        r.status === 200 &&
        isInfo(o) &&
        (o as { engine?: unknown }).engine !== undefined &&
        typeof (o as { state?: unknown }).state === 'string'
      ) {
        const { engine, state } = o as unknown as { engine: EngineKind; state: string }
        try {
          return { ok: true, version: { ...o, engine, state: buffer.fromBase64(state) } }
        } catch {
          return { ok: false, status: 200, message: 'the version does not decode' }
        }
      }
      return { ok: false, status: r.status, message: r.message }
    },
  }
}
