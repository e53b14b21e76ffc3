/**
 * The Converge server's own lag histograms (server-core LAG-1…4, on /metrics), read around a
 * measurement: the buckets' growth between two scrapes gives the quantiles of what happened in
 * between, as Prometheus's histogram_quantile would (linear within a bucket). The peers have no such
 * series, so these rows are Converge's alone.
 */

/** One histogram series: its cumulative buckets (upper bound in seconds → count) and its count. */
export interface Histogram {
  readonly buckets: readonly (readonly [number, number])[]
  readonly count: number
}

/** The series the fan-out section reports, with the rows' words. */
export const LAG_SERIES: readonly (readonly [string, string])[] = [
  ['converge_commit_lag_seconds', 'server: receipt → commit'],
  ['converge_ack_lag_seconds{to="writer"}', 'server: commit → ack to the writer'],
  ['converge_ack_lag_seconds{to="member"}', 'server: commit → ack to the others'],
  ['converge_relay_lag_seconds', 'server: receipt → relay'],
]

/** Every histogram on `http://127.0.0.1:<port>/metrics`, by series (name plus labels other than `le`). */
export async function scrapeHistograms(port: number): Promise<Map<string, Histogram>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const buckets = new Map<string, [number, number][]>()
  const counts = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)_(bucket|count)(?:\{([^}]*)\})? ([0-9.e+-]+|\+Inf|NaN)$/.exec(line)
    if (!m) continue
    const [, name, kind, labels = '', value] = m
    const parts = labels === '' ? [] : labels.split(',')
    const le = parts.find((p) => p.startsWith('le='))
    const rest = parts.filter((p) => !p.startsWith('le='))
    const key = rest.length > 0 ? `${name}{${rest.join(',')}}` : name!
    if (kind === 'count') counts.set(key, Number(value))
    else if (le) {
      const bound = le.slice(4, -1)
      const list = buckets.get(key) ?? []
      list.push([bound === '+Inf' ? Infinity : Number(bound), Number(value)])
      buckets.set(key, list)
    }
  }
  const out = new Map<string, Histogram>()
  for (const [key, list] of buckets)
    out.set(key, { buckets: list.sort((a, b) => a[0] - b[0]), count: counts.get(key) ?? 0 })
  return out
}

/**
 * The `q` quantile (0…1) in milliseconds of what `after` observed beyond `before`, or undefined when
 * nothing was observed in between. Within a bucket the value is interpolated; past the last finite
 * bound it is that bound.
 */
export function quantileMs(
  before: Histogram | undefined,
  after: Histogram | undefined,
  q: number,
): number | undefined {
  if (!after) return undefined
  const delta = after.buckets.map(([le, n], i) => [le, n - (before?.buckets[i]?.[1] ?? 0)] as const)
  const total = delta.at(-1)?.[1] ?? 0
  if (total <= 0) return undefined
  const rank = q * total
  let prevLe = 0
  let prevN = 0
  for (const [le, n] of delta) {
    if (n >= rank) {
      if (!Number.isFinite(le)) return prevLe * 1000
      const within = n === prevN ? 0 : (rank - prevN) / (n - prevN)
      return (prevLe + (le - prevLe) * within) * 1000
    }
    prevLe = le
    prevN = n
  }
  return prevLe * 1000
}
