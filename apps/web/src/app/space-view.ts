import type { CartItem, CartTotals, Note } from '@converge/merge'
import type { Presence, SpaceSession, SyncStatus } from '@converge/sync-client'
import { useMemo, useSyncExternalStore } from 'react'

/** One consistent picture of an open space for rendering; a new object after every change. */
export interface SpaceViewState {
  readonly name: string
  readonly items: readonly CartItem[]
  readonly totals: CartTotals
  readonly notes: readonly Note[]
  readonly trash: readonly Note[]
  readonly status: SyncStatus
  readonly presence: readonly Presence[]
  readonly canUndo: boolean
  readonly canRedo: boolean
  /** opened read-only, refused by the server, or schema too new: every edit control is disabled */
  readonly readOnly: boolean
  readonly schemaTooNew: boolean
  /** the server said this token may not write */
  readonly writeRefused: boolean
  readonly storageFailed: boolean
}

/** Adapts a session (document changes, status, presence) to useSyncExternalStore. */
class SpaceViewStore {
  private state: SpaceViewState | null = null

  constructor(private readonly session: SpaceSession) {
    // the cache is dropped on every change from the start, not only once React subscribed: a change
    // between the first render and the subscription (a status from the leader tab) is never missed
    const drop = (): void => {
      this.state = null
    }
    session.space.subscribe(drop)
    session.subscribe(drop)
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    const a = this.session.space.subscribe(fn)
    const b = this.session.subscribe(fn)
    return () => {
      a()
      b()
    }
  }

  readonly getSnapshot = (): SpaceViewState => (this.state ??= this.compute())

  private compute(): SpaceViewState {
    const { session } = this
    const space = session.space
    const writeRefused = session.connectionState?.readOnlyRefused ?? false
    return {
      name: space.name,
      items: space.items(),
      totals: space.totals(),
      notes: space.notes(),
      trash: space.notes({ trashed: true }),
      status: session.status,
      presence: session.presence(),
      canUndo: space.canUndo,
      canRedo: space.canRedo,
      readOnly: space.readOnly || writeRefused,
      schemaTooNew: space.schemaTooNew,
      writeRefused,
      storageFailed: session.storageFailed,
    }
  }
}

export function useSpaceView(session: SpaceSession): SpaceViewState {
  const store = useMemo(() => new SpaceViewStore(session), [session])
  return useSyncExternalStore(store.subscribe, store.getSnapshot)
}
