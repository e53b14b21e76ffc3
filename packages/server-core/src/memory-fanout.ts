import {
  type Clock,
  type FanOut,
  type FanOutListener,
  type Scheduler,
  systemClock,
  systemScheduler,
} from './ports.js'

interface Subscription {
  readonly owner: MemoryFanOut
  readonly listener: FanOutListener
}

/**
 * The in-memory FanOut: a hub that several instances (several SyncCores in one process) share. Each
 * `MemoryFanOut` is one instance's view of the hub. A SyncCore given no fan-out makes a private hub
 * with itself alone on it. Deliveries, like Redis's, reach the subscribers of the moment of publishing,
 * each in a turn of its own through the hub's Scheduler (step a `ManualScheduler` to deliver).
 * `cut` and `restore` model a lost connection to the broker: while cut, an instance's messages go
 * nowhere and it receives nothing; on restore its subscriptions resync, as a Redis reconnection does.
 */
export class MemoryFanOutHub {
  private readonly subscribers = new Map<string, Set<Subscription>>()

  constructor(
    readonly scheduler: Scheduler = systemScheduler,
    /** FAN-6: what stamps each message's publish time (default: the scheduler when it is a clock too). */
    readonly clock: Clock = isClock(scheduler) ? scheduler : systemClock,
  ) {}

  instance(): MemoryFanOut {
    return new MemoryFanOut(this)
  }

  /** @internal */
  publish(from: MemoryFanOut, spaceId: string, message: Uint8Array): void {
    if (from.isCut) return
    const set = this.subscribers.get(spaceId)
    if (!set) return
    const targets = [...set].filter((s) => s.owner !== from && !s.owner.isCut)
    // alone on the hub (one instance on its own): nothing to copy, nothing to deliver
    if (targets.length === 0) return
    const copy = message.slice()
    const sentAt = this.clock.now()
    this.scheduler.nextTurn(() => {
      if (from.isCut) return
      for (const s of targets) if (set.has(s) && !s.owner.isCut) s.listener.message(copy, sentAt)
    })
  }

  /** @internal */
  subscribe(owner: MemoryFanOut, spaceId: string, listener: FanOutListener): () => void {
    let set = this.subscribers.get(spaceId)
    if (!set) this.subscribers.set(spaceId, (set = new Set()))
    const entry = { owner, listener }
    set.add(entry)
    this.scheduler.nextTurn(() => {
      if (set.has(entry) && !owner.isCut) listener.resync()
    })
    return () => {
      set.delete(entry)
      if (set.size === 0 && this.subscribers.get(spaceId) === set) this.subscribers.delete(spaceId)
    }
  }

  /** @internal */
  restore(owner: MemoryFanOut): void {
    for (const set of this.subscribers.values())
      for (const entry of set)
        if (entry.owner === owner)
          this.scheduler.nextTurn(() => {
            if (set.has(entry) && !owner.isCut) entry.listener.resync()
          })
  }
}

const isClock = (s: Scheduler): s is Scheduler & Clock => typeof (s as Partial<Clock>).now === 'function'

export class MemoryFanOut implements FanOut {
  isCut = false
  constructor(private readonly hub: MemoryFanOutHub) {}
  publish(spaceId: string, message: Uint8Array): void {
    this.hub.publish(this, spaceId, message)
  }
  subscribe(spaceId: string, listener: FanOutListener): () => void {
    return this.hub.subscribe(this, spaceId, listener)
  }
  /** The connection to the broker is lost: messages both ways are dropped. */
  cut(): void {
    this.isCut = true
  }
  /** The connection is back: every subscription of this instance resyncs (in a turn of its own). */
  restore(): void {
    this.isCut = false
    this.hub.restore(this)
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}
