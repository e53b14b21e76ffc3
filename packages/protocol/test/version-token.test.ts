/** PROTOCOL.md §P9.2: version tokens, the URL-safe text of a version vector. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_VERSION_TOKEN, parseVersionToken, versionToken } from '../src/index.js'

describe('[P9.2] version tokens', () => {
  it('[P9.2] any bytes survive the token, which is base64url without padding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), (bytes) => {
        const token = versionToken(bytes)
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
        expect(parseVersionToken(token)).toEqual(bytes)
      }),
    )
  })

  it('[P9.2] what is not a token is null: empty, too long, other characters, a length no base64 has', () => {
    expect(parseVersionToken('')).toBeNull()
    expect(parseVersionToken('A'.repeat(MAX_VERSION_TOKEN + 1))).toBeNull()
    expect(parseVersionToken('ab+/')).toBeNull()
    expect(parseVersionToken('ab cd')).toBeNull()
    expect(parseVersionToken('abcde')).toBeNull()
  })
})
