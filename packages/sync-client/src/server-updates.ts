import { Origin, type Space, isMergeError } from '@converge/merge'

/**
 * SYNC-10: what the server sends, applied to the space. It is checked against the whole contract; a
 * value BAD-7 refuses that the server sends all the same was stored before the rule existed (the
 * server refuses new ones): refusing it would only cut this device off the space for good, so it is
 * applied for its structure, and read as a default (BAD-4). Anything else refused is thrown (the
 * connection drops it, or asks for what is missing).
 */
export class ServerUpdates {
  private legacy = 0

  constructor(private readonly space: Space) {}

  /** How many updates from the server held values stored before BAD-7. */
  get legacyValues(): number {
    return this.legacy
  }

  /** Applies one update from the server (`applyRemote` of `SyncConnection`). */
  readonly apply = (update: Uint8Array): void => {
    try {
      this.space.applyUpdate(update, Origin.Server)
    } catch (e) {
      if (!isMergeError(e, 'InvalidValue')) throw e
      this.legacy++
      this.space.applyUpdate(update, Origin.Server, 'structure')
    }
  }
}
