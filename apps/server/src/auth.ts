/**
 * Tokens: JWTs signed with HS256 (jose), `{ sub: spaceId, scope: 'write' | 'read' }`, optional `exp`.
 * Issued without expiry by POST /api/spaces. The token itself is never logged.
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
  issueTokens(spaceId: string): Promise<Tokens>
  /** Signs a token with any claims (used by tests and operators, e.g. to issue expiring tokens). */
  sign(spaceId: string, scope: Access, options?: { expiresAt?: number }): Promise<string>
}

export interface AuthOptions {
  readonly secret: string
  /** false: every connection gets write access (AUTH=off). */
  readonly enabled: boolean
  readonly logger: Logger
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
  options: { expiresAt?: number } = {},
): Promise<string> {
  const jwt = new SignJWT({ scope })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(spaceId)
    .setIssuedAt()
  if (options.expiresAt !== undefined) jwt.setExpirationTime(Math.floor(options.expiresAt / 1000))
  return jwt.sign(new TextEncoder().encode(secret))
}

export function createAuth({ secret, enabled, logger }: AuthOptions): Auth {
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
    if (typeof payload.sub !== 'string' || (scope !== 'write' && scope !== 'read'))
      return unauthorized('malformed token claims')
    if (payload.sub !== spaceId) return { ok: false, kind: 'Forbidden', reason: 'token for another space' }
    return { ok: true, access: scope }
  }

  return {
    authenticate: enabled ? verify : () => Promise.resolve({ ok: true, access: 'write' }),
    sign: (spaceId, scope, options) => signToken(secret, spaceId, scope, options),
    issueTokens: async (spaceId) => ({
      writeToken: await signToken(secret, spaceId, 'write'),
      readToken: await signToken(secret, spaceId, 'read'),
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
