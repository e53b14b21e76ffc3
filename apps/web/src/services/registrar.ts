import type { SpaceApi } from './api.js'
import type { Catalog } from './catalog.js'

/**
 * Registers spaces created offline with the server (POST /api/spaces with their local id) as soon as
 * the browser is online, retrying with backoff while the server cannot be reached. Registration
 * stores the tokens in the catalog; an open space then reconnects with them.
 */
export class Registrar {
  /** Spaces the server refused to register (a 4xx answer): not retried until the next start. */
  private readonly problems = new Map<string, string>()
  private problemsSnapshot: ReadonlyMap<string, string> = new Map()
  private readonly listeners = new Set<() => void>()
  private running: Promise<void> | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private delay = 2_000
  private stopped = false

  constructor(
    private readonly catalog: Catalog,
    private readonly api: SpaceApi,
  ) {}

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Why a space could not be registered, by space id. */
  readonly getSnapshot = (): ReadonlyMap<string, string> => this.problemsSnapshot

  start(): () => void {
    const online = (): void => {
      this.delay = 2_000
      this.kick()
    }
    window.addEventListener('online', online)
    const unsubscribe = this.catalog.subscribe(() => this.kick())
    this.kick()
    return () => {
      this.stopped = true
      window.removeEventListener('online', online)
      unsubscribe()
      if (this.timer) clearTimeout(this.timer)
    }
  }

  /** Tries now if there is anything to register and the browser says it is online. */
  kick(): void {
    if (this.stopped || this.running || !navigator.onLine) return
    if (!this.pending().length) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.running = this.run().finally(() => (this.running = null))
  }

  private pending() {
    return this.catalog.getSnapshot().spaces.filter((s) => !s.registered && !this.problems.has(s.id))
  }

  private async run(): Promise<void> {
    let retry = false
    for (const space of this.pending()) {
      const r = await this.api.createSpace({ id: space.id, ...(space.name ? { name: space.name } : {}) })
      if (r.ok && r.id === space.id) {
        await this.catalog.update(space.id, {
          registered: true,
          writeToken: r.writeToken,
          readToken: r.readToken,
        })
      } else if (r.ok) {
        this.problem(space.id, 'the server did not keep the id of this space, so it could not be registered')
      } else if (r.status === 409) {
        this.problem(space.id, 'the server already has a space with this id')
      } else if (r.status !== null && r.status >= 400 && r.status < 500) {
        this.problem(space.id, `the server refused to register it (${r.message})`)
      } else retry = true
    }
    if (retry && !this.stopped) {
      this.timer = setTimeout(() => this.kick(), this.delay)
      this.delay = Math.min(this.delay * 2, 60_000)
    } else this.delay = 2_000
  }

  private problem(id: string, message: string): void {
    this.problems.set(id, message)
    this.problemsSnapshot = new Map(this.problems)
    for (const l of this.listeners) l()
  }
}
