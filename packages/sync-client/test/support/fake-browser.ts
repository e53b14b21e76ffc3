import type { NavigatorLike, NetworkEvent, WindowEvents } from '../../src/index.js'

/** `window` and `navigator` as far as sync-client sees them: the test says when the network goes. */
export class FakeBrowser {
  readonly window: WindowEvents
  readonly navigator: { onLine: boolean; locks?: LockManager }
  private readonly listeners = new Map<NetworkEvent, Set<() => void>>()

  constructor(onLine = true) {
    this.navigator = { onLine }
    this.window = {
      addEventListener: (type, fn) => {
        const set = this.listeners.get(type) ?? new Set()
        set.add(fn)
        this.listeners.set(type, set)
      },
      removeEventListener: (type, fn) => this.listeners.get(type)?.delete(fn),
    }
  }

  /** How many listeners wait for `type` (to check a part stopped listening). */
  listening(type: NetworkEvent): number {
    return this.listeners.get(type)?.size ?? 0
  }

  /** The network went away: `navigator.onLine` is false and `offline` fires. */
  goOffline(): void {
    this.navigator.onLine = false
    for (const fn of [...(this.listeners.get('offline') ?? [])]) fn()
  }

  /** The page gets focus: `focus` fires. */
  focus(): void {
    for (const fn of [...(this.listeners.get('focus') ?? [])]) fn()
  }

  /** The network is back: `navigator.onLine` is true and `online` fires. */
  goOnline(): void {
    this.navigator.onLine = true
    for (const fn of [...(this.listeners.get('online') ?? [])]) fn()
  }
}

export type { NavigatorLike }
