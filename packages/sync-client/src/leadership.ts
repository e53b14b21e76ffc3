/**
 * Which tab of this browser holds a space's server connection (TAB-1): the one holding the Web Lock
 * `converge:leader:<spaceId>`. The others wait in the lock's queue; when the leader closes (or
 * crashes) the browser hands the lock to the next. Without the Web Locks API every tab leads (one
 * connection each), and so does a tab whose lock request failed.
 */
export class Leadership {
  private leading = false
  private stopped = false
  private giveBack: (() => void) | null = null

  constructor(
    private readonly spaceId: string,
    /** null: no Web Locks here. */
    private readonly locks: LockManager | null,
    /** This tab became the leader (called once at most). */
    private readonly onLead: () => void,
  ) {}

  get isLeader(): boolean {
    return this.leading
  }

  start(): void {
    if (!this.locks) return this.lead()
    void this.locks
      .request(`converge:leader:${this.spaceId}`, () => {
        if (this.stopped) return Promise.resolve()
        this.lead()
        // held until `release`
        return new Promise<void>((resolve) => (this.giveBack = resolve))
      })
      .catch(() => this.lead())
  }

  /** The tab is closing the space: it never becomes the leader from now on (a lock granted later goes back at once). */
  stop(): void {
    this.stopped = true
  }

  /** Gives the lock up: the next tab in line leads. */
  release(): void {
    this.stop()
    this.giveBack?.()
  }

  private lead(): void {
    if (this.stopped || this.leading) return
    this.leading = true
    this.onLead()
  }
}
