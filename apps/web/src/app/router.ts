import { useSyncExternalStore } from 'react'
import { SPACE_ID } from '../services/tokens.js'

export type Route =
  { readonly name: 'home' } | { readonly name: 'space'; readonly id: string } | { readonly name: 'not-found' }

const NAVIGATE = 'converge:navigate'

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/index.html') return { name: 'home' }
  const m = /^\/s\/([^/]+)\/?$/.exec(pathname)
  if (m?.[1]) {
    let id: string
    try {
      id = decodeURIComponent(m[1])
    } catch {
      return { name: 'not-found' }
    }
    if (SPACE_ID.test(id)) return { name: 'space', id }
  }
  return { name: 'not-found' }
}

const subscribe = (fn: () => void): (() => void) => {
  window.addEventListener('popstate', fn)
  window.addEventListener('hashchange', fn)
  window.addEventListener(NAVIGATE, fn)
  return () => {
    window.removeEventListener('popstate', fn)
    window.removeEventListener('hashchange', fn)
    window.removeEventListener(NAVIGATE, fn)
  }
}

/** The current path and fragment, e.g. `/s/abc#t=…`. */
export const useLocation = (): { pathname: string; hash: string } => {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.hash)
  const i = href.indexOf('#')
  return i < 0 ? { pathname: href, hash: '' } : { pathname: href.slice(0, i), hash: href.slice(i) }
}

/** History API navigation (no router library): `replace` leaves no history entry behind. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  window.dispatchEvent(new Event(NAVIGATE))
  if (!options.replace) window.scrollTo(0, 0)
}

export const spacePath = (id: string): string => `/s/${encodeURIComponent(id)}`
