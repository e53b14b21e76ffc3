/**
 * The client address that per-address limits are keyed by: the TCP peer, or — only when the server is
 * told it sits behind that many proxies (TRUST_PROXY) — the address the nearest trusted proxy appended
 * to `X-Forwarded-For`. IPv6 addresses are grouped by their /64 (one subscriber usually holds a whole
 * /64, so keying by the full address would hand one client 2^64 budgets).
 */
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an embedded IPv4 tail converted). */
function ipv6Groups(address: string): number[] | null {
  let text = address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 0) return null
  return [...left, ...Array<number>(missing).fill(0), ...right]
}

/** The key of one client: an IPv4 address as it is (also when IPv4-mapped), an IPv6 address as its /64. */
export function addressKey(address: string): string {
  const bare = address
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '')
  if (isIP(bare) === 4) return bare
  if (isIP(bare) !== 6) return bare
  const groups = ipv6Groups(bare)
  if (!groups) return bare
  // ::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.')
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

/**
 * The client address of a request. `trustProxy` is how many proxies in front of this server append
 * to `X-Forwarded-For` (0: the header is ignored, the TCP peer is the client). With n, the n-th entry
 * from the right is the client: the rightmost is what the nearest proxy saw, anything left of the
 * entries the trusted proxies wrote is whatever the client sent and is never believed.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown'
  if (trustProxy > 0) {
    const header = req.headers['x-forwarded-for']
    const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
    if (entries.length > 0) {
      const entry = entries[Math.max(0, entries.length - trustProxy)]!
      const bare = entry.replace(/^\[(.*)\]$/, '$1')
      if (isIP(bare) !== 0) return addressKey(bare)
    }
  }
  return addressKey(peer)
}
