import type { Space } from '@converge/merge'
import type { ServerLimits } from '@converge/protocol'
import type { SyncDocument } from './engine-codec.js'

/**
 * LARGE-3 (PROTOCOL.md §P7.5): the size of a space by the server's count, kept here so that a change
 * the server would refuse for the space's size is refused before it is made — a change that exists
 * cannot be taken back once later ones build on it, so it must never exist.
 *
 * The count: the server's `storedBytes` when it told its `limits` on this socket, plus every update
 * this replica sent it since (its answer to the server's `sync-step1`, its own and its tabs'
 * changes) and every update the server relayed to it — the server counts each stored update the
 * same way (server-core COMMIT-3), and a compaction there only makes the true size smaller. Before
 * any server told its limits (offline since the page opened; a tab that does not lead): the size
 * the document encodes to, read once, plus the updates since, against `DEFAULT_MAX_SPACE_BYTES`.
 */
export class SpaceSize {
  private limit: number | null = null
  private base: number | null = null
  private added = 0

  constructor(private readonly doc: Pick<SyncDocument, 'encodeStateAsUpdate'>) {}

  /** The server told its limits (on a new socket): its count starts again from them. */
  reported(limits: Pick<ServerLimits, 'maxDocumentBytes' | 'storedBytes'>): void {
    this.limit = limits.maxDocumentBytes
    this.base = limits.storedBytes
    this.added = 0
  }

  /** An update that will be stored with the space: sent to the server, or relayed by it. */
  add(bytes: number): void {
    if (this.base !== null) this.added += bytes
  }

  /** The largest the space may be: the server's limit, or the default until one told it. */
  get maxBytes(): number {
    return this.limit ?? DEFAULT_MAX_SPACE_BYTES
  }

  /** The space's size now, by the count above. */
  get bytes(): number {
    if (this.base === null) this.base = this.doc.encodeStateAsUpdate().length
    return this.base + this.added
  }

  /**
   * LARGE-3: whether a change of `changeBytes` (the UTF-8 bytes of a paste) may be made: null, or
   * the refusal to show. Cheap (no encoding) once the count started.
   */
  check(changeBytes: number): SpaceTooLarge | null {
    const after = this.bytes + changeBytes + CHANGE_OVERHEAD
    return after > this.maxBytes ? new SpaceTooLarge(after, this.maxBytes) : null
  }
}

/** A space's limit until a server tells its own: apps/server's default `MAX_DOCUMENT_BYTES`. */
export const DEFAULT_MAX_SPACE_BYTES = 64 * 1024 * 1024

/** What an update adds beyond the characters it inserts (ids, lengths, its parent): a generous bound. */
const CHANGE_OVERHEAD = 64

/** LARGE-3: a change refused before it is made, because the space could not store it. */
export class SpaceTooLarge extends Error {
  override readonly name = 'SpaceTooLarge'
  constructor(
    /** What the space would hold with the change. */
    readonly bytes: number,
    /** What it may hold. */
    readonly limit: number,
  ) {
    super(
      `This change is too large for a shared space: ${formatBytes(bytes)} of at most ${formatBytes(limit)}`,
    )
  }
}

/** "70 MB", "3.1 MB", "450 kB" (1 MB = 2^20 bytes, as the limits are set). */
export const formatBytes = (bytes: number): string => {
  const mb = bytes / (1024 * 1024)
  if (mb >= 100) return `${Math.round(mb)} MB`
  if (mb >= 1) return `${Math.round(mb * 10) / 10} MB`
  return `${Math.max(1, Math.round(bytes / 1024))} kB`
}

/** The bytes `text` takes as UTF-8, as Yjs encodes it (a lone surrogate counts 3, as its replacement). */
export const utf8Length = (text: string): number => {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

const local = new WeakMap<Space, SpaceSize>()

/**
 * LARGE-3: the size of an open space as this tab knows it — the leader's connection's count, or, in
 * a tab without one, a count of its own over the document.
 */
export const spaceSizeOf = (session: {
  readonly space: Space
  readonly connectionState: { readonly size?: SpaceSize } | null
}): SpaceSize => {
  const size = session.connectionState?.size
  if (size) return size
  const { space } = session
  let own = local.get(space)
  if (!own) {
    const made = new SpaceSize(space)
    own = made
    local.set(space, made)
    space.onUpdate((update) => made.add(update.length))
  }
  return own
}
