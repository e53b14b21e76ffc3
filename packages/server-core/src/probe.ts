/**
 * The convergence probe (SPEC.md PROBE-4…PROBE-6, PROTOCOL.md §P12.2): replicas that say they are
 * at one version must hold one state. A client (after it is saved) and every other instance (after
 * a change) send a digest — their version vector and a hash of their whole state (merge PROBE-1).
 * At an equal vector a different hash is a divergence: counted, logged with the space id, and
 * repaired by a full state exchange both ways. At another vector nothing is concluded: that is lag,
 * which the ordinary sync closes.
 *
 * The room's own digest is computed once per document version (a hash of its state vector and
 * delete set, or of its heads), so however many digests arrive the work per version is one hash.
 */
import { encodeMessage } from '@converge/protocol'
import type { SpaceDocument, Writer } from './document.js'
import type { Scheduler, Timer } from './ports.js'
import { sameBytes } from './updates.js'

/** PROBE-6: how long after a change an instance publishes its digest to the others. */
export const INSTANCE_PROBE_MS = 30_000

/** What a digest compared with the room's own says. */
export type DigestVerdict = 'match' | 'other-version' | 'diverged'

export interface ProbeDeps {
  readonly doc: SpaceDocument
  readonly scheduler: Scheduler
  /** Publishes a frame to the other instances (the room's fan-out link). */
  readonly publish: (frame: Uint8Array) => void
  /** PROBE-6: after a change, how long until the digest is published (default INSTANCE_PROBE_MS). */
  readonly instanceProbeMs?: number
}

export class ConvergenceProbe {
  private cached: Uint8Array | null = null
  private timer: Timer | null = null
  private stopped = false

  constructor(private readonly deps: ProbeDeps) {}

  /** The document changed: its digest is stale, and the other instances hear the new one soon. */
  changed(): void {
    this.cached = null
    if (this.timer || this.stopped) return
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = null
      if (!this.stopped) this.deps.publish(this.frame())
    }, this.deps.instanceProbeMs ?? INSTANCE_PROBE_MS)
  }

  /** The room's digest message now. */
  frame(): Uint8Array {
    return encodeMessage({ type: 'digest', vector: this.deps.doc.stateVector(), hash: this.digest() })
  }

  /** PROBE-4: a peer's digest against the room's own. Throws when the vector does not decode. */
  compare(vector: Uint8Array, hash: Uint8Array): DigestVerdict {
    const { doc } = this.deps
    if (!sameVector(doc.decodeVector(vector), doc.decodeVector(doc.stateVector()))) return 'other-version'
    return sameBytes(hash, this.digest()) ? 'match' : 'diverged'
  }

  /**
   * PROBE-5: the repair of a divergence, both ways: the whole state of this side (its deletions
   * included) and a request for the whole state of the other (a sync-step1 with an empty vector).
   */
  repairFrames(): Uint8Array[] {
    const { doc } = this.deps
    const nothing = doc.encodeVector(new Map())
    return [
      encodeMessage({ type: 'sync-step2', update: doc.diff() }),
      encodeMessage({ type: 'sync-step1', stateVector: nothing }),
    ]
  }

  stop(): void {
    this.stopped = true
    this.timer?.cancel()
    this.timer = null
  }

  private digest(): Uint8Array {
    this.cached ??= this.deps.doc.digest()
    return this.cached
  }
}

/** Two version vectors hold the same changes (a writer at 0 is a writer absent). */
export function sameVector(a: ReadonlyMap<Writer, number>, b: ReadonlyMap<Writer, number>): boolean {
  for (const [w, n] of a) if ((b.get(w) ?? 0) !== n) return false
  for (const [w, n] of b) if ((a.get(w) ?? 0) !== n) return false
  return true
}
