import type { PendingChange, Unconfirmed } from './store/records.js'

/**
 * The local changes stored on this device that the server has not confirmed (STORE-7), kept in
 * memory as the writes complete (LOCAL-3): +1 for a stored change, −those an ack covers once the ack
 * is stored. The log is read only to start from (`merge` of `LocalStore.unconfirmed`). A change is
 * one (client id, clock) pair, counted once however often it is added — so a re-read of the log that
 * overlaps what was counted since adds nothing twice.
 */
export class UnconfirmedChanges {
  private readonly clocks = new Map<number, Set<number>>()
  private readonly acked = new Map<number, number>()
  private countValue = 0

  /** How many stored changes the server has not confirmed. */
  get count(): number {
    return this.countValue
  }

  /** A change is stored (this tab's, or another tab's it heard of); one the ack covers is not counted. */
  add({ clientId, clock }: PendingChange): void {
    if (clock <= (this.acked.get(clientId) ?? 0)) return
    const set = this.clocks.get(clientId) ?? new Set()
    if (set.has(clock)) return
    set.add(clock)
    this.clocks.set(clientId, set)
    this.countValue++
  }

  /** An ack is stored: merged by per-client maximum (a late, older one never moves it back). */
  ack(stateVector: Map<number, number>): void {
    for (const [clientId, clock] of stateVector) {
      if (clock <= (this.acked.get(clientId) ?? 0)) continue
      this.acked.set(clientId, clock)
      const set = this.clocks.get(clientId)
      if (!set) continue
      for (const c of set)
        if (c <= clock) {
          set.delete(c)
          this.countValue--
        }
      if (set.size === 0) this.clocks.delete(clientId)
    }
  }

  /** What the store read: its ack, and its unconfirmed changes, joined with what is counted already. */
  merge({ acked, pending }: Unconfirmed): void {
    this.ack(acked)
    for (const { clientId, clocks } of pending) for (const clock of clocks) this.add({ clientId, clock })
  }
}
