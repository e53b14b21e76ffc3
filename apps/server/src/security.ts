/**
 * Browser-facing policy: the security headers sent on every HTTP response, and which `Origin`s may
 * call the API or open a WebSocket (the server's own origin, plus ALLOWED_ORIGINS).
 */

/**
 * The default Content-Security-Policy, which the built web app passes (checked in Chromium: each
 * allowance below is needed, the app breaks without it): its own scripts, and the WebAssembly of the
 * merge engine (`'wasm-unsafe-eval'` allows compiling wasm, not `eval`); its stylesheets plus
 * CodeMirror's inline `<style>` (`'unsafe-inline'` for styles only); its own service worker and
 * manifest; fetches and WebSockets to its own origin only (CSP 3 `'self'` covers `ws:`/`wss:` to the
 * same host and port); no images but its own, no plugins, no `<base>`, no form posts elsewhere, and
 * no framing.
 */
export const DEFAULT_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** The headers set on every HTTP response (files, API, errors, refused upgrades). */
export function securityHeaders(contentSecurityPolicy: string): Readonly<Record<string, string>> {
  return {
    'content-security-policy': contentSecurityPolicy,
    // share links carry their token in the fragment, which is never sent; no referrer either
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
  }
}

/** `scheme://host[:port]` as browsers send it in `Origin` (lower case, default port dropped), or null. */
export function normalizeOrigin(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  return url.origin
}

const DEFAULT_PORT: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' }

/**
 * Whether `origin` is the origin of the host the request was sent to (its `Host` header). The scheme
 * is not compared (a TLS-terminating proxy speaks plain HTTP to this server); the port is, and a
 * `Host` without one matches the origin's default port.
 */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false
  let o: URL
  let h: URL
  try {
    o = new URL(origin)
    h = new URL(`http://${host}`)
  } catch {
    return false
  }
  if (h.username || h.password || h.pathname !== '/' || h.search || h.hash) return false
  if (o.hostname !== h.hostname) return false
  const originPort = o.port || DEFAULT_PORT[o.protocol]
  return h.port === '' ? originPort === '80' || originPort === '443' : originPort === h.port
}

export interface OriginPolicy {
  /** Whether a request carrying this `Origin` header, sent to this `Host`, may go on. */
  allows(origin: string, host: string | undefined): boolean
  /** The configured extra origins, normalised. */
  readonly extra: readonly string[]
}

/** Same origin as the `Host`, or one of `allowed` (already-valid origins, see config). */
export function createOriginPolicy(allowed: readonly string[]): OriginPolicy {
  const extra = new Set(allowed.map((o) => normalizeOrigin(o)).filter((o): o is string => o !== null))
  return {
    extra: [...extra],
    allows(origin, host) {
      const normalized = normalizeOrigin(origin)
      if (normalized === null) return false // "null" (sandboxed frames, file:), other schemes, garbage
      return extra.has(normalized) || isOwnOrigin(normalized, host)
    },
  }
}
