import { SEP, isReplicaId, joinKey } from './keys.js'

/**
 * The per-item counter of the cart (CART-2 … CART-4, CART-8): an observed-remove PN-counter kept in
 * *lives*, built from single-writer registers so it merges correctly on any map CRDT with
 * last-writer-wins keys.
 *
 * - Every add starts a *life* of the line, `<epoch>.<replica>`, where epoch is one more than the
 *   highest epoch the adder saw. Increments and decrements go to lives the author sees; a remove
 *   ends every life its author saw. (Life `0` is the one of documents written before lives: its
 *   counters are `qty[item␟replica]`; no new write goes there.)
 * - `qty[item␟replica␟life]` = `"p:n"`: the total increments (p) and decrements (n) that *replica*
 *   made to that life. Only that replica writes the key; both numbers only grow.
 * - `tomb[item␟remover]` = `{"<counter>": "p:n", …}`: what *remover* had seen of every counter
 *   (`<counter>` is `replica␟life`, or `replica` for life 0) when it last removed the item. Only it
 *   writes the key.
 *
 * A life's amount is what no remover had seen — Σ over its counters of (p − seenP) − (n − seenN),
 * with seen the largest snapshot any remover recorded — and never less than 0: decrements take away
 * only from the life they were made to, never from another add (CART-3). The visible quantity is the
 * sum over lives; at 0 the line counts as removed on every replica alike (CART-4).
 */
export interface PN {
  p: number
  n: number
}

export const ZERO: PN = { p: 0, n: 0 }

/** CART-8: the largest amount one command adds, and the largest quantity a line reaches by an add or increment. */
export const MAX_QUANTITY = 1_000_000

export const encodePN = ({ p, n }: PN): string => `${p}:${n}`

const isCount = (x: number): boolean => Number.isSafeInteger(x) && x >= 0

/** Reads a counter register; anything that is not a well-formed "p:n" counts as zero (BAD-4). */
export const decodePN = (v: unknown): PN => {
  if (typeof v !== 'string') return ZERO
  const i = v.indexOf(':')
  if (i < 0) return ZERO
  const p = Number(v.slice(0, i))
  const n = Number(v.slice(i + 1))
  return isCount(p) && isCount(n) ? { p, n } : ZERO
}

export type Snapshot = Record<string, PN>

export const encodeSnapshot = (s: Snapshot): string => {
  const out: Record<string, string> = {}
  for (const r of Object.keys(s).sort()) out[r] = encodePN(s[r] ?? ZERO)
  return JSON.stringify(out)
}

export const decodeSnapshot = (v: unknown): Snapshot => {
  const out: Snapshot = Object.create(null) as Snapshot
  if (typeof v !== 'string') return out
  let raw: unknown
  try {
    raw = JSON.parse(v)
  } catch {
    return out
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out
  for (const [r, pn] of Object.entries(raw as Record<string, unknown>)) out[r] = decodePN(pn)
  return out
}

/** The later of two snapshots of one single-writer counter (both components only grow). */
export const maxPN = (a: PN, b: PN): PN => ({ p: Math.max(a.p, b.p), n: Math.max(a.n, b.n) })

export const FIRST_LIFE = '0'

/** A life id: `0`, or `<epoch>.<replica>`; null when malformed (BAD-4: such counters count as nothing). */
export const lifeEpoch = (life: string): number | null => {
  if (life === FIRST_LIFE) return 0
  const dot = life.indexOf('.')
  if (dot < 1 || dot > 9) return null
  const epoch = Number(life.slice(0, dot))
  return Number.isSafeInteger(epoch) && epoch > 0 && isReplicaId(life.slice(dot + 1)) ? epoch : null
}

/** A new life for an add (or an undone remove): one epoch past the newest the author saw. */
export const newLife = (maxEpochSeen: number | null, replica: string): string =>
  `${(maxEpochSeen ?? 0) + 1}.${replica}`

/** The counter id of a replica in a life, as used in tombstones and after the item in `qty` keys. */
export const counterId = (replica: string, life: string): string =>
  life === FIRST_LIFE ? replica : joinKey(replica, life)

export const counterKey = (item: string, replica: string, life: string): string =>
  joinKey(item, counterId(replica, life))

/** Parses a counter id back into replica and life; null when malformed. */
export const parseCounterId = (id: string): { replica: string; life: string } | null => {
  const i = id.indexOf(SEP)
  const replica = i < 0 ? id : id.slice(0, i)
  const life = i < 0 ? FIRST_LIFE : id.slice(i + 1)
  return lifeEpoch(life) === null ? null : { replica, life }
}

export interface LifeState {
  readonly id: string
  readonly epoch: number
  readonly counts: Map<string, PN>
  readonly seen: Map<string, PN>
  ended: boolean
  /** What this life adds to the visible quantity (see the module comment). */
  amount: number
}

export const emptyLife = (id: string, epoch: number): LifeState => ({
  id,
  epoch,
  counts: new Map(),
  seen: new Map(),
  ended: false,
  amount: 0,
})

/** Computes `amount` of a life from its counters and what removers saw of them. */
export const lifeAmount = (life: LifeState): number => {
  let q = 0
  for (const [replica, c] of life.counts) {
    const s = life.seen.get(replica) ?? ZERO
    q += Math.max(0, c.p - s.p) - Math.max(0, c.n - s.n)
  }
  return Math.max(0, q)
}

/**
 * The lives an increment or decrement goes to, in order (CART-2): live lives before ended ones,
 * then the newest (highest epoch, then highest id); only lives that add something to the line.
 */
export const targetLives = (lives: Iterable<LifeState>): LifeState[] =>
  [...lives]
    .filter((l) => l.counts.size > 0 && l.amount > 0)
    .sort((a, b) =>
      a.ended !== b.ended
        ? a.ended
          ? 1
          : -1
        : b.epoch - a.epoch || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    )

/**
 * How a decrement of `by` splits over the target lives: each takes at most its amount, in target
 * order; what is left over (a decrement past zero) goes to the first.
 */
export const splitDecrement = (targets: readonly LifeState[], by: number): Map<string, number> => {
  const out = new Map<string, number>()
  let left = by
  for (const l of targets) {
    if (left <= 0) break
    const take = Math.min(left, l.amount)
    out.set(l.id, take)
    left -= take
  }
  const first = targets[0]
  if (left > 0 && first) out.set(first.id, (out.get(first.id) ?? 0) + left)
  return out
}
