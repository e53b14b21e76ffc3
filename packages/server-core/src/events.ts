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
  authFailed?(reason: string): void
  spaceLoaded?(spaceId: string, ms: number): void
  spaceUnloaded?(spaceId: string): void
  loadFailed?(spaceId: string): void
}
