import type { FanOut, FanOutListener } from './ports.js'

interface Subscription {
  readonly owner: MemoryFanOut
  readonly listener: FanOutListener
}

/**
 * The in-memory reference FanOut: a hub that several instances (several SyncCores in one process)
 * share, for tests. Each `MemoryFanOut` is one instance's view of the hub. `cut` and `restore` model a
 * lost connection to the broker: while cut, an instance's messages go nowhere and it receives nothing;
 * on restore its subscriptions resync, as a Redis reconnection does.
 */
export class MemoryFanOutHub {
  private readonly subscribers = new Map<string, Set<Subscription>>()

  instance(): MemoryFanOut {
    return new MemoryFanOut(this)
  }

  /** @internal */
  publish(from: MemoryFanOut, spaceId: string, message: Uint8Array): void {
    if (from.isCut) return
    for (const s of this.subscribers.get(spaceId) ?? [])
      if (s.owner !== from && !s.owner.isCut) s.listener.message(message)
  }

  /** @internal */
  subscribe(owner: MemoryFanOut, spaceId: string, listener: FanOutListener): () => void {
    let set = this.subscribers.get(spaceId)
    if (!set) this.subscribers.set(spaceId, (set = new Set()))
    const entry = { owner, listener }
    set.add(entry)
    queueMicrotask(() => {
      if (set.has(entry) && !owner.isCut) listener.resync()
    })
    return () => set.delete(entry)
  }

  /** @internal */
  subscriptionsOf(owner: MemoryFanOut): FanOutListener[] {
    return [...this.subscribers.values()].flatMap((set) =>
      [...set].filter((s) => s.owner === owner).map((s) => s.listener),
    )
  }
}

export class MemoryFanOut implements FanOut {
  isCut = false
  constructor(private readonly hub: MemoryFanOutHub) {}
  publish(spaceId: string, message: Uint8Array): void {
    const copy = message.slice()
    queueMicrotask(() => this.hub.publish(this, spaceId, copy))
  }
  subscribe(spaceId: string, listener: FanOutListener): () => void {
    return this.hub.subscribe(this, spaceId, listener)
  }
  /** The connection to the broker is lost: messages both ways are dropped. */
  cut(): void {
    this.isCut = true
  }
  /** The connection is back: every subscription of this instance resyncs. */
  restore(): void {
    this.isCut = false
    for (const l of this.hub.subscriptionsOf(this)) l.resync()
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}
