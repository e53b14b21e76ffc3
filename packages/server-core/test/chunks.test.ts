/**
 * Messages in chunks (SPEC.md CHUNK-1…6, PROTOCOL.md §P7) on the transport-free core with a stepped
 * scheduler: who gets them, reassembly whole or not at all, and what a hostile chunk stream may cost.
 */
import {
  CloseCode,
  ErrorKind,
  type Message,
  PROTOCOL_VERSION,
  Reassembler,
  decodeMessage,
  encodeMessage,
  splitFrame,
} from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SocketLike, SyncCore } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

const FRAME = 8 * 1024

/** A client of this version: says hello, reassembles what arrives in chunks, sends what it is told to. */
class ChunkClient {
  /** Every frame as it arrived (chunks included). */
  readonly frames: Uint8Array[] = []
  /** Every message, chunks reassembled. */
  readonly received: Message[] = []
  closed: { code: number; reason: string } | null = null
  readonly doc = new Y.Doc()
  private readonly incoming = new Reassembler({ maxOpen: 4, maxFrameBytes: FRAME })
  readonly handle
  private nextId = 1
  constructor(core: SyncCore, space: string, token: string, version = PROTOCOL_VERSION) {
    const socket: SocketLike = {
      send: (data) => {
        this.frames.push(data)
        let m = decodeMessage(data)
        if (m.type === 'chunk') {
          const whole = this.incoming.accept(m, 0, 1 << 30)
          if (!whole) return
          m = decodeMessage(whole)
        }
        this.received.push(m)
        if (m.type === 'sync-step2' || m.type === 'sync-update') Y.applyUpdate(this.doc, m.update, this)
      },
      close: (code, reason) => {
        this.closed = { code, reason }
      },
    }
    this.handle = core.connect(socket, space, token)
    this.send({ type: 'hello', version })
    this.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) })
  }
  send(m: Message | Uint8Array): void {
    this.handle.handleMessage(m instanceof Uint8Array ? m : encodeMessage(m))
  }
  /** `m` as chunk frames of at most FRAME bytes, with a fresh id. */
  chunks(m: Message): Uint8Array[] {
    return splitFrame(encodeMessage(m), FRAME, this.nextId++)
  }
  got<T extends Message['type']>(type: T): Extract<Message, { type: T }>[] {
    return this.received.filter((m): m is Extract<Message, { type: T }> => m.type === type)
  }
  get text(): string {
    return this.doc.getText('body:n').toJSON()
  }
}

/** An update that writes `chars` characters to note `n` (a Converge space may hold it). */
const paste = (chars: number, fill = 'p'): Uint8Array => {
  const d = new Y.Doc()
  d.getText('body:n').insert(0, fill.repeat(chars))
  return Y.encodeStateAsUpdate(d)
}

const seed = (store: ControlledStore, spaceId: string, chars: number): void => {
  store.data.set(spaceId, { snapshot: null, updates: [{ seq: ++store.seq, u: paste(chars, 's') }] })
}

const chunkFrames = (c: { frames: Uint8Array[] }): Uint8Array[] =>
  c.frames.filter((f) => decodeMessage(f).type === 'chunk')

describe('messages in chunks', () => {
  it('[CHUNK-1] a client that knows chunks is told the limits after hello and gets a large answer in chunks; version 1 and stock clients get it whole, never a chunk', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    seed(store, 's1', 5 * FRAME)
    const c = core(store, { limits: { maxFrameBytes: FRAME, maxDocumentBytes: 1_000_000 } })
    const v3 = new ChunkClient(c, 's1', 'w')
    const v1 = new Client(c, 's1', 'w') // says hello with version 1
    const stock = new Client(c, 's1', 'w', false)
    await time.runTurns()
    // hello, then limits, then the current ack
    const types = v3.received.map((m) => m.type)
    expect(types.slice(types.indexOf('hello'), types.indexOf('hello') + 3)).toEqual([
      'hello',
      'limits',
      'durable-ack',
    ])
    const stored = store.data.get('s1')!.updates[0]!.u.length
    expect(v3.got('limits')[0]).toMatchObject({
      maxFrameBytes: FRAME,
      maxDocumentBytes: 1_000_000,
      storedBytes: stored,
      bytesPerSecond: 4 * 1024 * 1024,
      burstBytes: 8 * 1024 * 1024,
    })
    expect(v3.text).toHaveLength(5 * FRAME)
    expect(chunkFrames(v3).length).toBeGreaterThanOrEqual(5)
    for (const f of v3.frames) expect(f.length).toBeLessThanOrEqual(FRAME)
    for (const other of [v1, stock]) {
      expect(other.text).toHaveLength(5 * FRAME)
      expect(other.received.some((m) => m.type === 'chunk' || m.type === 'limits')).toBe(false)
      expect(other.frames.some((f) => f.length > FRAME)).toBe(true)
    }
    // a chunk from a client that did not say it knows them is malformed
    v1.send({ type: 'chunk', id: 1, total: 10, offset: 0, part: new Uint8Array(10) })
    await time.runTurns()
    expect(v1.closed?.code).toBe(CloseCode.MalformedFrame)
  })

  it('[CHUNK-2] an update in chunks, out of order and interleaved with other messages, is applied, stored, relayed and acknowledged once whole', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { maxFrameBytes: FRAME } })
    const a = new ChunkClient(c, 's1', 'w')
    const b = new ChunkClient(c, 's1', 'w')
    const reader = new Client(c, 's1', 'r') // a version 1 client
    await time.runTurns()
    const update = paste(6 * FRAME)
    const chunks = a.chunks({ type: 'sync-update', update })
    expect(chunks.length).toBeGreaterThan(6)
    const [first, ...rest] = chunks
    const last = rest.pop()!
    a.send(last) // out of order
    a.send({ type: 'query-awareness' }) // other messages in between are handled as they come
    a.send({ type: 'awareness', update: new Uint8Array([0]) })
    for (const f of rest.reverse()) a.send(f)
    await time.advance(100)
    expect(store.appends).toBe(0)
    expect(b.text).toBe('')
    expect(a.closed).toBeNull()
    a.send(first!)
    await time.advance(200)
    expect(store.text('s1')).toHaveLength(6 * FRAME)
    expect(b.text).toHaveLength(6 * FRAME)
    expect(reader.text).toHaveLength(6 * FRAME)
    const acked = a.got('durable-ack').at(-1)!.stateVector
    expect(Y.decodeStateVector(acked).size).toBe(1)
  })

  it('[CHUNK-2] a message cut by a close is never applied: nothing of it is stored or relayed', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { maxFrameBytes: FRAME } })
    const a = new ChunkClient(c, 's1', 'w')
    const b = new ChunkClient(c, 's1', 'w')
    await time.runTurns()
    const chunks = a.chunks({ type: 'sync-update', update: paste(4 * FRAME) })
    for (const f of chunks.slice(0, -1)) a.send(f)
    a.handle.handleClose()
    await time.runAll()
    expect(store.appends).toBe(0)
    expect(b.text).toBe('')
    // the last chunk after the close changes nothing either
    a.send(chunks.at(-1)!)
    await time.runAll()
    expect(store.appends).toBe(0)
  })

  it('[CHUNK-3] a chunk again, a chunk inside a chunked message or a whole that does not decode closes with 4400', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { maxFrameBytes: FRAME } })
    const dup = new ChunkClient(c, 's1', 'w')
    const nested = new ChunkClient(c, 's1', 'w')
    const garbage = new ChunkClient(c, 's1', 'w')
    const other = new ChunkClient(c, 's1', 'w')
    await time.runTurns()
    const chunks = dup.chunks({ type: 'sync-update', update: paste(3 * FRAME) })
    dup.send(chunks[0]!)
    dup.send(chunks[0]!)
    const inner = encodeMessage({
      type: 'chunk',
      id: 9,
      total: 3 * FRAME,
      offset: 0,
      part: new Uint8Array(2 * FRAME),
    })
    for (const f of splitFrame(inner, FRAME, 1)) nested.send(f)
    const junk = new Uint8Array(3 * FRAME).fill(0xff)
    for (let offset = 0; offset < junk.length; offset += FRAME - 40)
      garbage.send({
        type: 'chunk',
        id: 1,
        total: junk.length,
        offset,
        part: junk.subarray(offset, Math.min(junk.length, offset + FRAME - 40)),
      })
    await time.runAll()
    for (const bad of [dup, nested, garbage]) {
      expect(bad.closed?.code).toBe(CloseCode.MalformedFrame)
      expect(bad.got('error').at(-1)?.kind).toBe(ErrorKind.MalformedFrame)
    }
    expect(other.closed).toBeNull() // one bad socket never affects another (P5.6)
    expect(store.appends).toBe(0)
  })

  it('[CHUNK-4] a hostile stream is bounded before anything is kept: a total past the space’s room closes with 4413, a fifth open message with 4429, and chunks spend the byte rate', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    seed(store, 's1', 20_000)
    const c = core(store, {
      limits: { maxFrameBytes: FRAME, maxDocumentBytes: 100_000, maxBytesPerSecond: 50_000 },
    })
    const roomy = core(new ControlledStore(), { limits: { maxFrameBytes: FRAME, maxBytesPerSecond: 50_000 } })
    const huge = new ChunkClient(c, 's1', 'w')
    const room = new ChunkClient(c, 's1', 'w')
    const many = new ChunkClient(c, 's1', 'w')
    const flood = new ChunkClient(roomy, 's2', 'w')
    await time.runTurns()
    const part = new Uint8Array(FRAME - 64)
    // announcing 2^40 bytes: refused at the first chunk, as too large for the space
    huge.send({ type: 'chunk', id: 1, total: 2 ** 40, offset: 0, part })
    // the space stores ~20 kB of at most 100 kB: a message of 90 kB does not fit, one of 70 kB does
    room.send({ type: 'chunk', id: 1, total: 70_000, offset: 0, part })
    room.send({ type: 'chunk', id: 2, total: 20_000, offset: 0, part }) // with the open 70 kB: past the room
    for (const client of [huge, room]) {
      expect(client.closed?.code).toBe(CloseCode.DocumentTooLarge)
      expect(client.got('error').at(-1)?.kind).toBe(ErrorKind.DocumentTooLarge)
    }
    // four open at once are fine, a fifth is one too many
    for (let id = 1; id <= 4; id++) many.send({ type: 'chunk', id, total: 10_000, offset: 0, part })
    expect(many.closed).toBeNull()
    many.send({ type: 'chunk', id: 5, total: 10_000, offset: 0, part })
    expect(many.closed?.code).toBe(CloseCode.RateLimited)
    // chunk frames are frames: 2 s of burst at 50 kB/s is 100 kB, and then the rate says no
    let sent = 0
    for (let i = 0; !flood.closed && i < 100; i++) {
      flood.send({ type: 'chunk', id: 1, total: 1_000_000, offset: i * part.length, part })
      sent += FRAME
    }
    expect(flood.closed?.code).toBe(CloseCode.RateLimited)
    expect(sent).toBeLessThanOrEqual(100_000 + FRAME)
    await time.runAll()
    expect(store.appends).toBe(0)
  })

  it('[CHUNK-5] a message that gets no chunk for chunkIdleMs closes with 4408 IncompleteMessage; one that keeps coming does not', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { maxFrameBytes: FRAME, chunkIdleMs: 1000 } })
    const stalled = new ChunkClient(c, 's1', 'w')
    const slow = new ChunkClient(c, 's1', 'w')
    await time.runTurns()
    const chunks = slow.chunks({ type: 'sync-update', update: paste(5 * FRAME) })
    stalled.send(stalled.chunks({ type: 'sync-update', update: paste(5 * FRAME, 'q') })[0]!)
    slow.send(chunks[0]!)
    for (const f of chunks.slice(1)) {
      await time.advance(900)
      slow.send(f)
    }
    expect(slow.closed).toBeNull()
    expect(slow.text).toBe('')
    await time.runAll()
    expect(stalled.closed?.code).toBe(CloseCode.PreAuthOverflow) // 4408
    expect(stalled.got('error').at(-1)?.kind).toBe(ErrorKind.IncompleteMessage)
    expect(slow.closed).toBeNull()
    expect(store.text('s1')).toHaveLength(5 * FRAME)
    // the exact moment: open at 999 ms of silence, closed at 1000
    const late = new ChunkClient(c, 's1', 'w')
    await time.runTurns()
    late.send(late.chunks({ type: 'sync-update', update: paste(3 * FRAME, 'r') })[0]!)
    await time.advance(999)
    expect(late.closed).toBeNull()
    await time.advance(1)
    expect(late.closed?.code).toBe(CloseCode.PreAuthOverflow)
  })

  it('[CHUNK-6] a large update relayed to many clients is split once: every member gets the very same chunk frames', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store, { limits: { maxFrameBytes: FRAME } })
    const writer = new ChunkClient(c, 's1', 'w')
    const members = Array.from({ length: 3 }, () => new ChunkClient(c, 's1', 'w'))
    await time.runTurns()
    const before = members.map((m) => m.frames.length)
    for (const f of writer.chunks({ type: 'sync-update', update: paste(4 * FRAME, 'w') })) writer.send(f)
    await time.runTurns()
    const got = members.map((m, i) =>
      m.frames.slice(before[i]).filter((f) => decodeMessage(f).type === 'chunk'),
    )
    expect(got[0]!.length).toBeGreaterThan(4)
    for (const g of got.slice(1)) {
      expect(g.length).toBe(got[0]!.length)
      g.forEach((f, i) => expect(f).toBe(got[0]![i])) // the same bytes object
    }
    for (const m of members) expect(m.text).toHaveLength(4 * FRAME)
  })
})
