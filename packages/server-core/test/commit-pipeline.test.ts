/**
 * The commit pipeline: what a client update stores, one commit per turn, the size limit, and what a
 * load does with a record it cannot read, the storage quota (SPEC.md COMMIT-1…COMMIT-4, QUOTA-1;
 * PROTOCOL.md P4.4, P5.5).
 */
import { CloseCode } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { LogFields, Logger } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

describe('commit pipeline', () => {
  it('[COMMIT-1] what arrives in one turn is one commit; what arrives while a commit is in flight goes in the next one, together', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const [a, b, d] = [new Client(c, 's1', 'w'), new Client(c, 's1', 'w'), new Client(c, 's1', 'w')]
    await time.runTurns()
    a.type('a')
    b.type('b')
    d.type('d')
    await time.runTurns()
    expect(store.batches).toEqual([3]) // three members, one turn: one transaction
    store.hold = true
    a.type('1') // turn 1: its commit is held in the store
    await time.runTurns()
    b.type('2') // turns 2 and 3 arrive while it is in flight
    await time.runTurns()
    d.type('3')
    await time.runTurns()
    expect(store.batches).toEqual([3])
    store.release()
    await time.runTurns()
    expect(store.batches).toEqual([3, 1, 2])
    await time.runAll()
    expect(a.saved && b.saved && d.saved).toBe(true)
  })

  it('[COMMIT-2] a client update stores what it adds beyond what is committed or queued: a resend stores nothing, an update overlapping the stored state only the rest', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    a.type('first')
    await time.runTurns()
    expect(a.saved).toBe(true)
    const appends = store.appends
    a.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(a.doc) }) // all of it again
    a.send({ type: 'sync-step2', update: Y.encodeStateAsUpdate(a.doc) })
    await time.runAll()
    expect(store.appends).toBe(appends)
    // offline: more typing; back: the whole document at once
    a.drop()
    const clock = Y.getState(a.doc.store, a.doc.clientID)
    a.type(' and more')
    const again = new Client(c, 's1', 'w', true, a.doc)
    again.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(a.doc) })
    await time.runTurns()
    expect(again.saved).toBe(true)
    const records = store.data.get('s1')!.updates.slice(1)
    expect(records.length).toBeGreaterThan(0)
    for (const { u } of records) expect(Y.parseUpdateMeta(u).from.get(a.doc.clientID)).toBe(clock)
    expect(store.text('s1')).toBe('first and more')
  })

  it('[COMMIT-3] an update that would take the stored space past maxDocumentBytes closes with 4413: not applied, stored or relayed', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store, { limits: { maxDocumentBytes: 2000 } })
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    a.type('small')
    await time.runTurns()
    expect(b.text).toBe('small')
    a.type('x'.repeat(3000))
    await time.runAll()
    expect(a.closed?.code).toBe(CloseCode.DocumentTooLarge)
    expect(a.got('error').map((m) => m.type === 'error' && m.kind)).toEqual(['DocumentTooLarge'])
    expect(b.text).toBe('small')
    expect(b.closed).toBeNull()
    expect(store.text('s1')).toBe('small')
  })

  it('[QUOTA-1] while the storage quota says full, a write closes with 4503 (retry; kept on the client), nothing stored or relayed; readers stay; once there is room the same changes are stored', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const asked: number[] = []
    let full: string | null = null
    const c = core(store, {
      storageQuota: {
        admit: (bytes) => {
          asked.push(bytes)
          return full
        },
      },
    })
    const a = new Client(c, 's1', 'w')
    const reader = new Client(c, 's1', 'w')
    a.type('small')
    await time.runTurns()
    expect(a.saved).toBe(true)
    expect(asked.length).toBeGreaterThan(0)
    full = "the server's storage is full"
    asked.length = 0
    a.type(' and more')
    await time.runAll()
    expect(asked).toEqual([expect.any(Number)]) // asked once, with the update's size
    expect(a.closed?.code).toBe(CloseCode.StorageUnavailable)
    expect(a.got('error')).toMatchObject([
      { kind: 'StorageUnavailable', message: "the server's storage is full" },
    ])
    expect(reader.closed).toBeNull()
    expect(reader.text).toBe('small')
    expect(store.text('s1')).toBe('small')
    // the client keeps its changes and comes back (the close rule says retry); there is room again
    full = null
    const again = new Client(c, 's1', 'w', true, a.doc)
    await time.runAll()
    expect(again.saved).toBe(true)
    expect(store.text('s1')).toBe('small and more')
    expect(reader.text).toBe('small and more')
  })

  it('[COMMIT-4] a stored record that does not decode is skipped and logged, and the space is never compacted', async () => {
    const store = new ControlledStore()
    const seed = new Y.Doc()
    seed.getText('body:n').insert(0, 'readable')
    store.data.set('s1', {
      snapshot: null,
      updates: [
        { seq: 1, u: Uint8Array.of(0xff, 0xff, 0xff) },
        { seq: 2, u: Y.encodeStateAsUpdate(seed) },
      ],
    })
    store.seq = 2
    const errors: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_f: LogFields, msg) => void errors.push(msg),
    }
    const { time, core } = world()
    const c = core(store, { logger, limits: { compactEveryUpdates: 1 } })
    const a = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(a.text).toBe('readable')
    expect(errors).toEqual(['a stored update does not decode; skipped, compaction disabled for this space'])
    for (let i = 0; i < 5; i++) {
      a.type(String(i))
      await time.runTurns()
    }
    expect(a.saved).toBe(true)
    expect(store.compactions).toBe(0)
    expect(store.data.get('s1')!.updates[0]!.u).toEqual(Uint8Array.of(0xff, 0xff, 0xff)) // kept for repair
  })
})
