import { createHash } from 'node:crypto'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import {
  CLOSE_RULES,
  CloseCode,
  ErrorKind,
  backoffDelay,
  closeCodeOf,
  closeRule,
  isPermanentClose,
  type Message,
  PROTOCOL_HISTORY,
  PROTOCOL_TABLE,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeMessage,
  encodeMessage,
} from '../src/index.js'

/** Canonical JSON (sorted keys) so the hash only moves when the table does. */
const canonical = (v: unknown): string =>
  v !== null && typeof v === 'object'
    ? `{${Object.keys(v)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
        .join(',')}}`
    : JSON.stringify(v)

const y = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder()
  write(e)
  return encoding.toUint8Array(e)
}

describe('protocol', () => {
  it('[P1] the message table cannot change without a version bump and a history entry', () => {
    const hash = createHash('sha256').update(canonical(PROTOCOL_TABLE)).digest('hex').slice(0, 16)
    const latest = PROTOCOL_HISTORY[PROTOCOL_HISTORY.length - 1]
    expect(latest?.version).toBe(PROTOCOL_VERSION)
    expect(
      hash,
      `the protocol table changed: bump PROTOCOL_VERSION, document it in PROTOCOL.md and record { version, tableHash: '${hash}' } in version.ts`,
    ).toBe(latest?.tableHash)
  })

  it('[P2] sync and awareness frames are byte-identical to y-protocols', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hi')
    const sv = Y.encodeStateVector(doc)
    const update = Y.encodeStateAsUpdate(doc)
    const step1 = y((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeSyncStep1(e, doc)
    })
    const step2 = y((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeSyncStep2(e, doc)
    })
    const upd = y((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeUpdate(e, update)
    })
    expect(encodeMessage({ type: 'sync-step1', stateVector: sv })).toEqual(step1)
    expect(encodeMessage({ type: 'sync-step2', update })).toEqual(step2)
    expect(encodeMessage({ type: 'sync-update', update })).toEqual(upd)
    expect(decodeMessage(step1)).toEqual({ type: 'sync-step1', stateVector: sv })

    const awareness = new awarenessProtocol.Awareness(doc)
    awareness.setLocalState({ user: { name: 'Ana' } })
    const aw = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID])
    const awFrame = y((e) => {
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint8Array(e, aw)
    })
    expect(encodeMessage({ type: 'awareness', update: aw })).toEqual(awFrame)
    expect(encodeMessage({ type: 'query-awareness' })).toEqual(new Uint8Array([3]))
    const denied = y((e) => {
      encoding.writeVarUint(e, 2)
      authProtocol.writePermissionDenied(e, 'read-only')
    })
    expect(encodeMessage({ type: 'auth-denied', reason: 'read-only' })).toEqual(denied)
    awareness.destroy()
  })

  it('[P3] extension messages round-trip', () => {
    const all: Message[] = [
      { type: 'hello', version: PROTOCOL_VERSION },
      { type: 'durable-ack', stateVector: new Uint8Array([1, 2, 3]) },
      { type: 'error', kind: 'ReadOnly', message: 'this token is read-only' },
    ]
    for (const m of all) expect(decodeMessage(encodeMessage(m))).toEqual(m)
  })

  it('[P4] bad frames throw ProtocolError: empty, unknown type, truncated, trailing bytes', () => {
    const good = encodeMessage({ type: 'sync-update', update: new Uint8Array([0, 0]) })
    for (const bad of [
      new Uint8Array([]),
      new Uint8Array([99]),
      new Uint8Array([0, 7, 0]),
      good.slice(0, good.length - 1),
      new Uint8Array([...good, 0]),
      new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]),
    ]) {
      expect(() => decodeMessage(bad), `frame ${String(Array.from(bad))}`).toThrow(ProtocolError)
    }
  })

  it('[P4] random frames decode or throw ProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          expect(decodeMessage(bytes).type).toBeTypeOf('string')
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('close rules and backoff', () => {
  it('[P6] every close code and every error kind has its rule: code → kind → next step, one table for both sides', () => {
    const codes = new Set(CLOSE_RULES.map((r) => r.code))
    for (const code of Object.values(CloseCode)) expect(codes.has(code), `close code ${code}`).toBe(true)
    const kinds = new Set(CLOSE_RULES.map((r) => r.kind))
    for (const kind of Object.values(ErrorKind)) expect(kinds.has(kind), `error kind ${kind}`).toBe(true)
    for (const r of CLOSE_RULES) {
      if (r.code !== null) expect(isPermanentClose(r.code)).toBe(r.permanent)
      expect(r.permanent, `${r.kind}: a retried close is never permanent`).toBe(
        r.next !== 'retry' && r.next !== 'read-only',
      )
    }
    expect(closeRule(CloseCode.MalformedFrame, ErrorKind.InvalidUpdate).kind).toBe(ErrorKind.InvalidUpdate)
    expect(closeRule(CloseCode.MalformedFrame).kind).toBe(ErrorKind.MalformedFrame)
    expect(closeCodeOf(ErrorKind.StorageUnavailable)).toBe(CloseCode.StorageUnavailable)
    // a code this version does not know: a 44xx refusal is permanent, anything else is retried
    expect(closeRule(4499)).toMatchObject({ permanent: true, next: 'stop' })
    expect(closeRule(1006)).toMatchObject({ permanent: false, next: 'retry' })
  })

  it('[P5.10] a reset link closes with 4410 LinkRevoked: permanent, reauthenticate; a version 1 client stops on it too', () => {
    expect(closeCodeOf(ErrorKind.LinkRevoked)).toBe(CloseCode.LinkRevoked)
    expect(CloseCode.LinkRevoked).toBe(4410)
    expect(closeRule(4410)).toMatchObject({
      kind: ErrorKind.LinkRevoked,
      permanent: true,
      next: 'reauthenticate',
      says: 'this link was reset by someone in the space',
    })
    // version 1 had no rule for it: a 44xx code it does not know is a permanent refusal (stop), as 4499 is now
    expect(closeRule(4499)).toMatchObject({ permanent: true, next: 'stop' })
  })

  it('[P6.1] the backoff grows exponentially to its cap, with jitter in [½, 1] of it', () => {
    const b = { initialMs: 100, maxMs: 1000 }
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, b, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ])
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, b, () => 0))).toEqual([50, 100, 200, 400, 500])
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, b)
      expect(d).toBeGreaterThanOrEqual(200)
      expect(d).toBeLessThanOrEqual(400)
    }
  })
})
