/**
 * Resetting a space's share links (PROTOCOL.md §P5.10): with a write token of the current link
 * generation, the space's generation goes up by one in storage, a new write and read token are
 * issued for it, and every open socket of an older link is closed with 4410 — on this instance at
 * once, on the others through the fan-out (server-core REVOKE-1…3). One log line per reset (the
 * space id and the new generation, never a token) and a metric.
 */
import { type SpaceRegistry, StorageError, type SyncCore } from '@converge/server-core'
import type { Auth, Tokens } from './auth.js'
import type { Logger } from './log.js'
import type { Metrics } from './metrics.js'

export type LinkReset =
  | { readonly ok: true; readonly tokens: Tokens; readonly generation: number }
  | {
      readonly ok: false
      /** 401: no valid token of the current generation; 403: read-only or another space's; 409: AUTH=off; 503: storage. */
      readonly status: 401 | 403 | 409 | 503
      readonly error: string
    }

export interface LinkResets {
  /** Resets the links of `spaceId` if `token` is a write token of its current generation. */
  reset(spaceId: string, token: string): Promise<LinkReset>
}

export interface LinkResetDeps {
  readonly auth: Auth
  readonly registry: Pick<SpaceRegistry, 'bumpLinkGeneration'>
  readonly core: Pick<SyncCore, 'revokeLinks'>
  readonly log: Logger
  readonly metrics: Pick<Metrics, 'linksReset'>
  /** AUTH=off: nobody's link is checked, so resetting one would promise what it cannot keep. */
  readonly enabled: boolean
}

export function createLinkResets({ auth, registry, core, log, metrics, enabled }: LinkResetDeps): LinkResets {
  return {
    async reset(spaceId, token) {
      if (!enabled)
        return {
          ok: false,
          status: 409,
          error: 'links cannot be reset while AUTH=off: every space is open to anyone',
        }
      let generation: number
      try {
        const decision = await auth.verify(spaceId, token)
        if (!decision.ok) {
          if (decision.kind === 'Forbidden')
            return { ok: false, status: 403, error: 'this link is for another space' }
          return {
            ok: false,
            status: 401,
            error:
              decision.kind === 'LinkRevoked'
                ? 'this link was reset already: use the new one'
                : 'this link is not valid',
          }
        }
        if (decision.access !== 'write')
          return { ok: false, status: 403, error: 'a read-only link cannot reset the links' }
        generation = await registry.bumpLinkGeneration(spaceId)
      } catch (e) {
        if (!(e instanceof StorageError)) throw e
        log.error({ spaceId }, 'share links reset failed: storage unavailable')
        return { ok: false, status: 503, error: 'the server cannot store this right now; try again' }
      }
      // the new links exist from here on: close the old ones' sockets everywhere, then hand them out
      const tokens = await auth.issueTokens(spaceId, generation)
      const closed = core.revokeLinks(spaceId, generation)
      metrics.linksReset(closed)
      log.info({ spaceId, generation, closed }, 'share links reset')
      return { ok: true, tokens, generation }
    },
  }
}
