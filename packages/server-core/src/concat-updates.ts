/**
 * RELAY-5: the updates of a turn as one update, by concatenation where that is exact.
 *
 * A Yjs (v1) update lists its structs per client — a count, then for each client its struct count, the
 * client id, the first clock and the structs — and then its delete set per client. Yjs reads both
 * sections into maps by client, in any order. So updates whose structs come from different clients,
 * and whose deletions name different clients, are one update made of their blocks side by side: no
 * struct is decoded into an object, nothing is sorted or re-encoded. That is the common turn — each
 * writer's keystroke, one client each — where `Y.mergeUpdates` costs about 3 µs per update and a
 * relay merges once per writer of the turn. Anything else (two updates of one client, a content type
 * a space does not hold, bytes that do not parse) is left to `Y.mergeUpdates`.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** One update cut into its two sections, with the clients each names. */
interface Sections {
  readonly structClients: readonly number[]
  readonly structs: Uint8Array
  readonly dsClients: readonly number[]
  readonly ds: Uint8Array
}

const BITS5 = 31
const BIT6 = 32
const BIT7 = 64
const BIT8 = 128

/** Skips one struct of a v1 update; false for a content a space never holds (then: not cut). */
/** Reads an id (client, clock) and drops it. */
const skipId = (d: decoding.Decoder): void => {
  decoding.readVarUint(d)
  decoding.readVarUint(d)
}

const skipStruct = (d: decoding.Decoder): boolean => {
  const info = decoding.readUint8(d)
  const ref = info & BITS5
  if (ref === 0 || ref === 10) {
    decoding.readVarUint(d) // GC or Skip: a length
    return true
  }
  if (info & BIT8) skipId(d) // origin
  if (info & BIT7) skipId(d) // right origin
  if ((info & (BIT7 | BIT8)) === 0) {
    // the parent: a root's name, or an item's id; then the key in it
    if (decoding.readVarUint(d) === 1) decoding.readVarString(d)
    else skipId(d)
    if (info & BIT6) decoding.readVarString(d)
  }
  switch (ref) {
    case 1: // ContentDeleted
      decoding.readVarUint(d)
      return true
    case 4: // ContentString
      decoding.readVarString(d)
      return true
    case 8: {
      // ContentAny
      const n = decoding.readVarUint(d)
      for (let i = 0; i < n; i++) decoding.readAny(d)
      return true
    }
    default:
      return false
  }
}

const cache = new WeakMap<Uint8Array, Sections | null>()

const sectionsOf = (update: Uint8Array): Sections | null => {
  const known = cache.get(update)
  if (known !== undefined) return known
  let out: Sections | null = null
  try {
    const d = decoding.createDecoder(update)
    const structClients: number[] = []
    const clients = decoding.readVarUint(d)
    const structsStart = d.pos
    let ok = true
    for (let c = 0; c < clients && ok; c++) {
      const n = decoding.readVarUint(d)
      structClients.push(decoding.readVarUint(d))
      decoding.readVarUint(d) // first clock
      for (let i = 0; i < n && ok; i++) ok = skipStruct(d)
    }
    if (ok) {
      const structs = update.subarray(structsStart, d.pos)
      const dsClients: number[] = []
      const dsCount = decoding.readVarUint(d)
      const dsStart = d.pos
      for (let c = 0; c < dsCount; c++) {
        dsClients.push(decoding.readVarUint(d))
        const n = decoding.readVarUint(d)
        for (let i = 0; i < n; i++) skipId(d) // a deleted range: clock, length
      }
      if (d.pos === update.length)
        out = { structClients, structs, dsClients, ds: update.subarray(dsStart, d.pos) }
    }
  } catch {
    out = null
  }
  cache.set(update, out)
  return out
}

const disjoint = (lists: readonly (readonly number[])[]): boolean => {
  const seen = new Set<number>()
  for (const list of lists)
    for (const c of list) {
      if (seen.has(c)) return false
      seen.add(c)
    }
  return true
}

/** The updates as one, when their clients are disjoint (see the header); null when they are not. */
export function concatUpdates(updates: readonly Uint8Array[]): Uint8Array | null {
  const parts: Sections[] = []
  for (const u of updates) {
    const s = sectionsOf(u)
    if (!s) return null
    parts.push(s)
  }
  if (!disjoint(parts.map((p) => p.structClients)) || !disjoint(parts.map((p) => p.dsClients))) return null
  const e = encoding.createEncoder()
  encoding.writeVarUint(
    e,
    parts.reduce((n, p) => n + p.structClients.length, 0),
  )
  for (const p of parts) encoding.writeUint8Array(e, p.structs)
  encoding.writeVarUint(
    e,
    parts.reduce((n, p) => n + p.dsClients.length, 0),
  )
  for (const p of parts) encoding.writeUint8Array(e, p.ds)
  return encoding.toUint8Array(e)
}
