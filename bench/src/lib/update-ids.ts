/**
 * Reads which (client, clock) ids a Yjs v1 update carries, without building a document: a receiver of
 * the fan-out load keys each delivery by the ids it brings, so merged updates (Hocuspocus coalesces
 * per turn) count every keystroke inside them. Handles the contents the bench writes (strings,
 * deleted, JSON, binary, any); anything else falls back to Y.decodeUpdate.
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

/** Unique number for an id: client (32 bits) × 2^21 + clock (< 2^21 per writer in a run). */
export const idKey = (client: number, clock: number): number => client * 2_097_152 + clock

/** Calls `fn(client, clock, length)` for every run of structs in the update. */
export function forEachId(
  update: Uint8Array,
  fn: (client: number, clock: number, len: number) => void,
): void {
  try {
    fast(update, fn)
  } catch {
    for (const s of Y.decodeUpdate(update).structs) fn(s.id.client, s.id.clock, s.length)
  }
}

class Unsupported extends Error {}

function fast(update: Uint8Array, fn: (client: number, clock: number, len: number) => void): void {
  const d = decoding.createDecoder(update)
  const groups = decoding.readVarUint(d)
  for (let g = 0; g < groups; g++) {
    const n = decoding.readVarUint(d)
    const client = decoding.readVarUint(d)
    let clock = decoding.readVarUint(d)
    for (let i = 0; i < n; i++) {
      const info = decoding.readUint8(d)
      const ref = info & 0b11111
      let len: number
      if (ref === 0 || ref === 10) {
        len = decoding.readVarUint(d) // GC, Skip
      } else {
        if (info & 0x80) {
          decoding.readVarUint(d)
          decoding.readVarUint(d)
        }
        if (info & 0x40) {
          decoding.readVarUint(d)
          decoding.readVarUint(d)
        }
        if ((info & 0xc0) === 0) {
          if (decoding.readVarUint(d) === 1) decoding.readVarString(d)
          else {
            decoding.readVarUint(d)
            decoding.readVarUint(d)
          }
          if (info & 0x20) decoding.readVarString(d)
        }
        switch (ref) {
          case 1:
            len = decoding.readVarUint(d)
            break
          case 2: {
            len = decoding.readVarUint(d)
            for (let k = 0; k < len; k++) decoding.readVarString(d)
            break
          }
          case 3:
            decoding.readVarUint8Array(d)
            len = 1
            break
          case 4:
            len = decoding.readVarString(d).length
            break
          case 8: {
            len = decoding.readVarUint(d)
            for (let k = 0; k < len; k++) decoding.readAny(d)
            break
          }
          default:
            throw new Unsupported()
        }
      }
      if (ref !== 10) fn(client, clock, len)
      clock += len
    }
  }
}
