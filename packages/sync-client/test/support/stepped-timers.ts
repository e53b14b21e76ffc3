import type { Timers } from '../../src/index.js'

interface Entry {
  readonly id: number
  readonly at: number
  readonly fn: () => void
}

/** A clock that moves only when a test says so: `advance(ms)` runs every timer due by then, in order. */
export class SteppedTimers implements Timers {
  now = 0
  /** Every delay asked for, in order. */
  readonly requested: number[] = []
  private entries: Entry[] = []
  private nextId = 1

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++
    this.requested.push(ms)
    this.entries.push({ id, at: this.now + ms, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.entries = this.entries.filter((e) => e.id !== handle)
  }

  /** The clock, for the `now` option of a session or connection: ms as stepped. */
  readonly clock = (): number => this.now

  /** How many timers are waiting. */
  get pending(): number {
    return this.entries.length
  }

  /** The wait until the next timer fires (null: none). */
  get next(): number | null {
    if (this.entries.length === 0) return null
    return Math.min(...this.entries.map((e) => e.at)) - this.now
  }

  /** Moves the clock `ms` on, running every timer due by then (also those they set); returns how many ran. */
  advance(ms: number): number {
    const until = this.now + ms
    let ran = 0
    for (;;) {
      const due = this.entries.filter((e) => e.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (!due) break
      this.entries = this.entries.filter((e) => e !== due)
      this.now = due.at
      due.fn()
      ran++
    }
    this.now = until
    return ran
  }
}
