/**
 * Relay: what one member or instance sends reaches every other member and instance, without waiting
 * for the commit (PROTOCOL.md P4.3; SPEC.md RELAY-1…RELAY-4, CORE-1).
 *
 * The document updates of one event-loop turn are batched and sent when the turn ends: one merged
 * frame, encoded once, to every member that wrote none of them; to a member that did, the others'
 * updates only (nothing is echoed); to the other instances, what did not come from them (an update
 * from fan-out or read back from shared storage is theirs already). A turn past RELAY_BATCH_BYTES is
 * sent early, so a burst never builds one huge frame. Presence (awareness) is relayed at once.
 * Joining the updates of different writers is a copy of their blocks, not a Yjs merge (RELAY-5).
 */
import { encodeMessage } from '@converge/protocol'
import type { CoreEvents } from './events.js'
import type { Clock, Scheduler } from './ports.js'

/** Relayed updates of one turn are merged into one frame, sent early past this many bytes. */
export const RELAY_BATCH_BYTES = 256 * 1024

/** What relay needs of a member. */
export interface RelayReceiver {
  send(frame: Uint8Array): void
  /**
   * False until the member has its first sync answer (COMMIT-5): until then it is sent no document
   * updates — that answer, sent once the document is committed, holds them.
   */
  readonly synced?: boolean
}

export interface RelayDeps {
  readonly scheduler: Scheduler
  /** LAG-3: reading the time, for how long an update waits for its relay. */
  readonly clock?: Clock
  readonly events?: Pick<CoreEvents, 'relayLag'>
  readonly members: ReadonlySet<RelayReceiver>
  /** Sends a frame to the other instances (fan-out). */
  readonly publish: (frame: Uint8Array) => void
  /** Whether an origin is another instance's (fan-out) or storage's (catch-up): never published again. */
  readonly isForeign: (origin: unknown) => boolean
  /** One update holding a turn's updates (the document's join: RELAY-5 on Yjs). */
  readonly merge: (updates: readonly Uint8Array[]) => Uint8Array
}

interface Relayed {
  /** LAG-3: when it was applied (in the turn it was received). */
  readonly at: number
  readonly update: Uint8Array
  /** The member that sent it, or a foreign origin (`Origin.FanOut`, `Origin.CatchUp`). */
  readonly origin: unknown
}

export class Relay {
  private queue: Relayed[] = []
  private bytes = 0
  private scheduled = false
  private stopped = false

  constructor(private readonly deps: RelayDeps) {}

  /** An update applied to the document, with its origin: relayed when the turn ends. */
  add(update: Uint8Array, origin: unknown): void {
    this.queue.push({ update, origin, at: this.deps.clock?.now() ?? 0 })
    this.bytes += update.length
    if (this.bytes >= RELAY_BATCH_BYTES) this.send()
    else if (!this.scheduled) {
      this.scheduled = true
      this.deps.scheduler.nextTurn(() => this.send())
    }
  }

  /** A presence change, already encoded: to every member, and to the other instances unless it came from them. */
  presence(frame: Uint8Array, origin: unknown): void {
    for (const m of this.deps.members) m.send(frame)
    if (!this.deps.isForeign(origin)) this.deps.publish(frame)
  }

  stop(): void {
    this.stopped = true
    this.queue = []
    this.bytes = 0
  }

  private send(): void {
    this.scheduled = false
    const queue = this.queue
    this.queue = []
    this.bytes = 0
    if (queue.length === 0 || this.stopped) return
    const frame = encodeMessage({ type: 'sync-update', update: this.deps.merge(queue.map((e) => e.update)) })
    const own = queue.filter((e) => !this.deps.isForeign(e.origin))
    if (own.length === queue.length) this.deps.publish(frame)
    else if (own.length > 0)
      this.deps.publish(
        encodeMessage({ type: 'sync-update', update: this.deps.merge(own.map((e) => e.update)) }),
      )
    const writers = new Set<unknown>(queue.map((e) => e.origin))
    // LAG-3: the same for every member of this send: from the turn's first update to now
    if (this.deps.events?.relayLag && this.deps.members.size > 1)
      this.deps.events.relayLag((this.deps.clock?.now() ?? 0) - queue[0]!.at)
    for (const m of this.deps.members) {
      if (m.synced === false) continue
      if (!writers.has(m)) {
        m.send(frame)
        continue
      }
      const others = queue.filter((e) => e.origin !== m).map((e) => e.update)
      if (others.length > 0) m.send(encodeMessage({ type: 'sync-update', update: this.deps.merge(others) }))
    }
  }
}
