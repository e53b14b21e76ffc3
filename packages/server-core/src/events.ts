/**
 * What the core reports, for metrics and tests. The composition root turns these into Prometheus
 * series; the core never imports a metrics library.
 */
export interface CoreEvents {
  connectionOpened?(): void
  connectionClosed?(): void
  messageIn?(type: string, bytes: number): void
  messageOut?(bytes: number, count: number): void
  /** A batch committed to storage: how many updates, how many bytes, how long the commit took. */
  committed?(spaceId: string, updates: number, bytes: number, ms: number): void
  commitFailed?(spaceId: string): void
  compacted?(spaceId: string, bytes: number): void
  /** A message or connection refused, by reason (an ErrorKind). */
  rejected?(reason: string): void
  /**
   * Presence states dropped by the presence gate (SPEC.md PRESENCE-1…6), by why: `not-owned` (for an
   * id another connection or instance owns), `too-many` (past the ids one connection may own),
   * `invalid` (a malformed state: its whole update is dropped), and the same over fan-out.
   */
  presenceRefused?(
    kind: 'not-owned' | 'too-many' | 'invalid' | 'fanout-not-owned' | 'fanout-invalid',
    states: number,
  ): void
  authFailed?(reason: string): void
  spaceLoaded?(spaceId: string, ms: number): void
  spaceUnloaded?(spaceId: string): void
  loadFailed?(spaceId: string): void
}
