/**
 * RELAY-5: the updates of a turn as one update, by concatenation where that is exact.
 *
 * A Yjs (v1) update lists its structs per client — a count, then for each client its struct count, the
 * client id, the first clock and the structs — and then its delete set per client. Yjs reads both
 * sections into maps by client, in any order. So a turn's updates are one update made of their blocks
 * side by side: blocks of different clients are copied as they are, and the blocks of one client whose
 * clocks follow each other (a writer's keystrokes, in the order it sent them) are one block — their
 * struct counts added, the first one's clock, their structs copied one after the other (a struct's own
 * id is implicit, its origins are explicit, so a struct's bytes do not depend on what precedes it).
 * Deleted ranges of one client named by several updates are listed under that client once. No struct
 * is decoded into an object and nothing is re-encoded, where `Y.mergeUpdates` costs about 3 µs per
 * update and grows faster than the turn (a profile of an overloaded room put 80% of the server in it,
 * so a backlog made every later turn slower). Anything else (a gap or an overlap in one client's
 * clocks, a content type a space does not hold, bytes that do not parse) is left to `Y.mergeUpdates`.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** One client's block of structs: its clocks and the bytes of its structs (after the block's header). */
interface Block {
  readonly client: number
  readonly count: number
  readonly from: number
  readonly to: number
  readonly structs: Uint8Array
}

/** One update cut into its blocks of structs and its deleted ranges per client. */
interface Sections {
  readonly blocks: readonly Block[]
  readonly ds: readonly (readonly [client: number, ranges: readonly number[]])[]
}

const BITS5 = 31
const BIT6 = 32
const BIT7 = 64
const BIT8 = 128

/** Reads an id (client, clock) and drops it. */
const skipId = (d: decoding.Decoder): void => {
  decoding.readVarUint(d)
  decoding.readVarUint(d)
}

/** Skips one struct of a v1 update: its length in clock units, or -1 for a content a space never holds. */
const skipStruct = (d: decoding.Decoder): number => {
  const info = decoding.readUint8(d)
  const ref = info & BITS5
  if (ref === 0 || ref === 10) return decoding.readVarUint(d) // GC or Skip: a length
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
      return decoding.readVarUint(d)
    case 4: // ContentString: its length in UTF-16 units, as Yjs counts clocks
      return decoding.readVarString(d).length
    case 8: {
      // ContentAny
      const n = decoding.readVarUint(d)
      for (let i = 0; i < n; i++) decoding.readAny(d)
      return n
    }
    default:
      return -1
  }
}

const cache = new WeakMap<Uint8Array, Sections | null>()

const sectionsOf = (update: Uint8Array): Sections | null => {
  const known = cache.get(update)
  if (known !== undefined) return known
  let out: Sections | null = null
  try {
    const d = decoding.createDecoder(update)
    const blocks: Block[] = []
    const clients = decoding.readVarUint(d)
    let ok = true
    for (let c = 0; c < clients && ok; c++) {
      const count = decoding.readVarUint(d)
      const client = decoding.readVarUint(d)
      const from = decoding.readVarUint(d)
      const start = d.pos
      let to = from
      for (let i = 0; i < count && ok; i++) {
        const len = skipStruct(d)
        ok = len >= 0
        to += len
      }
      blocks.push({ client, count, from, to, structs: update.subarray(start, d.pos) })
    }
    if (ok) {
      const ds: [number, number[]][] = []
      const dsCount = decoding.readVarUint(d)
      for (let c = 0; c < dsCount; c++) {
        const client = decoding.readVarUint(d)
        const n = decoding.readVarUint(d)
        const ranges: number[] = []
        for (let i = 0; i < 2 * n; i++) ranges.push(decoding.readVarUint(d)) // clock, length
        ds.push([client, ranges])
      }
      if (d.pos === update.length) out = { blocks, ds }
    }
  } catch {
    out = null
  }
  cache.set(update, out)
  return out
}

/** The updates as one (see the header); null when one client's clocks have a gap or overlap, or one does not parse. */
export function concatUpdates(updates: readonly Uint8Array[]): Uint8Array | null {
  // per client, in the order clients first appear: its blocks
  const byClient = new Map<number, Block[]>()
  const deleted = new Map<number, (readonly number[])[]>()
  const add = <T>(map: Map<number, T[]>, client: number, value: T): void => {
    const list = map.get(client)
    if (list) list.push(value)
    else map.set(client, [value])
  }
  for (const u of updates) {
    const s = sectionsOf(u)
    if (!s) return null
    for (const b of s.blocks) add(byClient, b.client, b)
    for (const [client, ranges] of s.ds) add(deleted, client, ranges)
  }
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, byClient.size)
  for (const [client, blocks] of byClient) {
    if (blocks.length > 1) {
      blocks.sort((a, b) => a.from - b.from)
      for (let i = 1; i < blocks.length; i++) if (blocks[i]!.from !== blocks[i - 1]!.to) return null
    }
    encoding.writeVarUint(
      e,
      blocks.reduce((n, b) => n + b.count, 0),
    )
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, blocks[0]!.from)
    for (const b of blocks) encoding.writeUint8Array(e, b.structs)
  }
  encoding.writeVarUint(e, deleted.size)
  for (const [client, lists] of deleted) {
    // one client's ranges (clock, length, …) from several updates: listed once, by clock (as Yjs
    // sorts a delete set); from one update, as they came
    let flat = lists[0]!
    if (lists.length > 1) {
      const pairs: [number, number][] = []
      for (const r of lists) for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!])
      flat = pairs.sort((a, b) => a[0] - b[0]).flat()
    }
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, flat.length / 2)
    for (const v of flat) encoding.writeVarUint(e, v)
  }
  return encoding.toUint8Array(e)
}
