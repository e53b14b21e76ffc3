/** Share links, tokens and local ids. */
import { decodeJwt } from 'jose'

export type Scope = 'read' | 'write'

/**
 * The scope a space token claims (`{ sub, scope }` JWTs, apps/server/src/auth.ts). Read without
 * verifying: it only decides what the UI offers; the server checks every token itself.
 */
export function tokenScope(token: string): Scope | null {
  try {
    // jose's decodeJwt: a compact JWS (three parts) whose payload is a base64url JSON object, or it throws
    const { scope } = decodeJwt(token)
    return scope === 'read' || scope === 'write' ? scope : null
  } catch {
    return null
  }
}

/** `${origin}/s/${id}#t=${token}`: the token rides in the fragment, which browsers never send in HTTP. */
export const shareLink = (origin: string, id: string, token: string): string =>
  `${origin}/s/${encodeURIComponent(id)}#t=${encodeURIComponent(token)}`

/** The token in a location fragment such as `#t=…`, if any. */
export function fragmentToken(hash: string): string | null {
  if (!hash.startsWith('#')) return null
  const t = new URLSearchParams(hash.slice(1)).get('t')
  return t && t.length > 0 ? t : null
}

/** The space id and token of a pasted share link (any origin), or null. */
export function parseShareLink(text: string): { id: string; token: string | null } | null {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    return null
  }
  const m = /^\/s\/([A-Za-z0-9_-]{1,64})\/?$/.exec(url.pathname)
  if (!m?.[1]) return null
  return { id: m[1], token: fragmentToken(url.hash) }
}

export const SPACE_ID = /^[A-Za-z0-9_-]{1,64}$/
