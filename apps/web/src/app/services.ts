import type { SpaceExport } from '@converge/merge'
import type { HistoryApi, SpaceApi, SpaceRegistrar, TripsApi } from '@converge/sync-client'
import { createContext, useContext } from 'react'
import type { Catalog } from '../services/catalog.js'
import type { ProfileStore } from '../services/profile.js'
import type { SessionManager } from '../services/sessions.js'
import type { StorageStatus } from '../services/storage-status.js'

/** Everything the UI uses, built once in main.tsx (the composition root) and passed down here. */
export interface Services {
  /** e.g. `https://converge.example` (share links are built on it) */
  readonly origin: string
  readonly catalog: Catalog
  readonly registrar: SpaceRegistrar
  readonly profile: ProfileStore
  readonly sessions: SessionManager
  readonly api: SpaceApi
  /** Finishing trips and listing them (PROTOCOL.md §P10). */
  readonly trips: TripsApi
  /** The versions the server keeps of each space (PROTOCOL.md §P11). */
  readonly history: HistoryApi
  readonly storage: StorageStatus
  /**
   * Spaces just created or imported in this tab, by id: the space screen writes their metadata (and
   * an imported file's cart and notes), or merges a file of a space the device has (EXPORT-2, -3).
   */
  readonly newSpaces: Map<string, NewSpace>
}

/** What the space screen does when it first opens a space of `Services.newSpaces`. */
export type NewSpace =
  { readonly name: string; readonly file?: SpaceExport } | { readonly merge: SpaceExport }

export const ServicesContext = createContext<Services | null>(null)

export function useServices(): Services {
  const s = useContext(ServicesContext)
  if (!s) throw new Error('useServices outside <ServicesContext.Provider>')
  return s
}
