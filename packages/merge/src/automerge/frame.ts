import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MergeError } from '../errors.js'

/**
 * Automerge updates travel as a list of encoded changes:
 *   update := varUint(count) · count × varUint8Array(change)
 * and state vectors as the document heads:
 *   heads  := varUint(count) · count × varUint8Array(32-byte hash)
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
