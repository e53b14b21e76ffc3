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

  // LAG-1…6 (SPEC.md "Lag and divergence"): how far behind things are, in milliseconds
  /** A client update from its receipt to its commit (one per update committed). */
  commitLag?(ms: number): void
  /** A commit to the durable ack telling a member of it: `writer` (its own update) or `member`. */
  ackLag?(to: 'writer' | 'member', ms: number): void
  /** A client update from its receipt to its relay to the other members (one per relayed frame). */
  relayLag?(ms: number): void
  /** An update published by another instance to its application here (by the publisher's clock). */
  fanOutLag?(ms: number): void
  /** LAG-5: what a client reported: its oldest unconfirmed change's age, the time since its last durable ack (null: none). */
  clientReport?(report: {
    readonly unconfirmedAgeMs: number | null
    readonly sinceAckMs: number | null
  }): void
  /** LAG-5: connections whose last report had an unconfirmed change older than the lagging threshold, changed by `delta`. */
  laggingConnections?(delta: number): void
  /** PROBE-1…4: replicas at one version holding different states (`client`: a device; `instance`: another server). */
  divergence?(scope: 'client' | 'instance', spaceId: string): void
}
