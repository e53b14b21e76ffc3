/**
 * The narrow surface each CRDT engine implements. The domain logic (space.ts) is written once on
 * top of it, so the Yjs and Automerge spaces share every merge rule by construction; the engines
 * differ only in how a flat map key, a text and an update are stored and exchanged.
 */
export type EngineKind = 'yjs' | 'automerge'

export type Scalar = string | number | boolean | null

/** The flat last-writer-wins maps of a space document (see SPEC.md, "Document layout"). */
export type MapName = 'meta' | 'items' | 'qty' | 'tomb' | 'notes'
export const MAP_NAMES: readonly MapName[] = ['meta', 'items', 'qty', 'tomb', 'notes']

/** A position in a note body that follows its character through concurrent edits. */
export type TextAnchor = { readonly engine: EngineKind; readonly value: unknown }

/** The characters one edit inserted, wherever they are now (UNDO-3: undo deletes only these). */
export type TextInsertion = { readonly engine: EngineKind; readonly value: unknown }

/** What `applyUpdate` checks: the whole contract, or the structure only (what this device stored itself). */
export type UpdateChecks = 'all' | 'structure'

export interface EngineWriter {
  set(map: MapName, key: string, value: Scalar): void
  delete(map: MapName, key: string): void
  /** Creates the body text of a new note. Called once per note, by its creator. */
  createText(noteId: string, initial: string): void
  /**
   * `continues`: this edit is a keystroke right after the previous command's keystroke in this note
   * (NOTE-2: an engine keeps one run of typing together so that it never interleaves with another).
   */
  spliceText(noteId: string, index: number, deleteCount: number, insert: string, continues?: boolean): void
}

export interface EngineChange {
  /** The origin given to `transact` or `applyUpdate` (or a description of a foreign origin object). */
  readonly origin: string
  /** True when the change was made on this replica, false when it arrived as an update. */
  readonly local: boolean
  /** The update that carries exactly this change, ready to send to peers. */
  readonly update: Uint8Array
  /**
   * The keys of the space's maps this change set or deleted, when the engine can tell; absent means
   * anything may have changed. Queries keep what they computed of the keys no change touched.
   */
  readonly keys?: ReadonlyMap<MapName, ReadonlySet<string>>
}

export interface Engine {
  readonly kind: EngineKind
  readonly replicaId: string
  get(map: MapName, key: string): Scalar | undefined
  entries(map: MapName): Iterable<[string, Scalar]>
  text(noteId: string): string
  /** The body's length in UTF-16 units, without building it. */
  textLength(noteId: string): number
  /** Characters `[start, end)` of the body, without building the rest (bounds clamped). */
  textSlice(noteId: string, start: number, end: number): string
  transact(origin: string, fn: (w: EngineWriter) => void): void
  /** Groups several `transact` calls into one change event and one update for peers. */
  batch(origin: string, fn: () => void): void
  /** An anchor on the character at `index` of a note body (or on the end of the body when index = length). */
  anchor(noteId: string, index: number): TextAnchor
  /**
   * Where an anchor is now. `start`: the character's index (where it was, if deleted). `end`: just after
   * the character, or where it was if it was deleted — so a range of anchors never grows over text
   * inserted next to it by someone else.
   */
  resolve(noteId: string, anchor: TextAnchor, edge: 'start' | 'end'): number | null
  /** The characters just inserted at `[index, index + length)` (UTF-16) of a body, as a handle. */
  insertion(noteId: string, index: number, length: number): TextInsertion
  /** The UTF-16 ranges `[start, end)` where characters of `insertion` still stand, in order. */
  ownRanges(noteId: string, insertion: TextInsertion): [number, number][]
  /** Yjs: the encoded state vector. Automerge: the encoded version vector (DLV-5). */
  stateVector(): Uint8Array
  /**
   * DLV-4: per writer, how far this replica holds its changes — Yjs: client id (decimal) → clock;
   * Automerge: actor → highest sequence number. Replica A holds every change B holds exactly when A's
   * vector is at least B's for every writer, so a durable ack can be this vector on either engine.
   */
  versionVector(): ReadonlyMap<string, number>
  /** PROBE-1 (digest.ts): a hash of the whole state, equal on replicas that hold the same state. */
  stateDigest(): Uint8Array
  /** Everything this replica has that a peer with `stateVector` lacks (everything when omitted). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
  /**
   * Validates, then applies. Throws MergeError (MalformedUpdate, ForeignDocument, MissingDependencies,
   * InvalidValue) and leaves the document unchanged. `checks` says whether BAD-7's domain rules run
   * (default: for everything but this device's own storage and tabs, see `OWN_ORIGINS`).
   */
  applyUpdate(update: Uint8Array, origin: string, checks?: UpdateChecks): void
  onChange(listener: (change: EngineChange) => void): () => void
  destroy(): void
}
