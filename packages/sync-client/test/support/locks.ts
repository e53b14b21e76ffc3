/** navigator.locks for Node: one holder per name, the next waiter gets it when the holder releases. */
class Locks {
  private queues = new Map<string, (() => void)[]>()
  private held = new Set<string>()
  request(name: string, fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const run = () => {
        this.held.add(name)
        void fn().then(() => {
          this.held.delete(name)
          resolve()
          this.queues.get(name)?.shift()?.()
        })
      }
      if (this.held.has(name)) this.queues.set(name, [...(this.queues.get(name) ?? []), run])
      else run()
    })
  }
}

export const fakeLocks = (): LockManager => new Locks() as unknown as LockManager
