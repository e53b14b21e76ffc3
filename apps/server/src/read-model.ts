/**
 * The HTTP read model (PROTOCOL.md §P9; SPEC.md READ-4…READ-8): a space's cart, notes and totals as
 * JSON, for programs that are not sync clients — a budget sheet, a fridge display, a voice assistant.
 * Built from what `SyncCore.read` returns, through packages/merge (the same reading of the document
 * as the app's), with an ETag of the body and the committed version as a token that
 * `?after=<version>` waits for.
 */
import { createHash } from 'node:crypto'
import { type EngineKind, type Space, loadEngine, openSpace } from '@converge/merge'
import { versionToken } from '@converge/protocol'
import type { SpaceRead } from '@converge/server-core'

/** The JSON of one cart line (a visible line of the cart, in its order). */
export interface LineView {
  readonly key: string
  readonly name: string
  readonly quantity: number
  readonly unit: string
  readonly note: string
  readonly category: string
  /** Per unit, in minor currency units (cents); null when unknown. */
  readonly priceCents: number | null
  readonly checked: boolean
  readonly checkedBy: string | null
}

export interface NoteView {
  readonly id: string
  readonly title: string
  readonly body: string
  readonly createdAt: number
  readonly updatedAt: number
  readonly pinned: boolean
}

export interface SpaceView {
  readonly id: string
  readonly engine: EngineKind
  readonly name: string
  /** The committed version this read covers at least: a token for `?after=` and durable acks alike. */
  readonly version: string
  readonly cart: readonly LineView[]
  readonly totals: {
    /** Lines on the list, and the units they add up to. */
    readonly lines: number
    readonly units: number
    /** Lines checked off (in the trolley). */
    readonly checkedLines: number
    /** Σ quantity × price over the lines with a price, in cents; and how many lines have none. */
    readonly priceCents: number
    readonly unpricedLines: number
  }
  /** The notes not in the trash, pinned first, then the most recently changed. */
  readonly notes: readonly NoteView[]
}

/** The space as JSON (READ-4). */
export async function viewOf(spaceId: string, read: SpaceRead): Promise<SpaceView> {
  await loadEngine(read.engine)
  let space: Space | null = null
  try {
    space = openSpace({ engine: read.engine, spaceId, state: read.state, readOnly: true })
    const cart: LineView[] = space.items().map((i) => ({
      key: i.key,
      name: i.name,
      quantity: i.quantity,
      unit: i.unit,
      note: i.note,
      category: i.category,
      priceCents: i.priceCents,
      checked: i.checked,
      checkedBy: i.checkedBy,
    }))
    const priced = cart.filter((l) => l.priceCents !== null)
    const notes: NoteView[] = space
      .notes()
      .map((n) => ({
        id: n.id,
        title: n.title,
        body: n.body,
        createdAt: n.createdAt,
        updatedAt: n.updatedAt,
        pinned: n.pinnedAt !== null,
      }))
      .sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.updatedAt - a.updatedAt)
    return {
      id: spaceId,
      engine: read.engine,
      name: space.name,
      version: versionToken(read.version),
      cart,
      totals: {
        lines: cart.length,
        units: cart.reduce((n, l) => n + l.quantity, 0),
        checkedLines: cart.filter((l) => l.checked).length,
        priceCents: priced.reduce((n, l) => n + l.quantity * l.priceCents!, 0),
        unpricedLines: cart.length - priced.length,
      },
      notes,
    }
  } finally {
    space?.destroy()
  }
}

/** READ-5: a strong ETag of the body (what it says, not when it was read). */
export const etagOf = (body: string): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`

/** Whether an If-None-Match header names `etag` (a list, weak or strong, or `*`). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}
