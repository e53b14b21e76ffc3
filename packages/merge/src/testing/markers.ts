import * as A from '@automerge/automerge'
import * as Y from 'yjs'
import type { AutomergeEngine } from '../automerge/engine.js'
import { decodeList } from '../automerge/frame.js'
import type { EngineKind } from '../engine.js'
import type { Space } from '../space.js'
import type { YjsEngine } from '../yjs/engine.js'

/**
 * Tells, from a replica's document alone, whether it has integrated the update one operation made
 * (no bookkeeping of deliveries): Yjs by its state vector (an operation's structs are one client's
 * consecutive clocks) or, for an update of deletions only, by the deleted items; Automerge by the
 * change hashes. The model's views (`ContractModel.check(view, …)`) are built from these.
 */
export interface Marker {
  integratedIn(space: Space): boolean
}

export const markerOf = (engine: EngineKind, update: Uint8Array): Marker => {
  if (engine === 'yjs') {
    const { structs, ds } = Y.decodeUpdate(update)
    const ends = new Map<number, number>()
    for (const s of structs)
      ends.set(s.id.client, Math.max(ends.get(s.id.client) ?? 0, s.id.clock + s.length))
    const deletions = [...ds.clients].flatMap(([client, items]) =>
      items.map((d) => ({ client, clock: d.clock })),
    )
    return {
      integratedIn: (s) => {
        const doc = (s.engine as YjsEngine).doc
        if (ends.size > 0) return [...ends].every(([client, end]) => Y.getState(doc.store, client) >= end)
        return deletions.every((d) => {
          try {
            return Y.getItem(doc.store, Y.createID(d.client, d.clock)).deleted
          } catch {
            return false
          }
        })
      },
    }
  }
  const hashes = decodeList(update, 'update').map((c) => A.decodeChange(c).hash)
  return {
    integratedIn: (s) => A.getMissingDeps((s.engine as AutomergeEngine).doc, hashes).length === 0,
  }
}
