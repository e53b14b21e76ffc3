/**
 * Two parts of a room on their own: the load of a space (room-load.ts: SPEC.md CORE-2, COMMIT-4,
 * MEM-3) and link revocation (revocation.ts: SPEC.md REVOKE-2, REVOKE-3).
 */
import { ErrorKind, decodeMessage } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { LogFields, Logger, Persistence, StoredSpace } from '../src/ports.js'
import { StorageError } from '../src/ports.js'
import { LinkRevocation, type RevocableMember } from '../src/revocation.js'
import { loadStored } from '../src/room-load.js'
import { YjsDocument } from '../src/yjs-document.js'

const textUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const storing = (stored: StoredSpace): Persistence =>
  ({ load: () => Promise.resolve(stored) }) as unknown as Persistence

const recording = (): Logger & { errors: LogFields[] } => {
  const errors: LogFields[] = []
  return { errors, debug() {}, info() {}, warn() {}, error: (fields) => void errors.push(fields) }
}

describe('room load', () => {
  it('[COMMIT-4] a stored record that does not decode is skipped and logged, and the load says so', async () => {
    const good = textUpdate('readable')
    const bad = new Uint8Array([0xff, 0xff, 0xff])
    const stored = { snapshot: bad, updates: [good], lastSeq: 2, bytes: bad.length + good.length }
    const doc = new YjsDocument('s1')
    const logger = recording()
    const reserved: number[] = []
    const memory = {
      admitLoad: (_id: string, estimate: number): Promise<void> => {
        reserved.push(estimate)
        return Promise.resolve()
      },
      fits: () => true,
      set() {},
    }
    const loaded = await loadStored({ spaceId: 's1', doc, persistence: storing(stored), logger, memory })
    expect(loaded).toEqual({ stored, corrupt: true })
    expect(doc.doc.getText('t').toJSON()).toBe('readable')
    expect(logger.errors).toEqual([expect.objectContaining({ spaceId: 's1', record: 0 })])
    expect(reserved).toEqual([stored.bytes * 32])
  })

  it('[CORE-2] a read that fails throws, and nothing is applied', async () => {
    const doc = new YjsDocument('s1')
    const persistence = { load: () => Promise.reject(new StorageError('down')) } as unknown as Persistence
    await expect(loadStored({ spaceId: 's1', doc, persistence, logger: recording() })).rejects.toBeInstanceOf(
      StorageError,
    )
    expect(doc.doc.store.clients.size).toBe(0)
  })
})

interface Member extends RevocableMember {
  revoked: number[]
}
/** A member that leaves `members` when it is revoked, as a closed connection leaves its room. */
const memberOf =
  (members: Set<Member>) =>
  (generation?: number): Member => {
    const revoked: number[] = []
    const m: Member = {
      generation,
      revoked,
      revoke: (g) => {
        revoked.push(g)
        members.delete(m)
      },
    }
    return m
  }

describe('link revocation', () => {
  it('[REVOKE-2] the generation is the newest seen; older members are closed, a notice of an older one changes nothing', () => {
    const members = new Set<Member>()
    const member = memberOf(members)
    const revocation = new LinkRevocation(members)
    expect(revocation.frame).toBeNull()
    const bob = member(1)
    const plain = member()
    for (const m of [bob, plain]) {
      expect(revocation.admits(m)).toBe(true)
      members.add(m)
      revocation.joined(m)
    }
    expect(revocation.generation).toBe(1)
    const newer = member(2)
    expect(revocation.admits(newer)).toBe(true)
    members.add(newer)
    revocation.joined(newer)
    expect(revocation.generation).toBe(2)
    expect(bob.revoked).toEqual([2])
    expect(plain.revoked).toEqual([])
    expect(revocation.admits(member(1))).toBe(false)
    expect(revocation.raise(1)).toBe(0)
    expect(revocation.raise(3)).toBe(1)
    expect(newer.revoked).toEqual([3])
    expect([...members]).toEqual([plain])
  })

  it('[REVOKE-3] the room tells its generation past 0 as a LinkRevoked notice', () => {
    const revocation = new LinkRevocation(new Set())
    revocation.raise(4)
    const frame = revocation.frame
    expect(frame && decodeMessage(frame)).toEqual({
      type: 'error',
      kind: ErrorKind.LinkRevoked,
      message: '4',
    })
  })
})
