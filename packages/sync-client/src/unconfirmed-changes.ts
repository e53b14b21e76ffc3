import type { PendingChange, Unconfirmed } from './store/records.js'

/**
 * The local changes stored on this device that the server has not confirmed (STORE-7), kept in
 * memory as the writes complete (LOCAL-3): +1 for a stored change, −those an ack covers once the ack
 * is stored. The log is read only to start from (`merge` of `LocalStore.unconfirmed`). A change is
 * one (client id, clock) pair, counted once however often it is added — so a re-read of the log that
 * overlaps what was counted since adds nothing twice.
 *
 * Each change keeps when it was made (PROBE-2, DIAG-1: the age of the oldest one is how far behind
 * the device is): the time given with it — when this tab made it, when it heard another tab stored
 * it — or, for one read from storage, when it was read (the store keeps no times: a change kept from
 * an earlier visit counts from the visit that read it).
 */
export class UnconfirmedChanges {
  /** Per client id: the clocks of its unconfirmed changes, each with when it was made. */
  private readonly clocks = new Map<number, Map<number, number>>()
  private readonly acked = new Map<number, number>()
  private countValue = 0
  /** The oldest time among the changes counted; undefined: to be found again (an ack removed some). */
  private oldestValue: number | null | undefined = null

  /** How many stored changes the server has not confirmed. */
  get count(): number {
    return this.countValue
  }

  /** When the oldest of them was made (ms, the clock the times were given on); null: none. */
  get oldestAt(): number | null {
    if (this.oldestValue === undefined) {
      let oldest: number | null = null
      for (const set of this.clocks.values())
        for (const at of set.values()) if (oldest === null || at < oldest) oldest = at
      this.oldestValue = oldest
    }
    return this.oldestValue
  }

  /**
   * A change is stored (this tab's, or another tab's it heard of), made at `at`; one the ack covers
   * is not counted, and one counted already keeps its first time.
   */
  add({ clientId, clock }: PendingChange, at = 0): void {
    if (clock <= (this.acked.get(clientId) ?? 0)) return
    const set = this.clocks.get(clientId) ?? new Map<number, number>()
    if (set.has(clock)) return
    set.set(clock, at)
    this.clocks.set(clientId, set)
    this.countValue++
    if (this.oldestValue !== undefined && (this.oldestValue === null || at < this.oldestValue))
      this.oldestValue = at
  }

  /** An ack is stored: merged by per-client maximum (a late, older one never moves it back). */
  ack(stateVector: Map<number, number>): void {
    for (const [clientId, clock] of stateVector) {
      if (clock <= (this.acked.get(clientId) ?? 0)) continue
      this.acked.set(clientId, clock)
      const set = this.clocks.get(clientId)
      if (!set) continue
      for (const c of set.keys())
        if (c <= clock) {
          set.delete(c)
          this.countValue--
          this.oldestValue = undefined
        }
      if (set.size === 0) this.clocks.delete(clientId)
    }
  }

  /** What the store read (at `at`): its ack, and its unconfirmed changes, joined with what is counted already. */
  merge({ acked, pending }: Unconfirmed, at = 0): void {
    this.ack(acked)
    for (const { clientId, clocks } of pending) for (const clock of clocks) this.add({ clientId, clock }, at)
  }
}
