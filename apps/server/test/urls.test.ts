import type { NetworkInterfaceInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import { openLines, openUrls } from '../src/urls.js'

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({
    address,
    family,
    internal,
    netmask: '',
    mac: '',
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as NetworkInterfaceInfo

const interfaces = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  wlan0: [iface('fe80::1', 'IPv6'), iface('2001:db8::5', 'IPv6'), iface('192.168.1.20', 'IPv4')],
}

describe('the URLs printed at start', () => {
  it('a named host is the one URL, with a hint for other devices', () => {
    const urls = openUrls('localhost', 8787, interfaces)
    expect(urls).toEqual({ local: 'http://localhost:8787', lan: [] })
    expect(openLines(urls)).toBe(
      'Converge is running: open http://localhost:8787\n(HOST=0.0.0.0 to open it from a phone on the same Wi-Fi)\n',
    )
    expect(openUrls('::1', 1234, interfaces).local).toBe('http://[::1]:1234')
  })

  it('every address (HOST=0.0.0.0): localhost and the LAN addresses, never loopback or link-local', () => {
    const v4 = openUrls('0.0.0.0', 8787, interfaces)
    expect(v4).toEqual({ local: 'http://localhost:8787', lan: ['http://192.168.1.20:8787'] })
    expect(openLines(v4)).toContain('same network: http://192.168.1.20:8787')
    expect(openUrls('::', 8787, interfaces).lan).toEqual([
      'http://192.168.1.20:8787',
      'http://[2001:db8::5]:8787',
    ])
  })
})
