/**
 * Every change carries its origin (EVT-1): one set of names for the whole system, used by merge,
 * sync-client, server-core and the app, so that a listener can tell where a change came from and
 * what to do with it (store it, send it on, or neither).
 */
export const Origin = {
  /** A command of the person using this replica. */
  Local: 'local-ui',
  /** An undo or redo of this replica's own commands (a local change too). */
  Undo: 'undo',
  /** Read back from this device's storage: already stored, not sent again. */
  Restore: 'idb-restore',
  /** From another tab of this browser: stored and sent by that tab. */
  Tab: 'tab',
  /** From the server over the socket. */
  Server: 'server',
  /** The state a replica opens with (`openSpace({ state })`), or a server loading a space from storage. */
  Load: 'load',
  /** From another server instance over the fan-out: stored by that instance. */
  FanOut: 'fanout',
  /** A server re-reading shared storage before a compaction: already stored. */
  CatchUp: 'catch-up',
  /** The state a replaced session hands to its successor in the same tab. */
  Handover: 'handover',
  /** A change the server made itself: a finished trip removing the bought lines (apps/server trips.ts). */
  ServerTrip: 'server:trip',
  /** A peer's update in tests, examples and tools (the default of `applyUpdate`). */
  Remote: 'remote',
} as const
export type Origin = (typeof Origin)[keyof typeof Origin]

/**
 * What this device holds already — its own storage, its own tabs, a session handing over to its
 * successor: checked for structure only, not for BAD-7's domain rules, so a space saved before a rule
 * existed still opens (BAD-4 reads its nonsense as defaults).
 */
export const OWN_ORIGINS: ReadonlySet<string> = new Set([
  Origin.Load,
  Origin.Restore,
  Origin.Handover,
  Origin.Tab,
])
