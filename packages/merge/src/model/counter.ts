/**
 * The per-item counter of the cart (CART-2 … CART-4): an observed-remove PN-counter built from
 * single-writer registers, so it merges correctly on any map CRDT with last-writer-wins keys.
 *
 * - `qty[item␟replica] = "p:n"`: the total increments (p) and decrements (n) that *replica* made to
 *   the item. Only that replica writes the key, and both numbers only grow.
 * - `tomb[item␟remover] = {"replica": "p:n", …}`: what *remover* had seen of every replica's counter
 *   when it removed the item (the latest snapshot per replica). Only that remover writes the key.
 *
 * Visible quantity = Σ over replicas of (p − seenP) − (n − seenN), where seen is the largest snapshot
 * any remover recorded for that replica. Two removers that saw the same contributions subtract them
 * once (idempotent remove, CART-3); contributions no remover saw survive (add-wins, CART-3).
 */
export interface PN {
  p: number
  n: number
}

export const ZERO: PN = { p: 0, n: 0 }

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
  if (typeof v !== 'string') return {}
  let raw: unknown
  try {
    raw = JSON.parse(v)
  } catch {
    return {}
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return {}
  const out: Snapshot = Object.create(null) as Snapshot
  for (const [r, pn] of Object.entries(raw as Record<string, unknown>)) out[r] = decodePN(pn)
  return out
}

/** The later of two snapshots of one single-writer counter (both components only grow). */
export const maxPN = (a: PN, b: PN): PN => ({ p: Math.max(a.p, b.p), n: Math.max(a.n, b.n) })

export const visibleQuantity = (counts: Map<string, PN>, seen: Map<string, PN>): number => {
  let q = 0
  for (const [replica, c] of counts) {
    const s = seen.get(replica) ?? ZERO
    q += Math.max(0, c.p - s.p) - Math.max(0, c.n - s.n)
  }
  return q
}
