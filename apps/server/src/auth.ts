/**
 * Tokens: JWTs signed with HS256 (jose), `{ sub: spaceId, scope: 'write' | 'read', gen }`, optional
 * `exp`. `gen` is the space's link generation when the token was issued (absent: 0, tokens from
 * before link resets); a token older than the space's current generation is refused with
 * LinkRevoked (PROTOCOL.md §P5.10). The generation is read from storage on every connect — one
 * indexed row — so a reset on any instance counts on every other at once, with no cache to
 * invalidate. Issued without expiry by POST /api/spaces and the link reset. The token itself is
 * never logged.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Access, AuthDecision, Authenticate } from '@converge/server-core'
import { SignJWT, errors, jwtVerify } from 'jose'
import { StartupError, createFileAtomic, removeStaleTemps } from './datadir.js'
import type { Logger } from './log.js'

export interface Tokens {
  readonly writeToken: string
  readonly readToken: string
}

export interface Auth {
  readonly authenticate: Authenticate
  /**
   * What a token allows on a space, checked in full (signature, expiry, space, link generation)
   * whether AUTH is on or off: the link reset asks it.
   */
  verify(spaceId: string, token: string | null): Promise<AuthDecision>
  /** A write and a read token of link generation `generation` (default 0), without expiry. */
  issueTokens(spaceId: string, generation?: number): Promise<Tokens>
  /** Signs a token with any claims (used by tests and operators, e.g. to issue expiring tokens). */
  sign(spaceId: string, scope: Access, options?: TokenOptions): Promise<string>
}

export interface TokenOptions {
  /** When the token expires (ms since the epoch; the JWT's `exp` holds seconds). */
  readonly expiresAt?: number
  /** The link generation it names (`gen`); default 0. */
  readonly generation?: number
}

/** Where the link generation of each space is read (the SpaceRegistry). */
export interface LinkGenerations {
  linkGeneration(spaceId: string): Promise<number>
}

export interface AuthOptions {
  readonly secret: string
  /** false: every connection gets write access (AUTH=off). */
  readonly enabled: boolean
  readonly logger: Logger
  /** The spaces' current link generations; without it every generation is current (tests). */
  readonly generations?: LinkGenerations
}

const ALGORITHM = 'HS256'
/** A longer "token" is refused before any cryptography is done on it. */
const MAX_TOKEN_LENGTH = 4096

const unauthorized = (reason: string): AuthDecision => ({ ok: false, kind: 'Unauthorized', reason })

/** Signs a token for `spaceId` with `secret` (exported so tests can make expired or forged tokens). */
export async function signToken(
  secret: string,
  spaceId: string,
  scope: Access,
  options: TokenOptions = {},
): Promise<string> {
  const jwt = new SignJWT({ scope, gen: options.generation ?? 0 })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(spaceId)
    .setIssuedAt()
  if (options.expiresAt !== undefined) jwt.setExpirationTime(Math.floor(options.expiresAt / 1000))
  return jwt.sign(new TextEncoder().encode(secret))
}

/** The `gen` claim: absent is 0 (a token from before link resets); anything but a whole number ≥ 0 is malformed. */
const generationOf = (gen: unknown): number | null =>
  gen === undefined ? 0 : Number.isSafeInteger(gen) && (gen as number) >= 0 ? (gen as number) : null

export function createAuth({ secret, enabled, logger, generations }: AuthOptions): Auth {
  const key = new TextEncoder().encode(secret)
  if (!enabled) logger.warn({ auth: 'off' }, 'AUTH=off: every space is readable and writable by anyone')

  const verify = async (spaceId: string, token: string | null): Promise<AuthDecision> => {
    if (token === null || token === '') return unauthorized('no token')
    if (token.length > MAX_TOKEN_LENGTH) return unauthorized('malformed token')
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(token, key, { algorithms: [ALGORITHM] }))
    } catch (e) {
      if (e instanceof errors.JWTExpired) return unauthorized('token expired')
      if (e instanceof errors.JWSSignatureVerificationFailed) return unauthorized('bad token signature')
      return unauthorized('malformed token')
    }
    const scope = payload.scope
    const generation = generationOf(payload.gen)
    if (typeof payload.sub !== 'string' || (scope !== 'write' && scope !== 'read') || generation === null)
      return unauthorized('malformed token claims')
    if (payload.sub !== spaceId) return { ok: false, kind: 'Forbidden', reason: 'token for another space' }
    // a StorageError here closes with 4503 (retried), never as a bad token (server-core REVOKE-5)
    const current = generations ? await generations.linkGeneration(spaceId) : 0
    if (generation < current)
      return { ok: false, kind: 'LinkRevoked', reason: 'this link was reset by someone in the space' }
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined
    return { ok: true, access: scope, generation, ...(exp === undefined ? {} : { expiresAt: exp }) }
  }

  return {
    authenticate: enabled ? verify : () => Promise.resolve({ ok: true, access: 'write' }),
    verify,
    sign: (spaceId, scope, options) => signToken(secret, spaceId, scope, options),
    issueTokens: async (spaceId, generation = 0) => ({
      writeToken: await signToken(secret, spaceId, 'write', { generation }),
      readToken: await signToken(secret, spaceId, 'read', { generation }),
    }),
  }
}

/** The shortest secret accepted, from SECRET or from `DATA_DIR/secret`. */
export const MIN_SECRET_LENGTH = 32

/**
 * The secret in `dataDir/secret`, generated (32 random bytes, base64url, mode 0600) on first start.
 * Written atomically — a temp file, fsynced, then linked into place, never replacing a file that is
 * there — so a full disk or a crash never leaves an empty secret, and two processes starting at once
 * agree on one. An existing file that is empty or too short is refused (StartupError), never
 * replaced: a new secret would silently invalidate every token issued so far.
 */
export function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'secret')
  removeStaleTemps(dataDir, 'secret')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    createFileAtomic(file, randomBytes(32).toString('base64url') + '\n')
    text = readFileSync(file, 'utf8')
  }
  const secret = text.trim()
  const restore =
    'Restore it from a backup (or set SECRET). Removing it makes the server generate a new secret, and every link shared so far stops working.'
  if (secret.length === 0)
    throw new StartupError(
      `the token secret ${file} is empty (a full disk, or a write cut short?). Refusing to start rather than replace it. ${restore}`,
    )
  if (secret.length < MIN_SECRET_LENGTH)
    throw new StartupError(
      `the token secret ${file} holds ${secret.length} characters, fewer than ${MIN_SECRET_LENGTH} (damaged?). Refusing to start rather than replace it. ${restore}`,
    )
  return secret
}
