/**
 * Messages larger than the receiver's frame limit, sent in chunks (PROTOCOL.md §P7): the sender's
 * split (`splitFrame`) and the receiver's reassembly (`Reassembler`), the same on both sides. Pure:
 * the caller brings the clock, the limits and what to do with a refusal.
 */
import { type Message, encodeMessage } from './messages.js'

/** §P7: the first protocol version whose peers send and take `chunk` and `limits`. */
export const CHUNKS_SINCE_VERSION = 3

/** Whether a peer that said hello with `version` sends and takes chunks (§P7.1). */
export const knowsChunks = (version: number): boolean => version >= CHUNKS_SINCE_VERSION

/** The most a chunk frame adds to its part: the type and four varUints of up to 2^53 (8 bytes each). */
export const CHUNK_OVERHEAD = 1 + 4 * 8

/** §P7.2: every part but the one that ends its message holds at least this many bytes… */
export const MIN_CHUNK_PART = 4096

/** …or, for a receiver whose frame limit is smaller, as many as a frame of that limit can carry. */
export const minChunkPart = (maxFrameBytes: number): number =>
  Math.max(1, Math.min(MIN_CHUNK_PART, maxFrameBytes - CHUNK_OVERHEAD))

/** The chunk message, as decoded. */
export type ChunkMessage = Extract<Message, { type: 'chunk' }>

/**
 * §P7.1: `frame` (one encoded message) as it goes to a peer whose frames may be `maxFrameBytes`
 * long: itself when it fits, else chunk frames of message `id`, in order, each at most that long.
 * Encodes each byte once: O(frame.length).
 */
export function splitFrame(frame: Uint8Array, maxFrameBytes: number, id: number): Uint8Array[] {
  if (frame.length <= maxFrameBytes) return [frame]
  const partBytes = maxFrameBytes - CHUNK_OVERHEAD
  if (partBytes < 1) throw new RangeError(`a frame limit of ${maxFrameBytes} bytes cannot carry a chunk`)
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < frame.length; offset += partBytes)
    chunks.push(
      encodeMessage({
        type: 'chunk',
        id,
        total: frame.length,
        offset,
        part: frame.subarray(offset, Math.min(frame.length, offset + partBytes)),
      }),
    )
  return chunks
}

/**
 * Why a chunk was refused (§P7.4), each with the close the server gives it:
 * `malformed` — not a part of any whole message (4400 MalformedFrame);
 * `too-large` — it announces more than the receiver can take now (4413 DocumentTooLarge);
 * `too-many` — one more message in chunks than may be open at once (4429 RateLimited).
 */
export type ChunkRefusal = 'malformed' | 'too-large' | 'too-many'

export class ChunkError extends Error {
  override readonly name = 'ChunkError'
  constructor(
    readonly why: ChunkRefusal,
    message: string,
  ) {
    super(message)
  }
}

interface Stream {
  readonly total: number
  /** Parts by offset: each a copy, so a part never keeps the frame (or a socket buffer) it came in alive. */
  readonly parts: Map<number, Uint8Array>
  received: number
  lastAt: number
}

export interface ReassemblerOptions {
  /** Messages that may be open (begun, not whole) at once. */
  readonly maxOpen: number
  /** The receiver's frame limit: parts but the last must hold `minChunkPart(maxFrameBytes)` bytes. */
  readonly maxFrameBytes: number
}

/**
 * §P7.2: takes chunks in any order, interleaved with other messages and with the chunks of other
 * open messages, and hands back each message's frame once its parts cover it exactly — whole or not
 * at all. Memory: the bytes received of open messages (never more than they announced, which the
 * caller bounds before anything is kept), plus one Map entry per part; work: each byte copied once
 * on arrival and once into the whole frame, and a sort of the parts' offsets when it completes.
 */
export class Reassembler {
  private readonly streams = new Map<number, Stream>()
  private announced = 0
  private held = 0

  constructor(private readonly options: ReassemblerOptions) {}

  /** Messages begun and not whole yet. */
  get open(): number {
    return this.streams.size
  }

  /** What the open messages announced (`total`), together. */
  get announcedBytes(): number {
    return this.announced
  }

  /** The bytes of open messages received so far, together: what reassembly holds in memory. */
  get heldBytes(): number {
    return this.held
  }

  /** When the open message that waited longest for its next chunk got its last one (null: none open). */
  get quietSince(): number | null {
    let at: number | null = null
    for (const s of this.streams.values()) if (at === null || s.lastAt < at) at = s.lastAt
    return at
  }

  /**
   * Takes one chunk received at `now`. `room`: the most a message begun by it may announce (the
   * caller's limit, checked before any byte of it is kept). Returns the whole message's frame when
   * this chunk completed it, else null. Throws `ChunkError`; the caller closes (§P7.4).
   */
  accept(c: ChunkMessage, now: number, room: number): Uint8Array | null {
    let s = this.streams.get(c.id)
    const minPart = minChunkPart(this.options.maxFrameBytes)
    if (c.total < 1) throw new ChunkError('malformed', 'a message in chunks of no bytes')
    if (c.part.length === 0) throw new ChunkError('malformed', 'an empty chunk')
    if (c.offset + c.part.length > c.total)
      throw new ChunkError(
        'malformed',
        `a chunk past the end of its message (${c.offset + c.part.length} of ${c.total})`,
      )
    if (c.offset + c.part.length < c.total && c.part.length < minPart)
      throw new ChunkError('malformed', `a chunk of ${c.part.length} bytes, not the last, under ${minPart}`)
    if (!s) {
      if (this.streams.size >= this.options.maxOpen)
        throw new ChunkError('too-many', `more than ${this.options.maxOpen} messages in chunks at once`)
      if (c.total > room)
        throw new ChunkError('too-large', `a message of ${c.total} bytes, with room for ${Math.max(0, room)}`)
      s = { total: c.total, parts: new Map(), received: 0, lastAt: now }
      this.streams.set(c.id, s)
      this.announced += c.total
    } else if (s.total !== c.total)
      throw new ChunkError('malformed', `a chunk announcing ${c.total} bytes for a message of ${s.total}`)
    if (s.parts.has(c.offset)) throw new ChunkError('malformed', `a chunk at offset ${c.offset} again`)
    if (s.received + c.part.length > s.total)
      throw new ChunkError('malformed', 'chunks that overlap: more bytes than the message holds')
    s.parts.set(c.offset, c.part.slice())
    s.received += c.part.length
    s.lastAt = now
    this.held += c.part.length
    if (s.received < s.total) return null
    return this.complete(c.id, s)
  }

  private complete(id: number, s: Stream): Uint8Array {
    this.drop(id, s)
    const offsets = [...s.parts.keys()].sort((a, b) => a - b)
    const frame = new Uint8Array(s.total)
    let end = 0
    for (const offset of offsets) {
      // as many bytes as the message holds, in parts that start where the one before ended: no overlap, no gap
      if (offset !== end) throw new ChunkError('malformed', `chunks that overlap or leave a gap at ${end}`)
      const part = s.parts.get(offset)!
      frame.set(part, offset)
      end += part.length
    }
    return frame
  }

  private drop(id: number, s: Stream): void {
    this.streams.delete(id)
    this.announced -= s.total
    this.held -= s.received
  }

  /** Forgets every open message (the socket closed): none of them is applied. */
  clear(): void {
    this.streams.clear()
    this.announced = 0
    this.held = 0
  }
}
