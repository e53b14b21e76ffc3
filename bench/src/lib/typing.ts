/** The load generators' clock and their typing loop (workers/loadgen.ts, workers/automerge-loadgen.ts). */

/** CLOCK_MONOTONIC in ms: the same clock in every process, so sends and receives join into latencies. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6

/** A writer as the typing loop drives it: where it is in the text, and how it types one character. */
export interface Typist {
  /** The next character of the text it types (kept across runs). */
  pos: number
  type(ch: string): void
}

/**
 * Makes every typist type the text, one character at a time, `ratePerWriter` times a second for
 * `durationMs` (each from a random phase within its first interval, checked every millisecond).
 * Returns this process's CPU while it sent, in cores (1 is one core, its limit).
 */
export async function typeAtRate(
  typists: readonly Typist[],
  text: string,
  ratePerWriter: number,
  durationMs: number,
): Promise<number> {
  const interval = 1000 / ratePerWriter
  const cpu0 = process.cpuUsage()
  const start = now()
  const due = typists.map(() => start + Math.random() * interval)
  const end = start + durationMs
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = now()
      typists.forEach((w, i) => {
        while (due[i]! <= t && due[i]! < end) {
          w.type(text[w.pos++ % text.length]!)
          due[i]! += interval
        }
      })
      if (t >= end) {
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  const used = process.cpuUsage(cpu0)
  return (used.user + used.system) / 1000 / (now() - start)
}
