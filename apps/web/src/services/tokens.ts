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

/** The engines a space may be of (a share link names any but Yjs, the default). */
export type SpaceEngineName = 'yjs' | 'automerge'

/**
 * `${origin}/s/${id}#t=${token}`: the token rides in the fragment, which browsers never send in HTTP;
 * an Automerge space adds `&e=automerge`, so a device opening the link opens it with its engine
 * (sync-client ENG-1; WEB-ENGINE-1).
 */
export const shareLink = (
  origin: string,
  id: string,
  token: string,
  engine: SpaceEngineName = 'yjs',
): string => `${origin}/s/${encodeURIComponent(id)}${linkFragment(token, engine)}`

/** The fragment of a share link: the token, and the engine when it is not Yjs. */
export const linkFragment = (token: string, engine: SpaceEngineName = 'yjs'): string =>
  `#t=${encodeURIComponent(token)}${engine === 'yjs' ? '' : `&e=${engine}`}`

/** The engine a location fragment names (`e=automerge`), or null (a Yjs space, or a link from before engines). */
export function fragmentEngine(hash: string): SpaceEngineName | null {
  if (!hash.startsWith('#')) return null
  const e = new URLSearchParams(hash.slice(1)).get('e')
  return e === 'automerge' || e === 'yjs' ? e : null
}

/** The token in a location fragment such as `#t=…`, if any. */
export function fragmentToken(hash: string): string | null {
  if (!hash.startsWith('#')) return null
  const t = new URLSearchParams(hash.slice(1)).get('t')
  return t && t.length > 0 ? t : null
}

/** The space id and token of a pasted share link (any origin), or null. */
export function parseShareLink(
  text: string,
): { id: string; token: string | null; engine: SpaceEngineName | null } | null {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    return null
  }
  const m = /^\/s\/([A-Za-z0-9_-]{1,64})\/?$/.exec(url.pathname)
  if (!m?.[1]) return null
  return { id: m[1], token: fragmentToken(url.hash), engine: fragmentEngine(url.hash) }
}

export const SPACE_ID = /^[A-Za-z0-9_-]{1,64}$/
