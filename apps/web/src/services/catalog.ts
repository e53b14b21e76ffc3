import type { RegistrationCatalog, SpaceTokens } from '@converge/sync-client'
import { tokenScope } from './tokens.js'
import type { CatalogStore, SpaceRecord } from './types.js'

export interface CatalogState {
  /** false until the first read of the device store finished */
  readonly loaded: boolean
  /** newest opened first; a space whose removal can still be undone is left out */
  readonly spaces: readonly SpaceRecord[]
  /** the space being removed, hidden from `spaces` with its data still on the device (Undo brings it back) */
  readonly removing: SpaceRecord | null
}

/** Where a removal waiting for its Undo is remembered, so a page that went away meanwhile finishes it. */
export interface PendingRemovalStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

const PENDING_KEY = 'converge.pending-removal'

/** This tab's sessionStorage, when there is one (a removal left pending is finished by the next load in it). */
const tabStorage = (): PendingRemovalStore | null => {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage
  } catch {
    return null
  }
}

/**
 * The spaces on this device, over the store's catalog. Kept in memory too, so the app goes on working
 * (for this tab) when the store is missing or fails: the failure is reported once through `onStoreError`.
 */
export class Catalog implements RegistrationCatalog {
  private readonly records = new Map<string, SpaceRecord>()
  private state: CatalogState = { loaded: false, spaces: [], removing: null }
  private readonly listeners = new Set<() => void>()
  /** the id of the space whose removal can still be undone */
  private hidden: string | null = null
  private firstLoad = true

  constructor(
    private store: CatalogStore | null,
    private readonly onStoreError: (e: unknown) => void,
    private readonly pending: PendingRemovalStore | null = tabStorage(),
  ) {}

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  readonly getSnapshot = (): CatalogState => this.state

  get(id: string): SpaceRecord | undefined {
    return this.records.get(id)
  }

  /**
   * Reads the catalog from the store (again: another tab may have added or removed spaces). The first
   * load finishes a removal this tab left waiting for its Undo when its page went away.
   */
  async load(): Promise<void> {
    if (this.firstLoad) {
      this.firstLoad = false
      const left = this.readPending()
      if (left !== null) {
        this.writePending(null)
        await this.persist((s) => s.removeSpace(left))
      }
    }
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
    if (this.hidden !== null && !this.records.has(this.hidden)) this.hidden = null
    this.publish(true)
  }

  /**
   * Starts removing a space so that it can be undone: it leaves the list at once, its data stays on
   * the device until `remove` (the notice dismissed or timed out, the page left) or `restore`. One at a
   * time: the id of a removal still waiting is returned, for the caller to finish it first.
   */
  hide(id: string): { readonly previous: string | null } {
    const previous = this.hidden !== null && this.hidden !== id ? this.hidden : null
    if (!this.records.has(id)) return { previous }
    this.hidden = id
    this.writePending(id)
    this.publish()
    return { previous }
  }

  /** Undo: the space hidden by `hide` is listed again, as it was. */
  restore(id: string): SpaceRecord | undefined {
    if (this.hidden !== id) return undefined
    this.hidden = null
    this.writePending(null)
    this.publish()
    return this.records.get(id)
  }

  /**
   * How many changes of this space the device holds that the server has not confirmed; null when
   * that cannot be told (no device store, or it failed): the caller should assume there are some.
   */
  async unsyncedChanges(id: string): Promise<number | null> {
    // IdbStore counts them; another store (a test's, or none) cannot tell
    const store = this.store
    const count: unknown = store && (store as Partial<Record<'pendingCount', unknown>>).pendingCount
    if (!store || typeof count !== 'function') return null
    try {
      return await (count as (id: string) => Promise<number>).call(store, id)
    } catch {
      return null
    }
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

  /**
   * Stores a token from a share link; a write token never replaces a read one or the other way round.
   * `engine`: what the link names (WEB-ENGINE-1) — kept for a space new to this device; a space on
   * it keeps the engine it has.
   */
  async join(id: string, token: string, engine: 'yjs' | 'automerge' | null = null): Promise<SpaceRecord> {
    const now = Date.now()
    const existing = this.records.get(id)
    const record: SpaceRecord = existing
      ? { ...existing, lastOpenedAt: now, registered: true }
      : {
          id,
          name: '',
          createdAt: now,
          lastOpenedAt: now,
          registered: true,
          ...(engine === 'automerge' ? { engine } : {}),
        }
    if (tokenScope(token) === 'read') record.readToken = token
    else record.writeToken = token
    await this.put(record)
    return record
  }

  /** Deletes the space and all its data from this device. */
  async remove(id: string): Promise<void> {
    this.records.delete(id)
    if (this.hidden === id) this.hidden = null
    this.publish()
    await this.persist((s) => s.removeSpace(id))
    // only now: a page that goes away during the delete finishes it on its next load
    if (this.readPending() === id && this.hidden !== id) this.writePending(null)
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

  private readPending(): string | null {
    try {
      return this.pending?.getItem(PENDING_KEY) ?? null
    } catch {
      return null
    }
  }

  private writePending(id: string | null): void {
    try {
      if (id === null) this.pending?.removeItem(PENDING_KEY)
      else this.pending?.setItem(PENDING_KEY, id)
    } catch {
      /* blocked storage: the page's own pagehide finishes the removal */
    }
  }

  private publish(loaded = this.state.loaded): void {
    const spaces = [...this.records.values()]
      .filter((s) => s.id !== this.hidden)
      .sort((a, b) => b.lastOpenedAt - a.lastOpenedAt || b.createdAt - a.createdAt)
    const removing = this.hidden === null ? null : (this.records.get(this.hidden) ?? null)
    this.state = { loaded, spaces, removing }
    for (const l of this.listeners) l()
  }
}
