/** Percentiles and medians. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export function sortNumbers(a: ArrayLike<number>): Float64Array {
  const s = Float64Array.from(a)
  s.sort()
  return s
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x))
  if (v.length === 0) return NaN
  return percentile(sortNumbers(v), 50)
}

/** Runs `fn` `warmup` times unmeasured, then `reps` times; returns the measured results. */
export async function repeat<T>(warmup: number, reps: number, fn: () => Promise<T> | T): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const out: T[] = []
  for (let i = 0; i < reps; i++) out.push(await fn())
  return out
}
