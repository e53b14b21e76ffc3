/**
 * The addresses to open the app at, for the human line printed once the server is up: the host it
 * listens on, or — listening on every address (HOST=0.0.0.0 or ::) — localhost and this machine's
 * LAN addresses, which a phone on the same Wi-Fi can open (the app's own origin is the Host header
 * it sends, so no ALLOWED_ORIGINS is needed for them).
 */
import type { NetworkInterfaceInfo } from 'node:os'

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '::0'])

const withPort = (host: string, port: number): string =>
  `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`

export interface OpenUrls {
  /** Where to open it on this machine. */
  readonly local: string
  /** Where other devices on the network can open it (empty unless listening on every address). */
  readonly lan: readonly string[]
}

export function openUrls(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): OpenUrls {
  if (!WILDCARD.has(host)) return { local: withPort(host, port), lan: [] }
  const ipv6 = host !== '0.0.0.0'
  const lan = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal && (i.family === 'IPv4' || (ipv6 && !i.address.startsWith('fe80:'))))
    // IPv4 first: what a phone's browser bar takes most easily
    .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
    .map((i) => withPort(i.address, port))
  return { local: withPort('localhost', port), lan: [...new Set(lan)] }
}

/** The plain lines for a person at the terminal (the JSON log line has the same `url`). */
export function openLines(urls: OpenUrls): string {
  const lines = [`Converge is running: open ${urls.local}`]
  if (urls.lan.length > 0) lines.push(`On a phone or laptop on the same network: ${urls.lan.join('  or  ')}`)
  else lines.push('(HOST=0.0.0.0 to open it from a phone on the same Wi-Fi)')
  return `${lines.join('\n')}\n`
}
