import { type StoreProblem, storeProblem } from './types.js'

export interface StorageState {
  /** The latest storage failure, shown as a banner (null: device storage works). */
  readonly problem: StoreProblem | null
  /** Changes are kept in memory only in this tab. */
  readonly memoryOnly: boolean
}

/** Whether this tab can keep changes on the device, and what went wrong if not. */
export class StorageStatus {
  private state: StorageState
  private readonly listeners = new Set<() => void>()

  constructor(initial: StoreProblem | null) {
    this.state = { problem: initial, memoryOnly: initial !== null }
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  readonly getSnapshot = (): StorageState => this.state

  get memoryOnly(): boolean {
    return this.state.memoryOnly
  }

  /** A storage failure: from now on this tab keeps changes in memory (a stored record that did not
   * read is only skipped: `skipped` = true). */
  report(e: unknown, skipped = false): void {
    const problem = skipped ? { kind: 'Corrupt' as const, detail: storeProblem(e).detail } : storeProblem(e)
    this.state = { problem, memoryOnly: this.state.memoryOnly || !skipped }
    for (const l of this.listeners) l()
  }

  dismiss(): void {
    if (!this.state.problem) return
    this.state = { ...this.state, problem: null }
    for (const l of this.listeners) l()
  }
}
