/**
 * Version tokens (PROTOCOL.md §P9): a committed version — the version vector a durable ack carries —
 * as URL-safe text, for `GET /api/spaces/<id>?after=<token>`. base64url of the vector's bytes, with
 * no padding; the same in the browser and in Node.
 */
import * as buffer from 'lib0/buffer'

/** Longest token a server takes (a version vector of some hundred writers). */
export const MAX_VERSION_TOKEN = 8192

/** The token of a version vector's bytes (a durable ack's `stateVector`). */
export const versionToken = (vector: Uint8Array): string =>
  buffer.toBase64(vector).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/**
 * The vector bytes of a token, or null when it is not one: empty, too long, or not base64url.
 * Whether the bytes are a version vector of the space's engine is the server's to check.
 */
export function parseVersionToken(token: string): Uint8Array | null {
  if (token.length === 0 || token.length > MAX_VERSION_TOKEN || !/^[A-Za-z0-9_-]+$/.test(token)) return null
  if (token.length % 4 === 1) return null // no base64 text is one character past a group of four
  const b64 = token.replace(/-/g, '+').replace(/_/g, '/')
  return buffer.fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
}
