import type { Clock, Scheduler, Timer } from '../ports.js'

interface PendingTimer {
  readonly at: number
  /** Order of creation: timers due at the same time fire in the order they were set. */
  readonly order: number
  readonly fn: () => void
}

export interface ManualSchedulerOptions {
  /** The time `now()` starts at (ms). Default 0. */
  readonly start?: number
  /**
   * How many promise-job ticks to let pass after each callback, so the promise chains it started
   * (an in-memory store's append, an ack reaching a test client) finish before the next turn runs.
   * Default 100: far more than the core's chains need. Ports doing real I/O (a database) are not
   * "settled" by ticks: wait for a condition there (`vi.waitFor`).
   */
  readonly settleTicks?: number
  /** Most turns (and timers) one `runTurns` / `runAll` may run before it throws: a loop that never ends. Default 100 000. */
  readonly limit?: number
}

/**
 * A Scheduler and Clock that move only when told to, for tests and seeded whole-system simulations
 * (SPEC.md TIME-1…TIME-3). Pass one object as both `clock` and `scheduler` to every SyncCore and to
 * `new MemoryFanOutHub(scheduler)`, then step it:
 *
 * - `runTurns()` runs every queued turn, in order, until none is left (what a turn queues runs in a
 *   later turn, as with setImmediate); time stands still, no timer fires.
 * - `advance(ms)` runs the queued turns, then moves time forward by `ms`, firing every timer due, in
 *   time order, each followed by the turns it queued.
 * - `runAll()` runs turns and timers until nothing is left, jumping to each next timer.
 *
 * After every callback it lets promise jobs settle (`settleTicks`), as Node drains microtasks
 * between callbacks. To prove that something does *not* happen, step (or `runAll`) and then assert.
 */
export class ManualScheduler implements Scheduler, Clock {
  private time: number
  private turns: (() => void)[] = []
  private timers: PendingTimer[] = []
  private order = 0
  private readonly settleTicks: number
  private readonly limit: number

  constructor(options: ManualSchedulerOptions = {}) {
    this.time = options.start ?? 0
    this.settleTicks = options.settleTicks ?? 100
    this.limit = options.limit ?? 100_000
  }

  now(): number {
    return this.time
  }

  nextTurn(fn: () => void): void {
    this.turns.push(fn)
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer: PendingTimer = { at: this.time + Math.max(0, ms), order: this.order++, fn }
    this.timers.push(timer)
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer)
      },
    }
  }

  /** Turns queued and not yet run. */
  get pendingTurns(): number {
    return this.turns.length
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.timers.length
  }

  /** Lets the promise jobs queued so far (and those they queue) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < this.settleTicks; i++) await Promise.resolve()
  }

  /**
   * Runs one event-loop turn: the turns queued before it, in order, each followed by its promise
   * jobs. What they queue waits for the next turn. Returns how many ran.
   */
  async runTurn(): Promise<number> {
    await this.settle()
    const turns = this.turns
    this.turns = []
    for (const fn of turns) {
      fn()
      await this.settle()
    }
    return turns.length
  }

  /** Runs turns until none is queued (no timer fires: time stands still). Returns how many ran. */
  async runTurns(): Promise<number> {
    let ran = 0
    for (;;) {
      const n = await this.runTurn()
      if (n === 0) return ran
      ran += n
      if (ran > this.limit) throw new Error(`ManualScheduler: more than ${this.limit} turns; a loop?`)
    }
  }

  /** Runs the queued turns, then moves time forward by `ms`, firing every timer due by then in time order. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms
    await this.runTurns()
    let fired = 0
    for (let next = this.nextTimer(until); next; next = this.nextTimer(until)) {
      if (++fired > this.limit) throw new Error(`ManualScheduler: more than ${this.limit} timers; a loop?`)
      await this.fire(next)
    }
    this.time = until
  }

  /** Runs turns and timers until nothing is left, jumping time to each next timer. */
  async runAll(): Promise<void> {
    await this.runTurns()
    let fired = 0
    for (let next = this.nextTimer(Infinity); next; next = this.nextTimer(Infinity)) {
      if (++fired > this.limit) throw new Error(`ManualScheduler: more than ${this.limit} timers; a loop?`)
      await this.fire(next)
    }
  }

  private nextTimer(until: number): PendingTimer | null {
    let next: PendingTimer | null = null
    for (const t of this.timers)
      if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.order < next.order))) next = t
    return next
  }

  private async fire(timer: PendingTimer): Promise<void> {
    this.timers = this.timers.filter((t) => t !== timer)
    this.time = Math.max(this.time, timer.at)
    timer.fn()
    await this.settle()
    await this.runTurns()
  }
}
