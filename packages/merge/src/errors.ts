/**
 * Every error that crosses the `@converge/merge` boundary is a `MergeError` with a `kind`.
 * Each kind says what the caller does next (see README.md, "Errors").
 */
export type MergeErrorKind =
  /** Bytes that do not decode as an update of this engine (bad varint, truncation, checksum). Drop them; never retry. */
  | 'MalformedUpdate'
  /** A well-formed update that belongs to another kind of document (other root types, other space genesis). Drop it. */
  | 'ForeignDocument'
  /**
   * A well-formed update that builds on changes this replica does not have (it arrived out of order, or
   * it was forged): refused whole, never kept pending. Ask the peer for what is missing by state vector.
   */
  | 'MissingDependencies'
  /**
   * BAD-7: a well-formed update of this space that writes what a space may not hold: an unknown key,
   * a value of the wrong type or out of range, a change to a set-once `meta` key, another replica's
   * counter. Refused whole; never retry it (the peer is broken or hostile).
   */
  | 'InvalidValue'
  /** The document's schema is newer than this code: the space is read-only here; upgrade the app. */
  | 'SchemaTooNew'
  /** The space was opened read-only (e.g. a read-only share link); writes are refused. */
  | 'ReadOnly'
  /** A command named an item or note that does not exist (or is not visible). */
  | 'NotFound'
  /** A command argument is invalid (empty item name, negative amount, unknown field, bad index). */
  | 'InvalidArgument'

export class MergeError extends Error {
  override readonly name = 'MergeError'
  constructor(
    readonly kind: MergeErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${message}`, options)
  }
}

export const isMergeError = (e: unknown, kind?: MergeErrorKind): e is MergeError =>
  e instanceof MergeError && (kind === undefined || e.kind === kind)
