/**
 * The fan-out link: a room's connection to the rooms of the same space on other instances
 * (ARCHITECTURE.md, "Several instances"; SPEC.md LINK-1, CORE-6, CORE-9…CORE-13). On one instance
 * it is the same link over a private in-memory fan-out with nobody on the other end.
 *
 * - It subscribes **before** the stored state loads; what arrives meanwhile waits and is applied
 *   after it, so an update another instance relays during the load is not missed.
 * - What arrives is applied with the origin `Origin.FanOut`: relayed to this room's members, never
 *   stored here (its instance stores it) and never published again.
 * - Every time the subscription is live (first, and after every gap) it resyncs: publishes its state
 *   vector, its deletions, its committed state vector (LINK-2) and its presence. Every other instance answers a state vector with what
 *   the asker lacks and its own committed state vector — and asks back when the asker holds
 *   something it lacks. So a gap is repaired, not lost.
 * - Another instance's durable ack tells what it committed: durable here too (P4.6).
 * - An `error` of kind LinkRevoked tells that the space's links below a generation were reset
 *   (PROTOCOL.md §P5.10): the room closes its members of an older one (REVOKE-1…3).
 */
import { Origin } from '@converge/merge/validate'
import { ErrorKind, decodeMessage, encodeMessage } from '@converge/protocol'
import type { SpaceDocument, VersionVector, Writer } from './document.js'
import type { CoreEvents } from './events.js'
import type { Clock, FanOut, Logger } from './ports.js'
import { isAhead } from './updates.js'

export interface FanOutLinkDeps {
  readonly spaceId: string
  readonly fanOut: FanOut
  readonly doc: SpaceDocument
  /**
   * Applies another instance's presence (the room's presence gate, PRESENCE-6: validated again, and
   * never over an id a connection here owns); throws when it refuses the update.
   */
  readonly applyPresence: (update: Uint8Array) => void
  readonly logger: Logger
  /** Another instance committed everything below `stateVector`. */
  readonly peerCommitted: (stateVector: VersionVector) => void
  /** The room's durable-ack message (what it knows is committed), to answer a peer with. */
  readonly ackFrame: () => Uint8Array
  /** Every presence state of the room, encoded, or null when there is none. */
  readonly awarenessFrame: () => Uint8Array | null
  /** Another instance says the space's links below `generation` are revoked (REVOKE-1). */
  readonly linkRevoked: (generation: number) => void
  /** The room's link generation as that notice, or null while it is 0 (REVOKE-3). */
  readonly generationFrame: () => Uint8Array | null
  /** PROBE-6: another instance's digest (its vector and state hash). */
  readonly peerDigest: (vector: Uint8Array, hash: Uint8Array) => void
  /** LAG-4: reading the time, for how long an update took from another instance to here. */
  readonly clock: Clock
  readonly events: Pick<CoreEvents, 'fanOutLag'>
}

export class FanOutLink {
  /** Messages that arrived before the stored state was in (null once it is). */
  private early: Uint8Array[] | null = []
  private resyncWanted = false
  private unsubscribe: (() => void) | null = null
  private closed = false

  constructor(private readonly deps: FanOutLinkDeps) {}

  /** Subscribes to the space; what arrives waits until `ready()`. */
  open(): void {
    this.unsubscribe = this.deps.fanOut.subscribe(this.deps.spaceId, {
      message: (frame, sentAt) => (this.early ? this.early.push(frame) : this.receive(frame, sentAt)),
      resync: () => (this.early ? (this.resyncWanted = true) : this.resync()),
    })
  }

  /** The stored state is in the document: applies what arrived meanwhile, and resyncs if the link asked to. */
  ready(): void {
    const early = this.early ?? []
    this.early = null
    for (const frame of early) this.receive(frame)
    if (this.resyncWanted) this.resync()
  }

  publish(frame: Uint8Array): void {
    if (!this.closed) this.deps.fanOut.publish(this.deps.spaceId, frame)
  }

  close(): void {
    this.closed = true
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  private receive(frame: Uint8Array, sentAt?: number): void {
    if (this.closed) return
    // frames from fan-out were validated by the instance that took them from a client
    try {
      const m = decodeMessage(frame)
      switch (m.type) {
        case 'sync-update':
        case 'sync-step2':
          this.deps.doc.applyTrusted(m.update, Origin.FanOut)
          // LAG-4: by the publisher's clock (instances' clocks are assumed in step, as NTP keeps them)
          if (sentAt !== undefined && m.type === 'sync-update')
            this.deps.events.fanOutLag?.(this.deps.clock.now() - sentAt)
          return
        case 'digest':
          return this.deps.peerDigest(m.vector, m.hash)
        case 'awareness':
          return this.deps.applyPresence(m.update)
        case 'sync-step1':
          return this.answer(this.deps.doc.decodeVector(m.stateVector))
        case 'durable-ack':
          return this.deps.peerCommitted(this.deps.doc.decodeVector(m.stateVector))
        case 'error': {
          // REVOKE-1: PROTOCOL.md §P5.10, the links below this generation were reset elsewhere
          if (m.kind !== ErrorKind.LinkRevoked) return
          const generation = /^\d{1,15}$/.test(m.message) ? Number(m.message) : NaN
          if (!Number.isSafeInteger(generation)) throw new Error('a LinkRevoked notice without a generation')
          return this.deps.linkRevoked(generation)
        }
        default:
          return
      }
    } catch (e) {
      this.deps.logger.warn(
        { spaceId: this.deps.spaceId, err: String(e) },
        'undecodable fan-out frame dropped',
      )
    }
  }

  /**
   * Another instance sent its state vector (it loaded the space, or recovered from a gap): send what
   * it lacks and what is committed here, and ask back when it holds something this side lacks.
   */
  private answer(theirs: Map<Writer, number>): void {
    const { doc } = this.deps
    const diff = doc.diff(doc.encodeVector(theirs))
    if (!doc.isEmpty(diff)) this.publish(encodeMessage({ type: 'sync-step2', update: diff }))
    this.publish(this.deps.ackFrame())
    // REVOKE-3: a room that (re)joins learns which links were reset while it was away
    const generation = this.deps.generationFrame()
    if (generation) this.publish(generation)
    const mine = doc.stateVector()
    if (isAhead(theirs, doc.decodeVector(mine)))
      this.publish(encodeMessage({ type: 'sync-step1', stateVector: mine }))
  }

  /**
   * The subscription is live (first time, or again after a gap in which messages may have been
   * lost): ask the others for what this side lacks, and push this side's deletions and presence.
   */
  private resync(): void {
    if (this.closed) return
    const { doc } = this.deps
    const sv = doc.stateVector()
    this.publish(encodeMessage({ type: 'sync-step1', stateVector: sv }))
    const deletions = doc.diff(sv) // Yjs: the deletions; Automerge: nothing
    if (!doc.isEmpty(deletions)) this.publish(encodeMessage({ type: 'sync-step2', update: deletions }))
    // LINK-2: and what it knows is committed — it may have read from storage what another instance
    // committed too late to announce (its room had failed, or it died right after), which the others
    // hold only as relayed and would never see acknowledged
    this.publish(this.deps.ackFrame())
    // REVOKE-3: and which links it knows were reset, for an instance that missed the notice in the gap
    const generation = this.deps.generationFrame()
    if (generation) this.publish(generation)
    const aw = this.deps.awarenessFrame()
    if (aw) this.publish(aw)
  }
}
