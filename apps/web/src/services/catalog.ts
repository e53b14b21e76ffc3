import type { RegistrationCatalog, SpaceTokens } from '@converge/sync-client'
import { tokenScope } from './tokens.js'
import type { CatalogStore, SpaceRecord } from './types.js'

export interface CatalogState {
  /** false until the first read of the device store finished */
  readonly loaded: boolean
  /** newest opened first */
  readonly spaces: readonly SpaceRecord[]
}

/**
 * The spaces on this device, over the store's catalog. Kept in memory too, so the app goes on working
 * (for this tab) when the store is missing or fails: the failure is reported once through `onStoreError`.
 */
export class Catalog implements RegistrationCatalog {
  private readonly records = new Map<string, SpaceRecord>()
  private state: CatalogState = { loaded: false, spaces: [] }
  private readonly listeners = new Set<() => void>()

  constructor(
    private store: CatalogStore | null,
    private readonly onStoreError: (e: unknown) => void,
  ) {}

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  readonly getSnapshot = (): CatalogState => this.state

  get(id: string): SpaceRecord | undefined {
    return this.records.get(id)
  }

  /** Reads the catalog from the store (again: another tab may have added or removed spaces). */
  async load(): Promise<void> {
    const store = this.store
    if (store) {
      try {
        const list = await store.listSpaces()
        this.records.clear()
        for (const r of list) this.records.set(r.id, r)
      } catch (e) {
        this.fail(e)
      }
    }
    this.publish(true)
  }

  async put(record: SpaceRecord): Promise<void> {
    this.records.set(record.id, record)
    this.publish()
    await this.persist((s) => s.putSpace(record))
  }

  async update(id: string, patch: Partial<Omit<SpaceRecord, 'id'>>): Promise<SpaceRecord | undefined> {
    const current = this.records.get(id)
    if (!current) return undefined
    const next = { ...current, ...patch }
    await this.put(next)
    return next
  }

  /** The spaces created on this device that the server does not know yet (sync-client's SpaceRegistrar). */
  unregistered(): readonly SpaceRecord[] {
    return this.state.spaces.filter((s) => !s.registered)
  }

  /** The server registered a space created offline: keep its tokens. */
  async recordTokens(id: string, tokens: SpaceTokens): Promise<void> {
    await this.update(id, { registered: true, writeToken: tokens.writeToken, readToken: tokens.readToken })
  }

  /** Marks a space as opened now (the home screen lists newest opened first). */
  async touch(id: string): Promise<void> {
    await this.update(id, { lastOpenedAt: Date.now() })
  }

  /** Stores a token from a share link; a write token never replaces a read one or the other way round. */
  async join(id: string, token: string): Promise<SpaceRecord> {
    const now = Date.now()
    const existing = this.records.get(id)
    const record: SpaceRecord = existing
      ? { ...existing, lastOpenedAt: now, registered: true }
      : { id, name: '', createdAt: now, lastOpenedAt: now, registered: true }
    if (tokenScope(token) === 'read') record.readToken = token
    else record.writeToken = token
    await this.put(record)
    return record
  }

  /** Deletes the space and all its data from this device. */
  async remove(id: string): Promise<void> {
    this.records.delete(id)
    this.publish()
    await this.persist((s) => s.removeSpace(id))
  }

  private async persist(fn: (store: CatalogStore) => Promise<void>): Promise<void> {
    const store = this.store
    if (!store) return
    try {
      await fn(store)
    } catch (e) {
      this.fail(e)
    }
  }

  private fail(e: unknown): void {
    this.store = null // memory only from now on, in this tab
    this.onStoreError(e)
  }

  private publish(loaded = this.state.loaded): void {
    const spaces = [...this.records.values()].sort(
      (a, b) => b.lastOpenedAt - a.lastOpenedAt || b.createdAt - a.createdAt,
    )
    this.state = { loaded, spaces }
    for (const l of this.listeners) l()
  }
}
