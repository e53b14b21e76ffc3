/** The server's HTTP API (POST /api/spaces). */

export interface CreatedSpace {
  readonly id: string
  readonly writeToken: string
  readonly readToken: string
}

export type CreateResult =
  | ({ readonly ok: true } & CreatedSpace)
  | {
      readonly ok: false
      /** the HTTP status, or null when the request did not reach the server */
      readonly status: number | null
      readonly message: string
    }

export interface SpaceApi {
  /** Creates a space on the server; `id` registers one created offline under its local id. */
  createSpace(body: { name?: string; id?: string }): Promise<CreateResult>
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

export function httpSpaceApi(apiBase: string, fetchFn: typeof fetch = (...a) => fetch(...a)): SpaceApi {
  return {
    async createSpace(body) {
      let res: Response
      try {
        res = await fetchFn(`${apiBase}/spaces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
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
      const error = (json as { error?: unknown } | null)?.error
      const message = typeof error === 'string' ? error : `the server answered ${res.status}`
      return { ok: false, status: res.status, message }
    },
  }
}
