import type { Timers } from './browser.js'

/**
 * LARGE-2: sends frames no faster than the server takes them — a token bucket of `rate` bytes per
 * second holding at most `burst`, starting full — in the order given. A frame larger than the bucket
 * waits for a full bucket and then goes (the bucket owes the rest). Timed on `Timers` only, so a
 * stepped clock steps it; it sets a timer only while frames wait, so an idle connection has none
 * (the bucket then refills only while something waits: it may wait longer than it must, never less).
 */
export class Pacer {
  private queue: Uint8Array[] = []
  private credit: number
  private timer: unknown = null
  private stopped = false

  constructor(
    private readonly out: (frame: Uint8Array) => void,
    private readonly timers: Timers,
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.credit = burst
  }

  /** Frames waiting. */
  get waiting(): number {
    return this.queue.length
  }

  push(frames: readonly Uint8Array[]): void {
    if (this.stopped) return
    for (const f of frames) this.queue.push(f)
    this.pump()
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.stopped) {
      const frame = this.queue[0]!
      if (this.credit < Math.min(frame.length, this.burst)) break
      this.queue.shift()
      this.credit -= frame.length
      this.out(frame)
    }
    if (this.queue.length === 0 || this.timer !== null || this.stopped) return
    const need = Math.min(this.queue[0]!.length, this.burst) - this.credit
    const ms = Math.max(10, Math.ceil((need / this.rate) * 1000))
    this.timer = this.timers.setTimeout(() => {
      this.timer = null
      this.credit = Math.min(this.burst, this.credit + (this.rate * ms) / 1000)
      this.pump()
    }, ms)
  }

  /** The socket is gone: what waits is dropped (the next socket's sync sends it again). */
  stop(): void {
    this.stopped = true
    this.queue = []
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }
}
