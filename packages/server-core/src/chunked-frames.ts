/**
 * CHUNK-6 (PROTOCOL.md §P7.1): the chunks of a frame the server sends, split once per frame however
 * many connections it goes to — a relayed update and a shared answer are one bytes object for every
 * member (RELAY-1, ANSWER-1), and so are their chunks. The message ids are numbered across the
 * instance, so one split serves every socket.
 */
import { splitFrame } from '@converge/protocol'

const split = new WeakMap<Uint8Array, { readonly maxFrameBytes: number; readonly frames: Uint8Array[] }>()
let nextId = 1

/** `frame` as frames of at most `maxFrameBytes`: itself when it fits, else its chunks (cached with it). */
export const chunkedFrames = (frame: Uint8Array, maxFrameBytes: number): Uint8Array[] => {
  if (frame.length <= maxFrameBytes) return [frame]
  const cached = split.get(frame)
  if (cached && cached.maxFrameBytes === maxFrameBytes) return cached.frames
  const frames = splitFrame(frame, maxFrameBytes, nextId++)
  split.set(frame, { maxFrameBytes, frames })
  return frames
}
