/**
 * The one backoff of Converge: every retry loop (a client's reconnect, the registration of a space
 * created offline, a server's reconnect to Redis) waits this long before attempt `n`.
 */
export interface Backoff {
  /** The wait before the first retry. */
  readonly initialMs: number
  /** The longest wait. */
  readonly maxMs: number
}

export const defaultBackoff: Backoff = { initialMs: 500, maxMs: 30_000 }

/**
 * The delay before retry `attempt` (1-based): exponential from `initialMs`, capped at `maxMs`, with
 * jitter in [½, 1] of it, so that many clients cut off together do not come back together.
 */
export const backoffDelay = (
  attempt: number,
  backoff: Backoff = defaultBackoff,
  random: () => number = Math.random,
): number => {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(base * (0.5 + random() * 0.5))
}
