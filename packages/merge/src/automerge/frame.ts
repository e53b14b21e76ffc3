import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MergeError } from '../errors.js'

/**
 * Automerge updates travel as a list of encoded changes:
 *   update := varUint(count) · count × varUint8Array(change)
 * and state vectors as version vectors (DLV-4: per actor, the highest sequence number held):
 *   vector := varUint(count) · count × (varUint8Array(actor bytes) · varUint(seq))
 * A version vector, not the heads: a peer that is sent one can tell what it holds that the sender
 * lacks without knowing the sender's changes, and a durable ack in this form says of each change
 * whether it is saved (its actor's number is at least the change's sequence number).
 */
export const encodeList = (items: readonly Uint8Array[]): Uint8Array => {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, items.length)
  for (const c of items) encoding.writeVarUint8Array(enc, c)
  return encoding.toUint8Array(enc)
}

export const decodeList = (bytes: Uint8Array, what: string): Uint8Array[] => {
  if (!(bytes instanceof Uint8Array)) throw new MergeError('MalformedUpdate', `${what} must be a Uint8Array`)
  try {
    const dec = decoding.createDecoder(bytes)
    const count = decoding.readVarUint(dec)
    // every entry takes at least one byte: a count larger than what is left is a lie
    if (count > bytes.length) throw new Error(`count ${count} exceeds the ${bytes.length} bytes given`)
    const out: Uint8Array[] = []
    for (let i = 0; i < count; i++) out.push(decoding.readVarUint8Array(dec))
    if (decoding.hasContent(dec)) throw new Error('trailing bytes')
    return out
  } catch (e) {
    if (e instanceof MergeError) throw e
    throw new MergeError(
      'MalformedUpdate',
      `not an Automerge ${what}: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    )
  }
}

const HEX = '0123456789abcdef'
export const hexToBytes = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
export const bytesToHex = (b: Uint8Array): string => {
  let s = ''
  for (const x of b) s += (HEX[x >> 4] ?? '') + (HEX[x & 15] ?? '')
  return s
}

/** Longest actor id a version vector may name, in bytes (Automerge's own are 16). */
export const MAX_ACTOR_BYTES = 64

export const encodeVersionVector = (vector: ReadonlyMap<string, number>): Uint8Array => {
  const enc = encoding.createEncoder()
  const entries = [...vector].filter(([, seq]) => seq > 0)
  encoding.writeVarUint(enc, entries.length)
  for (const [actor, seq] of entries) {
    encoding.writeVarUint8Array(enc, hexToBytes(actor))
    encoding.writeVarUint(enc, seq)
  }
  return encoding.toUint8Array(enc)
}

/** Reads a version vector (actor hex → sequence number); a repeated actor keeps its highest number. */
export const decodeVersionVector = (bytes: Uint8Array): Map<string, number> => {
  if (!(bytes instanceof Uint8Array))
    throw new MergeError('MalformedUpdate', 'a version vector must be a Uint8Array')
  try {
    const dec = decoding.createDecoder(bytes)
    const count = decoding.readVarUint(dec)
    // every entry takes at least two bytes: a count larger than what is left is a lie
    if (count > bytes.length / 2) throw new Error(`count ${count} exceeds the ${bytes.length} bytes given`)
    const out = new Map<string, number>()
    for (let i = 0; i < count; i++) {
      const actor = decoding.readVarUint8Array(dec)
      if (actor.length === 0 || actor.length > MAX_ACTOR_BYTES) throw new Error('an actor of a bad length')
      const seq = decoding.readVarUint(dec)
      if (!Number.isSafeInteger(seq)) throw new Error('a sequence number past 2^53')
      const hex = bytesToHex(actor)
      out.set(hex, Math.max(out.get(hex) ?? 0, seq))
    }
    if (decoding.hasContent(dec)) throw new Error('trailing bytes')
    return out
  } catch (e) {
    throw new MergeError(
      'MalformedUpdate',
      `not an Automerge version vector: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    )
  }
}
