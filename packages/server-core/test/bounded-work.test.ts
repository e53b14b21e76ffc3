/**
 * What one message, one connection and one space may cost (SPEC.md ANSWER-1…3, MEM-1…3) and what a
 * joiner may see (COMMIT-5), on the transport-free core with a stepped scheduler.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CloseCode, encodeMessage } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { HEAP_PER_STORED_BYTE, type SocketLike, estimateHeap } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

/** A stored space of `chars` characters in note `n`, as one update. */
const seed = (store: ControlledStore, spaceId: string, chars: number): void => {
  const d = new Y.Doc()
  d.getText('body:n').insert(0, 'x'.repeat(chars))
  store.data.set(spaceId, { snapshot: null, updates: [{ seq: ++store.seq, u: Y.encodeStateAsUpdate(d) }] })
}

/** An update of `n` separate structs (one map entry from each of `n` clients). */
const manyStructs = (n: number): Uint8Array =>
  Y.mergeUpdates(
    Array.from({ length: n }, (_, i) => {
      const d = new Y.Doc()
      d.clientID = 1000 + i
      d.getMap('notes').set(`n${i}\u001fupdatedAt`, i)
      return Y.encodeStateAsUpdate(d)
    }),
  )

const lastAnswer = (c: Client): Uint8Array | undefined =>
  c.frames.filter((_, i) => c.received[i]!.type === 'sync-step2').at(-1)

describe('bounded work per message and per connection', () => {
  it('[ANSWER-1] a hundred readers asking for the whole space share one encoding of it', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    seed(store, 's1', 5000)
    const c = core(store)
    const readers = Array.from({ length: 100 }, () => new Client(c, 's1', 'r'))
    await time.runTurns()
    for (const r of readers) expect(r.text).toHaveLength(5000)
    const room = c.loadedRoom('s1')!
    expect(room.answersEncoded).toBe(1)
    // one bytes object, sent to all of them
    expect(new Set(readers.map(lastAnswer)).size).toBe(1)
    // the document changes: the next question is answered anew, once
    const w = new Client(c, 's1', 'w')
    await time.runTurns()
    w.type('!')
    await time.runTurns()
    const late = Array.from({ length: 10 }, () => new Client(c, 's1', 'r'))
    await time.runTurns()
    for (const r of late) expect(r.text).toHaveLength(5001)
    // the writer's first question was the readers' (an empty vector: the cached full state); the late
    // readers' is one more
    expect(room.answersEncoded).toBe(2)
  })

  it('[ANSWER-2] a connection that keeps asking for the whole space is closed with 4429; its first answer is free', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    seed(store, 's1', 20_000)
    const c = core(store, { limits: { maxAnswerBytesPerSecond: 5000 } })
    const honest = new Client(c, 's1', 'w')
    const greedy = new Client(c, 's1', 'r')
    await time.runTurns()
    expect(greedy.text).toHaveLength(20_000) // the first answer, 20 kB, past the 10 kB burst
    greedy.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
    await time.runTurns()
    expect(greedy.closed?.code).toBe(CloseCode.RateLimited)
    expect(greedy.got('sync-step2')).toHaveLength(1)
    // nobody else is affected
    honest.type('.')
    await time.runTurns()
    expect(honest.saved).toBe(true)
    expect(honest.closed).toBeNull()
  })

  it('[ANSWER-3] a socket that does not read what it is sent is closed with 4429 before it holds more', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    seed(store, 's1', 1000)
    const c = core(store, { limits: { maxBufferedBytes: 64 * 1024 } })
    const sent: Uint8Array[] = []
    const socket: SocketLike & { bufferedAmount: number; closed: number | null } = {
      bufferedAmount: 0,
      closed: null,
      send: (d) => void sent.push(d),
      close: (code) => void (socket.closed = code),
    }
    const handle = c.connect(socket, 's1', 'r')
    await time.runTurns()
    expect(sent.length).toBeGreaterThan(0) // its sync-step1 from the server
    socket.bufferedAmount = 64 * 1024 + 1 // what a client that stopped reading leaves queued
    const before = sent.length
    handle.handleMessage(encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }))
    await time.runTurns()
    expect(socket.closed).toBe(CloseCode.RateLimited)
    expect(sent.length).toBe(before) // not one more frame queued on it
  })
})

describe('joiners see only what is committed', () => {
  it('[COMMIT-5] a joiner gets its first answer, and relayed updates, only once what it would see is durable', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const writer = new Client(c, 's1', 'w')
    const watcher = new Client(c, 's1', 'r') // in the room before: relayed to at once, as before
    await time.runTurns()
    store.hold = true // the commit of what follows stays in flight
    writer.type('abc')
    await time.runTurns()
    expect(watcher.text).toBe('abc')
    const joiner = new Client(c, 's1', 'r')
    await time.runTurns()
    expect(joiner.got('sync-step2')).toHaveLength(0)
    expect(joiner.text).toBe('')
    writer.type('d') // relayed to the watcher, not to the joiner still waiting for its first answer
    await time.runTurns()
    expect(watcher.text).toBe('abcd')
    expect(joiner.text).toBe('')
    store.release()
    await time.runTurns()
    expect(store.text('s1')).toBe('abcd')
    expect(joiner.text).toBe('abcd')
    writer.type('e') // and from now on it is relayed to as everyone
    await time.runTurns()
    expect(joiner.text).toBe('abcde')
  })
})

describe('memory', () => {
  it('[MEM-2] an update that would take a space past MAX_STRUCTS_PER_SPACE is closed with 4413, nothing applied', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { maxStructsPerSpace: 100 } })
    const w = new Client(c, 's1', 'w')
    await time.runTurns()
    w.send({ type: 'sync-update', update: manyStructs(20) }) // 20 structs: at most 60 with splits
    await time.runTurns()
    expect(w.closed).toBeNull()
    const attacker = new Client(c, 's1', 'w')
    await time.runTurns()
    attacker.send({ type: 'sync-update', update: manyStructs(40) })
    await time.runTurns()
    expect(attacker.closed?.code).toBe(CloseCode.DocumentTooLarge)
    expect(store.doc('s1').getMap('notes').size).toBe(20)
    expect(c.loadedRoom('s1')!.doc.getMap('notes').size).toBe(20)
  })

  it('[MEM-3] a space that does not fit the memory budget is not loaded (1013, retry later); one nobody is in makes room', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    // s1: 60 structs of 60 clients (~63 kB estimated once loaded); s2: 1,000 characters (~33 kB reserved
    // before loading): one fits, not both
    store.data.set('s1', { snapshot: null, updates: [{ seq: ++store.seq, u: manyStructs(60) }] })
    seed(store, 's2', 1000)
    const budget = 90_000
    const c = core(store, { limits: { memoryBudgetBytes: budget } })
    const a = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(a.doc.getMap('notes').size).toBe(60)
    expect(c.memory.used).toBeLessThanOrEqual(budget)
    expect(c.memory.used + (await store.load('s2')).bytes * HEAP_PER_STORED_BYTE).toBeGreaterThan(budget)
    const b = new Client(c, 's2', 'w')
    await time.runTurns()
    expect(b.closed?.code).toBe(CloseCode.TryAgainLater)
    expect(b.closed?.reason).toBe('ServerFull') // before its hello was read: the close says it
    expect(c.loadedSpaces).toBe(1)
    expect(a.closed).toBeNull()
    // s1 empties: the next load of s2 unloads it rather than wait for IDLE_UNLOAD
    a.drop()
    const again = new Client(c, 's2', 'w')
    await time.runTurns()
    expect(again.closed).toBeNull()
    expect(again.text).toHaveLength(1000)
    expect(c.loadedRoom('s1')).toBeUndefined()
    expect(c.memory.used).toBeLessThanOrEqual(budget)
  })

  it('[MEM-1] the estimate of a loaded space covers its measured heap, for the documents that cost most per byte', () => {
    // measured in a child process with --expose-gc: built, loaded into a fresh Y.Doc, heap before/after
    const script = `
      import * as Y from 'yjs'
      const measure = (build) => {
        const update = build()
        global.gc(); const before = process.memoryUsage().heapUsed
        const doc = new Y.Doc(); Y.applyUpdate(doc, update)
        global.gc(); const heap = process.memoryUsage().heapUsed - before
        let structs = 0; for (const s of doc.store.clients.values()) structs += s.length
        return { heap, structs, clients: doc.store.clients.size, storedBytes: update.length }
      }
      const each = (n, f) => Y.mergeUpdates(Array.from({ length: n }, (_, i) => { const d = new Y.Doc(); d.clientID = i + 1; f(d, i); return Y.encodeStateAsUpdate(d) }))
      const one = (f) => { const d = new Y.Doc(); f(d); return Y.encodeStateAsUpdate(d) }
      console.log(JSON.stringify([
        measure(() => one((d) => { const m = d.getMap('notes'); for (let i = 0; i < 30000; i++) m.set('n' + i + '\\u001fupdatedAt', i) })),
        measure(() => one((d) => { const t = d.getText('body:n'); for (let i = 0; i < 30000; i++) t.insert(0, 'x') })),
        measure(() => each(8000, (d, i) => d.getMap('notes').set('k', null))),
        measure(() => each(8000, (d) => d.getText('body:n').insert(0, 'x'))),
      ]))
    `
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(run.status, run.stderr).toBe(0)
    const measured = JSON.parse(run.stdout) as {
      heap: number
      structs: number
      clients: number
      storedBytes: number
    }[]
    for (const m of measured) {
      const estimate = estimateHeap(m)
      console.log(
        `[MEM-1] ${m.structs} structs, ${m.clients} clients, ${m.storedBytes} B stored: heap ${m.heap} B, estimate ${estimate} B`,
      )
      expect(estimate).toBeGreaterThanOrEqual(m.heap)
      expect(estimate).toBeLessThan(m.heap * 4) // and not so loose that the budget means nothing
    }
  }, 90_000)
})
