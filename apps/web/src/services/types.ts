import type { LocalStore, SpaceRecord, StoreErrorKind } from '@converge/sync-client'

export type { SpaceRecord, StoreErrorKind }

/** The catalog half of sync-client's IdbStore. */
export interface CatalogStore {
  listSpaces(): Promise<SpaceRecord[]>
  getSpace(id: string): Promise<SpaceRecord | undefined>
  putSpace(record: SpaceRecord): Promise<void>
  removeSpace(id: string): Promise<void>
}

/** What the app needs of the device store: the catalog plus what SpaceSession writes. */
export type AppStore = CatalogStore & LocalStore

/** A storage failure as the UI shows it. */
export interface StoreProblem {
  readonly kind: StoreErrorKind
  readonly detail: string
}

const KINDS: readonly StoreErrorKind[] = [
  'Unavailable',
  'QuotaExceeded',
  'VersionChange',
  'Corrupt',
  'Failed',
]

/** Classifies anything the store (or the session, for the store) threw. */
export function storeProblem(e: unknown): StoreProblem {
  const o = (typeof e === 'object' && e !== null ? e : {}) as {
    kind?: unknown
    name?: unknown
    message?: unknown
  }
  const detail = typeof o.message === 'string' ? o.message : String(e)
  if (typeof o.kind === 'string' && (KINDS as readonly string[]).includes(o.kind))
    return { kind: o.kind as StoreErrorKind, detail }
  if (o.name === 'QuotaExceededError') return { kind: 'QuotaExceeded', detail }
  if (o.name === 'VersionError') return { kind: 'VersionChange', detail }
  return { kind: 'Failed', detail }
}

/** This device's person in every space: shown to others through awareness. */
export interface Profile {
  /**
   * The person, the same in every space and every tab of this browser: the key of their member record
   * (merge PEOPLE-1) and the `id` others see in presence (sync-client PRES-4). Made once, kept.
   */
  readonly id: string
  readonly name: string
  readonly color: string
}
