/**
 * Loading a space: reading its stored records into the room's document (SPEC.md CORE-2, COMMIT-4,
 * MEM-3).
 *
 * The records are the snapshot (if any) and then the updates appended after it, applied in that
 * order with the origin `Origin.Load`. A read that fails throws (`StorageError`): a room never serves
 * an empty document in place of one it could not read. Before anything is applied, the space's
 * estimated heap (its stored bytes × HEAP_PER_STORED_BYTE) is reserved from the process's memory
 * budget, which throws `MemoryBudgetExceeded` when it does not fit. A record that does not decode is
 * skipped and logged, and the load says so (`corrupt`): the room then never compacts the space, so
 * the record stays for repair.
 */
import { Origin } from '@converge/merge/validate'
import type { SpaceDocument } from './document.js'
import { HEAP_PER_STORED_BYTE, type SpaceMemory } from './memory.js'
import type { Logger, Persistence, StoredSpace } from './ports.js'

export interface RoomLoadDeps {
  readonly spaceId: string
  readonly doc: SpaceDocument
  readonly persistence: Persistence
  readonly logger: Logger
  readonly memory?: SpaceMemory | undefined
}

/** What was read: the stored space, and whether a record of it did not decode. */
export interface Loaded {
  readonly stored: StoredSpace
  readonly corrupt: boolean
}

/** Reads the space's stored records and applies them to `doc`; throws rather than load nothing. */
export async function loadStored(deps: RoomLoadDeps): Promise<Loaded> {
  const { spaceId, doc } = deps
  const stored = await deps.persistence.load(spaceId)
  await deps.memory?.admitLoad(spaceId, stored.bytes * HEAP_PER_STORED_BYTE)
  let corrupt = false
  const records = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates
  for (const { index, err } of doc.load(records, Origin.Load)) {
    corrupt = true
    deps.logger.error(
      { spaceId, record: index, err },
      'a stored update does not decode; skipped, compaction disabled for this space',
    )
  }
  return { stored, corrupt }
}
