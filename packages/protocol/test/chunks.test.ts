/**
 * PROTOCOL.md §P7: messages in chunks — the split and the reassembly both sides share. The bounds a
 * server puts on a client's chunks are server-core CHUNK-1…6 (test/chunks.test.ts there).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CHUNK_OVERHEAD,
  ChunkError,
  type ChunkMessage,
  MIN_CHUNK_PART,
  Reassembler,
  decodeMessage,
  encodeMessage,
  minChunkPart,
  splitFrame,
} from '../src/index.js'

const FRAME = 16 * 1024
const frameOf = (n: number, seed = 1): Uint8Array => {
  const update = new Uint8Array(n)
  for (let i = 0; i < n; i++) update[i] = (i * 31 + seed) & 0xff
  return encodeMessage({ type: 'sync-update', update })
}
const chunksOf = (frame: Uint8Array, id = 1, max = FRAME): ChunkMessage[] =>
  splitFrame(frame, max, id).map((f) => decodeMessage(f) as ChunkMessage)
const reassembler = (maxOpen = 4) => new Reassembler({ maxOpen, maxFrameBytes: FRAME })
const ROOM = 10 * 1024 * 1024

/** Feeds chunks in the given order; returns every whole frame handed back. */
const feed = (r: Reassembler, chunks: readonly ChunkMessage[], room = ROOM): Uint8Array[] => {
  const out: Uint8Array[] = []
  for (const c of chunks) {
    const whole = r.accept(c, 0, room)
    if (whole) out.push(whole)
  }
  return out
}

/** Byte equality without a deep compare per element (the frames here are large). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
  a !== undefined &&
  Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
const sameAll = (got: readonly Uint8Array[], want: readonly Uint8Array[]): boolean =>
  got.length === want.length && got.every((g, i) => same(g, want[i]!))

const refusal = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    if (e instanceof ChunkError) return e.why
    throw e
  }
  return 'accepted'
}

describe('chunked messages (PROTOCOL.md §P7)', () => {
  it('[P7.1] a frame that fits goes as itself; a larger one as chunk frames each within the limit, covering it in order', () => {
    const small = frameOf(FRAME - 10)
    expect(splitFrame(small, FRAME, 1)).toEqual([small])
    const big = frameOf(5 * FRAME + 123)
    const frames = splitFrame(big, FRAME, 7)
    expect(frames.length).toBe(Math.ceil(big.length / (FRAME - CHUNK_OVERHEAD)))
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(FRAME)
    const chunks = frames.map((f) => decodeMessage(f) as ChunkMessage)
    let offset = 0
    for (const c of chunks) {
      expect(c).toMatchObject({ type: 'chunk', id: 7, total: big.length, offset })
      offset += c.part.length
    }
    expect(offset).toBe(big.length)
    // the largest ids and totals still fit the overhead (varUints of up to 2^53)
    const huge = encodeMessage({
      type: 'chunk',
      id: Number.MAX_SAFE_INTEGER,
      total: Number.MAX_SAFE_INTEGER,
      offset: Number.MAX_SAFE_INTEGER,
      part: new Uint8Array(0),
    })
    expect(huge.length).toBeLessThanOrEqual(CHUNK_OVERHEAD)
  })

  it('[P7.2] reassembly hands back exactly the frame, once: in order, out of order, interleaved with another message', () => {
    const a = frameOf(4 * FRAME + 5, 1)
    const b = frameOf(3 * FRAME, 2)
    const ca = chunksOf(a, 1)
    const cb = chunksOf(b, 2)
    expect(sameAll(feed(reassembler(), ca), [a])).toBe(true)
    expect(sameAll(feed(reassembler(), [...ca].reverse()), [a])).toBe(true)
    // interleaved with the chunks of another message: each is whole once its own last part arrives
    const mixed: ChunkMessage[] = []
    for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
      if (cb[i]) mixed.push(cb[i]!)
      if (ca[i]) mixed.push(ca[i]!)
    }
    const r = reassembler()
    expect(sameAll(feed(r, mixed), [b, a])).toBe(true)
    expect(r.open).toBe(0)
    expect(r.heldBytes).toBe(0)
    // any order at all
    fc.assert(
      fc.property(fc.shuffledSubarray(ca, { minLength: ca.length }), (order) => {
        expect(sameAll(feed(reassembler(), order), [a])).toBe(true)
      }),
      { numRuns: 50 },
    )
  })

  it('[P7.2] nothing is handed back until every byte arrived: a truncated message is never whole, and clear() forgets it', () => {
    const a = frameOf(4 * FRAME, 3)
    const ca = chunksOf(a)
    const r = reassembler()
    expect(feed(r, ca.slice(0, -1))).toEqual([])
    expect(r.open).toBe(1)
    expect(r.heldBytes).toBe(a.length - ca.at(-1)!.part.length)
    r.clear()
    expect([r.open, r.heldBytes, r.announcedBytes]).toEqual([0, 0, 0])
    // the last part alone does not complete a message that was forgotten
    expect(feed(r, ca.slice(-1))).toEqual([])
  })

  it('[P7.2] a part again, an overlap, a part past the end, a changed total, an empty or a short part is refused as malformed', () => {
    const a = frameOf(4 * FRAME, 4)
    const ca = chunksOf(a)
    const first = ca[0]!
    const again = reassembler()
    again.accept(first, 0, ROOM)
    expect(refusal(() => again.accept(first, 0, ROOM))).toBe('malformed') // duplicated
    const overlap = reassembler()
    overlap.accept(first, 0, ROOM)
    expect(
      refusal(() => overlap.accept({ ...ca[1]!, offset: ca[1]!.offset - 1 }, 0, ROOM)),
      'a part starting inside another',
    ).toBe('accepted') // overlap is only certain once more bytes arrive than the message holds…
    const rest = ca.slice(1)
    expect(refusal(() => feed(overlap, rest))).toBe('malformed') // …or once they cover it
    expect(refusal(() => reassembler().accept({ ...first, offset: a.length - 10 }, 0, ROOM))).toBe(
      'malformed',
    ) // past the end
    const changed = reassembler()
    changed.accept(first, 0, ROOM)
    expect(refusal(() => changed.accept({ ...ca[1]!, total: a.length + 1 }, 0, ROOM))).toBe('malformed')
    expect(refusal(() => reassembler().accept({ ...first, part: new Uint8Array(0) }, 0, ROOM))).toBe(
      'malformed',
    )
    expect(
      refusal(() => reassembler().accept({ ...first, total: 0, part: new Uint8Array(0) }, 0, ROOM)),
    ).toBe('malformed')
    // a part that does not end its message is at least MIN_CHUNK_PART: tiny parts cannot pile up bookkeeping
    expect(minChunkPart(FRAME)).toBe(MIN_CHUNK_PART)
    expect(
      refusal(() => reassembler().accept({ ...first, part: first.part.subarray(0, 100) }, 0, ROOM)),
    ).toBe('malformed')
    // the last part may be short
    expect(
      refusal(() =>
        reassembler().accept(
          { ...first, offset: a.length - 100, part: first.part.subarray(0, 100) },
          0,
          ROOM,
        ),
      ),
    ).toBe('accepted')
  })

  it('[P7.2] a hostile stream is bounded before anything is kept: a huge total, one message too many; memory is what was received', () => {
    const r = reassembler(2)
    const part = new Uint8Array(MIN_CHUNK_PART)
    // a total past the room is refused with nothing kept
    expect(refusal(() => r.accept({ type: 'chunk', id: 1, total: 2 ** 40, offset: 0, part }, 0, ROOM))).toBe(
      'too-large',
    )
    expect([r.open, r.heldBytes, r.announcedBytes]).toEqual([0, 0, 0])
    // streams that never finish hold what they were sent, not what they announced
    r.accept({ type: 'chunk', id: 1, total: ROOM, offset: 0, part }, 5, ROOM)
    r.accept({ type: 'chunk', id: 2, total: ROOM / 2, offset: 0, part }, 9, ROOM / 2)
    expect(r.open).toBe(2)
    expect(r.heldBytes).toBe(2 * part.length)
    expect(r.announcedBytes).toBe(ROOM + ROOM / 2)
    expect(r.quietSince).toBe(5)
    // a third at once is refused, nothing of it kept
    expect(refusal(() => r.accept({ type: 'chunk', id: 3, total: FRAME, offset: 0, part }, 10, ROOM))).toBe(
      'too-many',
    )
    expect(r.heldBytes).toBe(2 * part.length)
    // a part is a copy: changing the frame it came in changes nothing kept
    const frame = frameOf(3 * FRAME, 9)
    const cs = chunksOf(frame)
    const s = reassembler()
    for (const c of cs.slice(0, -1)) {
      s.accept(c, 0, ROOM)
      c.part.fill(0)
    }
    expect(same(s.accept(cs.at(-1)!, 0, ROOM) ?? undefined, frameOf(3 * FRAME, 9))).toBe(true)
  })

  it('[P7.2] 64 MiB in 1 MiB chunks reassembles in one pass over its bytes', () => {
    const size = 64 * 1024 * 1024
    const update = new Uint8Array(size)
    for (let i = 0; i < size; i += 4096) update[i] = i & 0xff
    const frame = encodeMessage({ type: 'sync-update', update })
    const started = performance.now()
    const chunks = splitFrame(frame, 1024 * 1024, 1).map((f) => decodeMessage(f) as ChunkMessage)
    const r = new Reassembler({ maxOpen: 1, maxFrameBytes: 1024 * 1024 })
    const out = feed(r, chunks, size + 16)
    const ms = performance.now() - started
    expect(out.length).toBe(1)
    expect(same(out[0], frame)).toBe(true)
    console.log(`[P7.2] 64 MiB split into ${chunks.length} chunks and reassembled in ${ms.toFixed(0)} ms`)
  })
})
