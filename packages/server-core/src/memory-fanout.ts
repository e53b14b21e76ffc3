import type { FanOut } from './ports.js'

/**
 * The in-memory reference FanOut: a hub that several instances (several SyncCores in one process)
 * share, for tests. Each `MemoryFanOut` is one instance's view of the hub.
 */
export class MemoryFanOutHub {
  private readonly subscribers = new Map<string, Set<{ owner: MemoryFanOut; fn: (m: Uint8Array) => void }>>()

  instance(): MemoryFanOut {
    return new MemoryFanOut(this)
  }

  /** @internal */
  publish(from: MemoryFanOut, spaceId: string, message: Uint8Array): void {
    for (const s of this.subscribers.get(spaceId) ?? []) if (s.owner !== from) s.fn(message)
  }

  /** @internal */
  subscribe(owner: MemoryFanOut, spaceId: string, fn: (m: Uint8Array) => void): () => void {
    let set = this.subscribers.get(spaceId)
    if (!set) this.subscribers.set(spaceId, (set = new Set()))
    const entry = { owner, fn }
    set.add(entry)
    return () => set.delete(entry)
  }
}

export class MemoryFanOut implements FanOut {
  constructor(private readonly hub: MemoryFanOutHub) {}
  publish(spaceId: string, message: Uint8Array): void {
    const copy = message.slice()
    queueMicrotask(() => this.hub.publish(this, spaceId, copy))
  }
  subscribe(spaceId: string, onMessage: (message: Uint8Array) => void): () => void {
    return this.hub.subscribe(this, spaceId, onMessage)
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}
