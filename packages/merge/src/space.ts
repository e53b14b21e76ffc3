import type {
  Engine,
  EngineChange,
  EngineKind,
  EngineWriter,
  MapName,
  Scalar,
  TextAnchor,
  TextInsertion,
  UpdateChecks,
} from './engine.js'
import { MergeError } from './errors.js'
import {
  type LifeState,
  MAX_QUANTITY,
  type Snapshot,
  ZERO,
  counterId,
  counterKey,
  decodePN,
  decodeSnapshot,
  emptyLife,
  encodePN,
  encodeSnapshot,
  lifeAmount,
  lifeEpoch,
  maxPN,
  newLife,
  parseCounterId,
  splitDecrement,
  targetLives,
} from './model/counter.js'
import {
  CURRENCY,
  LIMITS,
  PERSON_COLOR,
  PERSON_FIELD_NAMES,
  PERSON_ID,
  PERSON_PREFIX,
} from './model/domain.js'
import { SEP, displayName, joinKey, normaliseName, randomId, splitKey } from './model/keys.js'
import { compareOrder, keysBetween, readOrderKey } from './model/order.js'
import { Origin } from './origins.js'
import { type RestoreSummary, restoreCommands } from './restore.js'

/** The schema version this code writes and fully understands (SCH-1). */
export const SCHEMA_VERSION = 1

export const ITEM_FIELDS = ['name', 'note', 'unit', 'priceCents', 'category'] as const
export type ItemField = (typeof ITEM_FIELDS)[number]

export interface CartItem {
  /** The normalised name: the item's identity (CART-1). */
  readonly key: string
  readonly name: string
  readonly quantity: number
  readonly note: string
  readonly unit: string
  /** Price per unit in minor currency units (cents), or null when unknown. */
  readonly priceCents: number | null
  readonly category: string
  readonly checked: boolean
  readonly checkedBy: string | null
  readonly order: string
  /** CART-11: who brought the line back with its last add (the name given as `by`), or null. */
  readonly addedBy: string | null
  /** CART-11: when the line came back with its last add (ms), or null for lines added before CART-11. */
  readonly addedAt: number | null
}

/** CART-12: a line the document has ever had, visible or removed, with its last fields. */
export interface ItemRecord {
  readonly key: string
  readonly name: string
  readonly unit: string
  readonly priceCents: number | null
  readonly category: string
  /** Whether the line is in the cart now (CART-4). */
  readonly visible: boolean
  readonly addedAt: number | null
}

/** PEOPLE-1: a person of the space (not a replica: one person has many devices and tabs). */
export interface Member {
  readonly id: string
  readonly name: string
  /** `#rrggbb`, lower case. */
  readonly color: string
  /** When this person's app last wrote their record (ms), or null. */
  readonly seenAt: number | null
}

/** PEOPLE-1: a member's `seenAt` is written again when it is older than this (ms). */
export const MEMBER_SEEN_EVERY = 60 * 60 * 1000
/** NOTE-5: how fresh a note's `updatedAt` stays before an edit writes it again (ms). */
export const NOTE_UPDATED_EVERY = 60 * 1000

export interface CartTotals {
  /** Visible lines in the cart. */
  readonly items: number
  /** Sum of quantities. */
  readonly quantity: number
  /** Lines checked off as bought. */
  readonly checked: number
  /** Sum of price × quantity over priced lines, in cents. */
  readonly priceCents: number
  /** Lines without a price. */
  readonly unpriced: number
}

export interface Note {
  readonly id: string
  readonly title: string
  readonly body: string
  readonly createdAt: number
  readonly createdBy: string
  readonly updatedAt: number
  readonly trashed: boolean
  readonly trashedAt: number | null
  /** NOTE-4: when the note was pinned (ms), or null when it is not pinned. */
  readonly pinnedAt: number | null
}

export interface ChangeEvent {
  readonly origin: string
  readonly local: boolean
}

export interface SpaceSnapshot {
  readonly meta: Record<string, Scalar>
  readonly cart: readonly CartItem[]
  readonly removed: readonly string[]
  readonly notes: readonly Note[]
  /** The raw flat maps and texts: two replicas with equal snapshots hold the same document state. */
  readonly raw: Record<MapName, [string, Scalar][]> & { bodies: [string, string][] }
}

export interface SpaceOptions {
  /** A unique id for this replica (this open document, not the device: two tabs need two ids). */
  readonly replicaId?: string
  /** The origin that local commands carry in change events (default `Origin.Local`). */
  readonly origin?: string
  /** Open read-only (e.g. from a read-only share link): every write fails with ReadOnly. */
  readonly readOnly?: boolean
  /** The clock for note timestamps (default Date.now). */
  readonly now?: () => number
  /** Randomness for note ids (default Math.random). */
  readonly random?: () => number
}

/** An inverse operation kept on the undo stack; applying one returns its own inverse (for redo). */
type Inverse =
  /** this replica's own contribution to one life of a line, taken back (CART-10) */
  | {
      readonly t: 'count'
      readonly item: string
      readonly life: string
      readonly plus: number
      readonly minus: number
    }
  /** a register set back to `value`, only while it still holds `expect`, the value this replica wrote (UNDO-1) */
  | {
      readonly t: 'set'
      readonly map: MapName
      readonly key: string
      readonly value: Scalar | undefined
      readonly expect: Scalar | undefined
    }
  /** undo of a remove: what it took away, given back as a new life (CART-10) */
  | {
      readonly t: 'restore'
      readonly item: string
      readonly quantity: number
      readonly lives: readonly string[]
    }
  | {
      readonly t: 'text'
      readonly noteId: string
      /** Where `text` goes back: the character after the edit. */
      readonly at: TextAnchor
      /** The characters the edit inserted: undo deletes these and nothing else (UNDO-3). */
      readonly own: TextInsertion | null
      readonly text: string
    }

interface RawItem {
  readonly key: string
  readonly fields: Map<string, Scalar>
  readonly lives: Map<string, LifeState>
  quantity: number
  /** The highest epoch among lives with a counter, or null when there is none (CART-4). */
  maxEpoch: number | null
}

/** The maps a cart line is made of (its fields, its counters, the counters' tombstones). */
type ItemMap = 'items' | 'qty' | 'tomb'
/** Past this many changed keys the cart's lines are built again from every entry. */
const TOUCHED_AT_MOST = 4096
const ITEM_MAPS: readonly ItemMap[] = ['items', 'qty', 'tomb']

/** One line from its entries in the three maps (`item␟field`, `item␟counter`, `item␟…`); null without any. */
function assembleItem(
  key: string,
  fields: Iterable<[string, Scalar]>,
  counters: Iterable<[string, Scalar]>,
  tombs: Iterable<[string, Scalar]>,
): RawItem | null {
  const it: RawItem = { key, fields: new Map(), lives: new Map(), quantity: 0, maxEpoch: null }
  let any = false
  const life = (id: string): LifeState => {
    let l = it.lives.get(id)
    if (!l) {
      l = emptyLife(id, lifeEpoch(id) ?? 0)
      it.lives.set(id, l)
    }
    return l
  }
  for (const [k, v] of fields) {
    any = true
    it.fields.set(splitKey(k)![1], v)
  }
  for (const [k, v] of counters) {
    // a counter whose id does not parse makes no line, as before the cart was kept
    const c = parseCounterId(splitKey(k)![1])
    if (!c) continue
    any = true
    life(c.life).counts.set(c.replica, decodePN(v))
  }
  for (const [, v] of tombs) {
    any = true
    for (const [id, pn] of Object.entries(decodeSnapshot(v))) {
      const c = parseCounterId(id)
      if (!c) continue
      const l = life(c.life)
      l.seen.set(c.replica, maxPN(l.seen.get(c.replica) ?? ZERO, pn))
      l.ended = true
    }
  }
  if (!any) return null
  for (const l of it.lives.values()) {
    if (l.counts.size === 0) continue
    l.amount = lifeAmount(l)
    it.quantity += l.amount
    it.maxEpoch = Math.max(it.maxEpoch ?? 0, l.epoch)
  }
  return it
}

const MAX_TEXT = 10_000

const checkAmount = (n: number, what: string): number => {
  if (!Number.isSafeInteger(n) || n <= 0 || n > MAX_QUANTITY)
    throw new MergeError(
      'InvalidArgument',
      `${what} must be a whole number from 1 to ${MAX_QUANTITY}, got ${n}`,
    )
  return n
}

const str = (v: Scalar | undefined, fallback = ''): string => (typeof v === 'string' ? v : fallback)
/** A time register as BAD-4 reads it: a time in Date's range, or null. */
const time = (v: Scalar | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= LIMITS.time ? v : null
const price = (v: Scalar | undefined): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null
const num = (v: Scalar | undefined, fallback = 0): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff
/** Whether a boundary at `i` falls between the two halves of one character (NOTE-2). */
const splitsPair = (text: string, i: number): boolean =>
  i > 0 && i < text.length && isHigh(text.charCodeAt(i - 1)) && isLow(text.charCodeAt(i))

/**
 * A shared space: its metadata, its cart and its notes, on one CRDT engine. Every method that writes
 * is a local command; remote changes arrive through `applyUpdate`. See SPEC.md for the merge rules.
 */
export class Space {
  readonly replicaId: string
  readonly origin: string
  private readonly now: () => number
  private readonly random: () => number
  private forcedReadOnly: boolean
  private version = 0
  private cache:
    | { version: number; items: Map<string, RawItem>; keys: Map<string, Record<ItemMap, Set<string>>> }
    | undefined
  /** The item maps' keys changed since `cache` was built; null when a change did not name its keys. */
  private touched: [ItemMap, string][] | null = null
  private historyCache: { version: number; records: ItemRecord[] } | undefined
  private membersCache: { version: number; members: Map<string, Member> } | undefined
  private readonly subscribers = new Set<(e: ChangeEvent) => void>()
  private readonly updateListeners = new Set<(update: Uint8Array, e: ChangeEvent) => void>()
  private undoStack: Inverse[][] = []
  private redoStack: Inverse[][] = []
  private group: Inverse[] | null = null
  private replaying = false
  private readonly unsubscribeEngine: () => void
  /** The note of the last command, when it was a keystroke (an insert, nothing deleted): NOTE-2 runs. */
  private typingIn: string | null = null
  private typingNow: string | null = null

  constructor(
    readonly engine: Engine,
    readonly id: string,
    options: SpaceOptions = {},
  ) {
    this.replicaId = engine.replicaId
    this.origin = options.origin ?? Origin.Local
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.forcedReadOnly = options.readOnly ?? false
    this.unsubscribeEngine = engine.onChange((c: EngineChange) => {
      this.version++
      if (!c.keys) this.touched = null
      else if (this.touched) {
        for (const map of ITEM_MAPS) for (const k of c.keys.get(map) ?? []) this.touched.push([map, k])
        if (this.touched.length > TOUCHED_AT_MOST) this.touched = null // building it all is cheaper
      }
      const e: ChangeEvent = { origin: c.origin, local: c.local }
      for (const l of this.updateListeners) l(c.update, e)
      for (const s of this.subscribers) s(e)
    })
  }

  get engineKind(): EngineKind {
    return this.engine.kind
  }

  // ---------------------------------------------------------------- schema and access (SCH-*)

  /** The schema version the document carries (SCHEMA_VERSION until a creator's metadata arrives). */
  get schemaVersion(): number {
    return num(this.engine.get('meta', 'schema'), SCHEMA_VERSION)
  }

  get schemaTooNew(): boolean {
    return this.schemaVersion > SCHEMA_VERSION
  }

  /** True when writes are refused: opened read-only, or the document's schema is newer than this code (SCH-2). */
  get readOnly(): boolean {
    return this.forcedReadOnly || this.schemaTooNew
  }

  setReadOnly(readOnly: boolean): void {
    this.forcedReadOnly = readOnly
  }

  get name(): string {
    return str(this.engine.get('meta', 'name'))
  }

  rename(name: string): void {
    this.command((w, inv) => this.setRaw(w, inv, 'meta', 'name', displayName(name).slice(0, 200)))
  }

  /** SPACE-1: the space's currency, an ISO 4217 code shared by everyone, or null (BAD-4: a malformed one reads as null). */
  get currency(): string | null {
    const v = this.engine.get('meta', 'currency')
    return typeof v === 'string' && CURRENCY.test(v) ? v : null
  }

  /** SPACE-1: sets (or, with null, clears) the space's currency: a last-writer-wins register, undoable. */
  setCurrency(code: string | null): void {
    if (code !== null && !(typeof code === 'string' && CURRENCY.test(code)))
      throw new MergeError('InvalidArgument', 'a currency is an ISO 4217 code: three capital letters')
    this.command((w, inv) => this.setRaw(w, inv, 'meta', 'currency', code))
  }

  // ---------------------------------------------------------------- people (PEOPLE-1)

  private rawMembers(): Map<string, Member> {
    if (this.membersCache?.version === this.version) return this.membersCache.members
    const fields = new Map<string, Map<string, Scalar>>()
    for (const [k, v] of this.engine.entries('meta')) {
      if (!k.startsWith(PERSON_PREFIX + SEP)) continue
      const p = k.split(SEP)
      if (p.length !== 3 || !PERSON_ID.test(p[1]!) || !PERSON_FIELD_NAMES.has(p[2]!)) continue
      let f = fields.get(p[1]!)
      if (!f) fields.set(p[1]!, (f = new Map<string, Scalar>()))
      f.set(p[2]!, v)
    }
    const members = new Map<string, Member>()
    for (const [id, f] of fields) {
      const name = f.get('name')
      const color = f.get('color')
      // well-formed records only (BAD-4: what a replica stored itself is read, not trusted)
      if (typeof name !== 'string' || name.trim() === '' || name.length > LIMITS.personName) continue
      if (typeof color !== 'string' || !PERSON_COLOR.test(color)) continue
      members.set(id, { id, name, color, seenAt: time(f.get('seenAt')) })
    }
    this.membersCache = { version: this.version, members }
    return members
  }

  /** PEOPLE-1: the people of the space, sorted by name, then id. */
  members(): Member[] {
    return [...this.rawMembers().values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    )
  }

  member(id: string): Member | undefined {
    return this.rawMembers().get(id)
  }

  /**
   * PEOPLE-1: writes a person's record, one last-writer-wins register per field, only the fields
   * that change, plus `seenAt` (now) when it changes something or the last one is older than an
   * hour. Bookkeeping, not a user's edit: not on the undo stack.
   */
  setMember(id: string, m: { name: string; color: string }): void {
    if (typeof id !== 'string' || !PERSON_ID.test(id))
      throw new MergeError('InvalidArgument', 'a person id is 1–64 of [0-9a-z_-]')
    const name = typeof m.name === 'string' ? displayName(m.name) : ''
    if (name === '' || name.length > LIMITS.personName)
      throw new MergeError('InvalidArgument', `a person's name is 1 to ${LIMITS.personName} characters`)
    if (typeof m.color !== 'string' || !/^#[0-9a-f]{6}$/i.test(m.color))
      throw new MergeError('InvalidArgument', "a person's colour is #rrggbb")
    const color = m.color.toLowerCase()
    const key = (f: string): string => joinKey(PERSON_PREFIX, id, f)
    const changes =
      this.engine.get('meta', key('name')) !== name || this.engine.get('meta', key('color')) !== color
    const seen = time(this.engine.get('meta', key('seenAt')))
    const now = this.now()
    const stale = seen === null || now - seen >= MEMBER_SEEN_EVERY
    if (!changes && !stale) return this.nothingToWrite()
    this.command((w) => {
      if (this.engine.get('meta', key('name')) !== name) w.set('meta', key('name'), name)
      if (this.engine.get('meta', key('color')) !== color) w.set('meta', key('color'), color)
      if (time(now) !== null && now !== seen) w.set('meta', key('seenAt'), now)
    }, false)
  }

  /** Writes the metadata of a new space; only the creator calls this (createSpace). */
  initialise(name: string): void {
    this.command((w) => {
      w.set('meta', 'schema', SCHEMA_VERSION)
      w.set('meta', 'id', this.id)
      w.set('meta', 'name', displayName(name).slice(0, 200))
      w.set('meta', 'createdAt', this.now())
    }, false)
  }

  // ---------------------------------------------------------------- cart queries (CART-*)

  /**
   * Every line the document holds, from the `items`, `qty` and `tomb` maps. Kept between versions:
   * when every change since it was built named the keys it touched (`EngineChange.keys`), only the
   * lines those keys belong to are assembled again; otherwise it is built from every entry. A version's
   * map is never changed afterwards — an update makes a new one — so a caller may hold it across a write.
   */
  private rawItems(): Map<string, RawItem> {
    const cache = this.cache
    if (cache?.version === this.version) return cache.items
    const touched = this.touched
    this.touched = []
    if (cache && touched) {
      const items = new Map(cache.items)
      const dirty = new Set<string>()
      for (const [map, k] of touched) {
        const parts = splitKey(k)
        if (!parts) continue
        const own = cache.keys.get(parts[0]) ?? { items: new Set(), qty: new Set(), tomb: new Set() }
        cache.keys.set(parts[0], own)
        if (this.engine.get(map, k) === undefined) own[map].delete(k)
        else own[map].add(k)
        dirty.add(parts[0])
      }
      for (const key of dirty) {
        const own = cache.keys.get(key)!
        const read = (map: ItemMap): [string, Scalar][] =>
          [...own[map]].map((k): [string, Scalar] => [k, this.engine.get(map, k)!])
        const it = assembleItem(key, read('items'), read('qty'), read('tomb'))
        if (it) items.set(key, it)
        else {
          items.delete(key)
          cache.keys.delete(key)
        }
      }
      this.cache = { version: this.version, items, keys: cache.keys }
      return items
    }
    const byItem = new Map<string, Record<ItemMap, [string, Scalar][]>>()
    for (const map of ITEM_MAPS)
      for (const [k, v] of this.engine.entries(map)) {
        const parts = splitKey(k)
        if (!parts) continue
        let own = byItem.get(parts[0])
        if (!own) byItem.set(parts[0], (own = { items: [], qty: [], tomb: [] }))
        own[map].push([k, v])
      }
    const items = new Map<string, RawItem>()
    const keys = new Map<string, Record<ItemMap, Set<string>>>()
    for (const [key, own] of byItem) {
      const it = assembleItem(key, own.items, own.qty, own.tomb)
      if (it) items.set(key, it)
      keys.set(key, {
        items: new Set(own.items.map(([k]) => k)),
        qty: new Set(own.qty.map(([k]) => k)),
        tomb: new Set(own.tomb.map(([k]) => k)),
      })
    }
    this.cache = { version: this.version, items, keys }
    return items
  }

  private toItem(it: RawItem): CartItem {
    const f = it.fields
    const checkedBy = f.get('checkedBy')
    const addedBy = f.get('addedBy')
    return {
      key: it.key,
      name: str(f.get('name'), it.key),
      quantity: it.quantity,
      note: str(f.get('note')),
      unit: str(f.get('unit')),
      priceCents: price(f.get('priceCents')),
      category: str(f.get('category')),
      checked: typeof checkedBy === 'string',
      checkedBy: typeof checkedBy === 'string' ? checkedBy : null,
      order: readOrderKey(f.get('order')),
      addedBy: typeof addedBy === 'string' && addedBy.length <= LIMITS.who ? addedBy : null,
      addedAt: time(f.get('addedAt')),
    }
  }

  /**
   * CART-12: every line the document has ever had (a counter or a display name), visible or
   * removed, with its last fields: most recently added first (lines without `addedAt` last), then by
   * key. From the same cache as the cart, so it is cheap to call on every keystroke.
   */
  itemHistory(): ItemRecord[] {
    if (this.historyCache?.version === this.version) return this.historyCache.records
    const records: ItemRecord[] = []
    for (const it of this.rawItems().values()) {
      const f = it.fields
      if (it.maxEpoch === null && !f.has('name')) continue
      records.push({
        key: it.key,
        name: str(f.get('name'), it.key),
        unit: str(f.get('unit')),
        priceCents: price(f.get('priceCents')),
        category: str(f.get('category')),
        visible: it.quantity > 0,
        addedAt: time(f.get('addedAt')),
      })
    }
    records.sort(
      (a, b) => (b.addedAt ?? -1) - (a.addedAt ?? -1) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    )
    this.historyCache = { version: this.version, records }
    return records
  }

  /** The visible cart lines in order (CART-4: a quantity of 0 or less is not visible; CART-6: one order). */
  items(): CartItem[] {
    const out: CartItem[] = []
    for (const it of this.rawItems().values()) if (it.quantity > 0) out.push(this.toItem(it))
    return out.sort(compareOrder)
  }

  item(nameOrKey: string): CartItem | undefined {
    const it = this.rawItems().get(normaliseName(nameOrKey))
    return it && it.quantity > 0 ? this.toItem(it) : undefined
  }

  /** CART-7: totals are derived from the visible lines, never stored. */
  totals(): CartTotals {
    let quantity = 0
    let checked = 0
    let priceCents = 0
    let unpriced = 0
    const items = this.items()
    for (const it of items) {
      quantity += it.quantity
      if (it.checked) checked++
      if (it.priceCents === null) unpriced++
      else priceCents += it.priceCents * it.quantity
    }
    return { items: items.length, quantity, checked, priceCents, unpriced }
  }

  // ---------------------------------------------------------------- cart commands

  /**
   * CART-1: adds one line per normalised name, as a new life of `quantity` (CART-3: whatever anyone
   * did concurrently, an add keeps exactly what it added). Present: its quantity grows by `quantity`.
   * Absent (never added, removed, or at 0): what the adder saw of it is removed first, so it comes
   * back with exactly `quantity`, at the end of the list. Either way, a line the adder sees as
   * checked is put back on the list unchecked; nothing else the adder did not set is written.
   */
  addItem(
    name: string,
    options: { quantity?: number; fields?: Partial<Record<ItemField, Scalar>>; by?: string } = {},
  ): string {
    const key = normaliseName(name)
    const quantity = checkAmount(options.quantity ?? 1, 'quantity')
    if (options.by !== undefined && typeof options.by !== 'string')
      throw new MergeError('InvalidArgument', 'by names the person who adds the line')
    const by = options.by === undefined ? null : displayName(options.by).slice(0, LIMITS.who) || null
    const fields = options.fields ?? {}
    for (const [f, v] of Object.entries(fields)) this.checkField(key, f, v)
    const it = this.rawItems().get(key)
    const present = it !== undefined && it.quantity > 0
    if (present) this.checkRoom(it, quantity)
    this.command((w, inv) => {
      if (!present) this.observeRemove(w, key)
      this.count(w, inv, key, newLife(it?.maxEpoch ?? null, this.replicaId), quantity, 0)
      if (!present) {
        if (this.engine.get('items', joinKey(key, 'name')) === undefined)
          w.set('items', joinKey(key, 'name'), displayName(name).slice(0, 1000))
        w.set('items', joinKey(key, 'order'), this.endKey())
        // CART-11: who brought it back, and when (an earlier adder's name does not stay on it)
        const was = this.engine.get('items', joinKey(key, 'addedBy'))
        if (was !== by && !(was === undefined && by === null)) w.set('items', joinKey(key, 'addedBy'), by)
        const t = this.now()
        if (time(t) !== null && this.engine.get('items', joinKey(key, 'addedAt')) !== t)
          w.set('items', joinKey(key, 'addedAt'), t)
      }
      if (typeof this.engine.get('items', joinKey(key, 'checkedBy')) === 'string')
        this.setRaw(w, inv, 'items', joinKey(key, 'checkedBy'), null)
      for (const [f, v] of Object.entries(fields)) this.setRaw(w, inv, 'items', joinKey(key, f), v)
    })
    return key
  }

  /** CART-2: +n on a visible line, to its newest live life. */
  increment(key: string, by = 1): void {
    const it = this.visible(key)
    checkAmount(by, 'amount')
    this.checkRoom(it, by)
    this.command((w, inv) => this.count(w, inv, key, this.targets(it)[0]!.id, by, 0))
  }

  /** CART-2 / CART-4: −n on a visible line; at 0 or below the line counts as removed. */
  decrement(key: string, by = 1): void {
    const it = this.visible(key)
    checkAmount(by, 'amount')
    this.command((w, inv) => {
      for (const [life, take] of splitDecrement(this.targets(it), by)) this.count(w, inv, key, life, 0, take)
    })
  }

  /** CART-3: observed-remove: removes the contributions this replica has seen. */
  removeItem(key: string): void {
    const it = this.visible(key)
    const lives = [...it.lives.values()].filter((l) => l.counts.size > 0).map((l) => l.id)
    this.command((w, inv) => {
      this.observeRemove(w, key)
      inv.push({ t: 'restore', item: key, quantity: it.quantity, lives })
    })
  }

  /** CART-5: a last-writer-wins register per field. `name` may only change spelling, not identity. */
  setField(key: string, field: ItemField, value: Scalar): void {
    this.visible(key)
    this.checkField(key, field, value)
    this.command((w, inv) => this.setRaw(w, inv, 'items', joinKey(key, field), value))
  }

  /** CART-5: checked and who checked it are one register, so they never disagree. */
  check(key: string, by: string): void {
    this.visible(key)
    this.command((w, inv) => this.setRaw(w, inv, 'items', joinKey(key, 'checkedBy'), by.slice(0, 200)))
  }

  uncheck(key: string): void {
    this.visible(key)
    this.command((w, inv) => this.setRaw(w, inv, 'items', joinKey(key, 'checkedBy'), null))
  }

  /**
   * CART-6: moves a line to `toIndex` of the visible order: one new order key between its new
   * neighbours. Where the neighbours share a key (concurrent moves can tie), the lines from the new
   * place on that share it get new keys too, in their order, so the move still lands where asked.
   */
  moveItem(key: string, toIndex: number): void {
    this.visible(key)
    if (!Number.isSafeInteger(toIndex) || toIndex < 0)
      throw new MergeError('InvalidArgument', `toIndex must be a whole number ≥ 0, got ${toIndex}`)
    const others = this.items().filter((i) => i.key !== key)
    const at = Math.min(toIndex, others.length)
    const lo = at > 0 ? (others[at - 1]?.order ?? null) : null
    // the lines after the new place whose key is not above `lo` would sort before the moved one
    const tied: CartItem[] = []
    let next = at
    while (lo !== null && next < others.length && others[next]!.order <= lo) tied.push(others[next++]!)
    const hi = others[next]?.order ?? null
    const keys = keysBetween(lo, hi, tied.length + 1)
    this.command((w, inv) => {
      this.setRaw(w, inv, 'items', joinKey(key, 'order'), keys[0])
      tied.forEach((item, i) => this.setRaw(w, inv, 'items', joinKey(item.key, 'order'), keys[i + 1]))
    })
  }

  private visible(key: string): RawItem {
    const it = this.rawItems().get(key)
    if (!it || it.quantity <= 0) throw new MergeError('NotFound', `no item "${key}" in the cart`)
    return it
  }

  /** CART-2: the lives an increment or decrement goes to, newest live one first. */
  private targets(it: RawItem): LifeState[] {
    return targetLives(it.lives.values())
  }

  /** CART-8: an add or increment may not take a line past MAX_QUANTITY. */
  private checkRoom(it: RawItem, by: number): void {
    if (it.quantity + by > MAX_QUANTITY)
      throw new MergeError('InvalidArgument', `a line holds at most ${MAX_QUANTITY}; it has ${it.quantity}`)
  }

  private checkField(key: string, field: string, value: unknown): void {
    if (!(ITEM_FIELDS as readonly string[]).includes(field))
      throw new MergeError('InvalidArgument', `unknown item field "${field}"`)
    if (field === 'priceCents') {
      if (value !== null && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0))
        throw new MergeError('InvalidArgument', 'priceCents is null or a whole number ≥ 0')
      return
    }
    if (typeof value !== 'string' || value.length > 1000)
      throw new MergeError('InvalidArgument', `${field} is a string of at most 1000 characters`)
    if (field === 'name' && normaliseName(value) !== key)
      throw new MergeError(
        'InvalidArgument',
        `"${value}" is another item than "${key}": remove and add instead`,
      )
  }

  private endKey(): string {
    const items = this.items()
    return keysBetween(items[items.length - 1]?.order ?? null, null, 1)[0]!
  }

  /** This replica's counter register for one life of the item, grown by (plus, minus). */
  private count(
    w: EngineWriter,
    inv: Inverse[],
    item: string,
    life: string,
    plus: number,
    minus: number,
  ): void {
    const k = counterKey(item, this.replicaId, life)
    const cur = decodePN(this.engine.get('qty', k))
    if (!Number.isSafeInteger(cur.p + plus) || !Number.isSafeInteger(cur.n + minus))
      throw new MergeError('InvalidArgument', 'this replica has counted this line too far (CART-8)')
    w.set('qty', k, encodePN({ p: cur.p + plus, n: cur.n + minus }))
    inv.push({ t: 'count', item, life, plus: minus, minus: plus })
  }

  /** Records, in this replica's tombstone for the item, every counter of every life seen so far (CART-3). */
  private observeRemove(w: EngineWriter, item: string): void {
    const it = this.rawItems().get(item)
    if (!it) return
    const k = joinKey(item, this.replicaId)
    const mine: Snapshot = decodeSnapshot(this.engine.get('tomb', k))
    let any = false
    for (const l of it.lives.values())
      for (const [replica, pn] of l.counts) {
        const id = counterId(replica, l.id)
        mine[id] = maxPN(mine[id] ?? ZERO, pn)
        any = true
      }
    if (any) w.set('tomb', k, encodeSnapshot(mine))
  }

  private setRaw(
    w: EngineWriter,
    inv: Inverse[],
    map: MapName,
    key: string,
    value: Scalar | undefined,
  ): void {
    const old = this.engine.get(map, key)
    if (old === value) return // no write: the register holds it already
    if (value === undefined) w.delete(map, key)
    else w.set(map, key, value)
    inv.push({ t: 'set', map, key, value: old, expect: value })
  }

  // ---------------------------------------------------------------- notes (NOTE-*, DEL-*)

  private noteField(id: string, f: string): Scalar | undefined {
    return this.engine.get('notes', joinKey(id, f))
  }

  private toNote(id: string): Note | undefined {
    const createdAt = this.noteField(id, 'createdAt')
    if (typeof createdAt !== 'number') return undefined
    const trashedAt = this.noteField(id, 'trashedAt')
    return {
      id,
      title: str(this.noteField(id, 'title')),
      body: this.engine.text(id),
      createdAt,
      createdBy: str(this.noteField(id, 'createdBy')),
      updatedAt: num(this.noteField(id, 'updatedAt'), createdAt),
      trashed: typeof trashedAt === 'number',
      trashedAt: typeof trashedAt === 'number' ? trashedAt : null,
      pinnedAt: time(this.noteField(id, 'pinnedAt')),
    }
  }

  /** Notes: pinned ones first, most recently pinned first (NOTE-4), then newest first; `trashed: true` lists the trash instead. */
  notes(options: { trashed?: boolean } = {}): Note[] {
    const ids = new Set<string>()
    for (const [k] of this.engine.entries('notes')) {
      const parts = splitKey(k)
      if (parts && parts[1] === 'createdAt') ids.add(parts[0])
    }
    const out: Note[] = []
    for (const id of ids) {
      const n = this.toNote(id)
      if (n && n.trashed === (options.trashed ?? false)) out.push(n)
    }
    return out.sort(
      (a, b) =>
        (b.pinnedAt ?? -1) - (a.pinnedAt ?? -1) || b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1),
    )
  }

  note(id: string): Note | undefined {
    return this.toNote(id)
  }

  private existingNote(id: string): Note {
    const n = this.toNote(id)
    if (!n) throw new MergeError('NotFound', `no note "${id}"`)
    return n
  }

  /** NOTE-1: creates a note with a title and a collaborative body. */
  createNote(options: { title?: string; body?: string; id?: string } = {}): string {
    const id = options.id ?? randomId(this.random)
    if (!/^[0-9a-z_-]{1,64}$/.test(id))
      throw new MergeError('InvalidArgument', 'a note id is 1–64 of [0-9a-z_-]')
    if (this.toNote(id)) throw new MergeError('InvalidArgument', `note "${id}" exists`)
    const t = this.now()
    this.command((w, inv) => {
      w.set('notes', joinKey(id, 'title'), (options.title ?? '').slice(0, MAX_TEXT))
      w.set('notes', joinKey(id, 'createdBy'), this.replicaId)
      w.set('notes', joinKey(id, 'updatedAt'), t)
      w.set('notes', joinKey(id, 'createdAt'), t)
      w.createText(id, options.body ?? '')
      if ((options.body ?? '') !== '') this.typingNow = id
      // undo of a creation trashes the note, unless someone trashed or restored it since (DEL-1)
      inv.push({ t: 'set', map: 'notes', key: joinKey(id, 'trashedAt'), value: t, expect: undefined })
    })
    return id
  }

  /**
   * NOTE-5: a change to a note writes its `updatedAt` only when the time it holds is not within a
   * minute of now (either way: a clock ahead by more than that does not freeze it) — one write per
   * minute of typing instead of one per keystroke, each of which Yjs would keep as a tombstone.
   */
  private touch(w: EngineWriter, id: string, inserts: boolean): void {
    const now = this.now()
    const held = this.engine.get('notes', joinKey(id, 'updatedAt'))
    // an edit that only deletes writes it all the same: on Yjs a deletion makes no struct, and a
    // change must move its replica's clock to be seen in a state vector (DLV-3, the durable ack)
    if (inserts && typeof held === 'number' && Math.abs(now - held) < NOTE_UPDATED_EVERY) return
    w.set('notes', joinKey(id, 'updatedAt'), now)
  }

  renameNote(id: string, title: string): void {
    this.existingNote(id)
    if (this.noteField(id, 'title') === title.slice(0, MAX_TEXT)) {
      this.typingIn = null // nothing changes and nothing is written, but it is a command all the same
      return
    }
    this.command((w, inv) => {
      this.setRaw(w, inv, 'notes', joinKey(id, 'title'), title.slice(0, MAX_TEXT))
      this.touch(w, id, true)
    })
  }

  /** NOTE-2: replaces `deleteCount` characters at `index` of the body with `insert` (UTF-16 indexes). */
  editNote(id: string, index: number, deleteCount: number, insert: string): void {
    // per keystroke: no whole-body string (a note can be long) — its length and the few characters needed
    if (typeof this.noteField(id, 'createdAt') !== 'number')
      throw new MergeError('NotFound', `no note "${id}"`)
    const len = this.engine.textLength(id)
    if (!Number.isSafeInteger(index) || index < 0 || index > len)
      throw new MergeError('InvalidArgument', `index ${index} is outside the note (length ${len})`)
    if (!Number.isSafeInteger(deleteCount) || deleteCount < 0 || index + deleteCount > len)
      throw new MergeError('InvalidArgument', `cannot delete ${deleteCount} characters at ${index} of ${len}`)
    const splitsAt = (i: number): boolean =>
      i > 0 && i < len && splitsPair(this.engine.textSlice(id, i - 1, i + 1), 1)
    if (splitsAt(index) || splitsAt(index + deleteCount))
      throw new MergeError('InvalidArgument', 'an edit may not split a character (a UTF-16 surrogate pair)')
    if (deleteCount === 0 && insert === '') {
      this.typingIn = null
      return
    }
    const removed = deleteCount > 0 ? this.engine.textSlice(id, index, index + deleteCount) : ''
    this.command((w, inv) => this.textEdit(w, inv, id, index, deleteCount, insert, removed))
  }

  /** DEL-1: soft delete; the note and its body stay in the document. */
  trashNote(id: string): void {
    this.existingNote(id)
    this.command((w, inv) => this.setRaw(w, inv, 'notes', joinKey(id, 'trashedAt'), this.now()))
  }

  /** NOTE-4: pins a note to the top of the list (a last-writer-wins register); a pinned note stays where it is. */
  pinNote(id: string): void {
    const n = this.existingNote(id)
    if (n.pinnedAt !== null) return this.nothingToWrite()
    this.command((w, inv) => this.setRaw(w, inv, 'notes', joinKey(id, 'pinnedAt'), this.now()))
  }

  /** NOTE-4: unpins a note: it goes back among the others, newest first. */
  unpinNote(id: string): void {
    this.existingNote(id)
    const was = this.noteField(id, 'pinnedAt')
    if (was === undefined || was === null) return this.nothingToWrite()
    this.command((w, inv) => this.setRaw(w, inv, 'notes', joinKey(id, 'pinnedAt'), null))
  }

  /** DEL-2: restores a trashed note with every edit made to it meanwhile, concurrent ones included. */
  restoreNote(id: string): void {
    this.existingNote(id)
    this.command((w, inv) => this.setRaw(w, inv, 'notes', joinKey(id, 'trashedAt'), null))
  }

  // ---------------------------------------------------------------- restoring a version (RESTORE-*)

  /**
   * RESTORE-1…6: makes this replica show what `old` shows — an earlier version of this space, e.g.
   * `openSpace({ engine, spaceId, state, readOnly: true })` of a state the server kept — by the
   * ordinary commands of the difference, as one local command: one update, one undo step, a forward
   * change that merges with concurrent edits by the usual rules (never a rewind). What `old` holds
   * that this replica has not integrated yet is merged first, as a peer's checked update (so a line
   * or a note it has is not added a second time). Refuses a version of another space or engine
   * (`ForeignDocument`) and writes nothing; writes nothing either when the two show the same.
   */
  restoreFrom(old: Space): RestoreSummary {
    if (old.id !== this.id || old.engineKind !== this.engineKind)
      throw new MergeError(
        'ForeignDocument',
        `a version of ${old.engineKind} space "${old.id}" cannot be restored into ${this.engineKind} space "${this.id}"`,
      )
    this.assertWritable()
    if (old.schemaTooNew)
      throw new MergeError(
        'SchemaTooNew',
        `the version has schema ${old.schemaVersion}; this app knows ${SCHEMA_VERSION}`,
      )
    const have = this.versionVector()
    if ([...old.versionVector()].some(([writer, n]) => (have.get(writer) ?? 0) < n))
      this.applyUpdate(old.encodeStateAsUpdate(this.stateVector()), this.origin, 'all')
    this.typingIn = null // the restore's text is not part of a run being typed (NOTE-2)
    let summary: RestoreSummary | undefined
    this.transact(() => {
      summary = restoreCommands(this, old, {
        setNoteTime: (id, field, at) =>
          this.command((w, inv) => this.setRaw(w, inv, 'notes', joinKey(id, field), at)),
      })
    })
    return summary!
  }

  // ---------------------------------------------------------------- undo / redo (UNDO-*)

  /** Groups several commands into one change and one undo step. */
  transact(fn: () => void): void {
    if (this.group) return fn()
    const group: Inverse[] = []
    this.group = group
    try {
      this.engine.batch(this.origin, fn)
    } finally {
      this.group = null
      if (group.length > 0) this.pushUndo(group)
    }
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0
  }

  /** UNDO-1: reverts this replica's last command by a new change; others' changes stay. */
  undo(): boolean {
    return this.replay(this.undoStack, this.redoStack)
  }

  redo(): boolean {
    return this.replay(this.redoStack, this.undoStack)
  }

  private replay(from: Inverse[][], to: Inverse[][]): boolean {
    this.typingIn = null
    const step = from.pop()
    if (!step) return false
    const back: Inverse[] = []
    this.replaying = true
    try {
      this.engine.batch(Origin.Undo, () => {
        for (const op of [...step].reverse()) {
          if (op.t === 'text') this.undoText(op, back)
          else this.command((w, inv) => this.applyInverse(w, inv, op), false, back)
        }
      })
    } finally {
      this.replaying = false
    }
    if (back.length > 0) to.push(back)
    return true
  }

  private applyInverse(w: EngineWriter, inv: Inverse[], op: Exclude<Inverse, { t: 'text' }>): void {
    switch (op.t) {
      case 'count':
        return this.count(w, inv, op.item, op.life, op.plus, op.minus)
      case 'set':
        // UNDO-1: only what this replica wrote and nobody has overwritten since goes back
        if (this.engine.get(op.map, op.key) !== op.expect) return
        return this.setRaw(w, inv, op.map, op.key, op.value)
      case 'restore': {
        // CART-10: what the remove took away comes back as a new life; what anyone added since stays
        const life = newLife(this.rawItems().get(op.item)?.maxEpoch ?? null, this.replicaId)
        this.count(w, inv, op.item, life, op.quantity, 0)
        // this replica's own contributions the remove had ended now stand in that life: undoing them
        // (further back in history) takes them from there
        for (const stack of [this.undoStack, this.redoStack])
          for (const step of stack)
            step.forEach((e, i) => {
              if (e.t === 'count' && e.item === op.item && op.lives.includes(e.life)) step[i] = { ...e, life }
            })
        return
      }
    }
  }

  /**
   * UNDO-3: deletes the characters the edit inserted that still stand (never anyone else's, even
   * inside them), then puts back what it deleted where the edit was. Two steps, so the second sees
   * the first; both go out in the undo's one update.
   */
  private undoText(op: Extract<Inverse, { t: 'text' }>, back: Inverse[]): void {
    if (!this.toNote(op.noteId)) return
    const ranges = op.own ? this.engine.ownRanges(op.noteId, op.own) : []
    let deleted = ''
    if (ranges.length > 0)
      this.command((w) => {
        for (const [s, e] of [...ranges].reverse()) {
          deleted = this.engine.textSlice(op.noteId, s, e) + deleted
          w.spliceText(op.noteId, s, e - s, '')
        }
        this.touch(w, op.noteId, false)
      }, false)
    const at = this.engine.resolve(op.noteId, op.at, 'start') ?? this.engine.textLength(op.noteId)
    if (op.text !== '')
      this.command((w) => {
        w.spliceText(op.noteId, at, 0, op.text)
        this.touch(w, op.noteId, true)
      }, false)
    if (deleted === '' && op.text === '') return
    back.push({
      t: 'text',
      noteId: op.noteId,
      at: this.engine.anchor(op.noteId, at + op.text.length),
      own: op.text === '' ? null : this.engine.insertion(op.noteId, at, op.text.length),
      text: deleted,
    })
  }

  private textEdit(
    w: EngineWriter,
    inv: Inverse[],
    id: string,
    index: number,
    deleteCount: number,
    insert: string,
    /** the `deleteCount` characters being replaced, for undo */
    removed: string,
  ): void {
    const typing = deleteCount === 0 && insert !== ''
    w.spliceText(id, index, deleteCount, insert, typing && this.typingIn === id)
    if (typing) this.typingNow = id
    this.touch(w, id, insert !== '')
    this.pendingAnchors.push({ id, index, length: insert.length, removed, inv })
  }

  private pendingAnchors: { id: string; index: number; length: number; removed: string; inv: Inverse[] }[] =
    []

  private pushUndo(step: Inverse[]): void {
    this.undoStack.push(step)
    if (this.undoStack.length > 500) this.undoStack.shift()
    if (!this.replaying) this.redoStack = []
  }

  /**
   * The writer, noting the cart keys it writes (CART-13): inside a batch the engine's change event
   * comes only at the end, and a command later in the batch reads the cart as the earlier ones left it.
   */
  private noting(w: EngineWriter): EngineWriter {
    const note = (map: MapName, key: string): void => {
      if (this.touched && (ITEM_MAPS as readonly string[]).includes(map))
        this.touched.push([map as ItemMap, key])
    }
    return {
      set: (map, key, value) => {
        note(map, key)
        w.set(map, key, value)
      },
      delete: (map, key) => {
        note(map, key)
        w.delete(map, key)
      },
      createText: (noteId, initial) => w.createText(noteId, initial),
      spliceText: (noteId, index, deleteCount, insert, continues) =>
        w.spliceText(noteId, index, deleteCount, insert, continues),
    }
  }

  /**
   * Runs one local command: refuses writes when read-only, writes in one engine transaction, and
   * records the inverse operations for undo (or hands them to `sink` while undoing).
   */
  private command(fn: (w: EngineWriter, inv: Inverse[]) => void, record = true, sink?: Inverse[]): void {
    this.assertWritable()
    const inv: Inverse[] = []
    this.typingNow = null
    try {
      this.engine.transact(this.origin, (w) => fn(this.noting(w), inv))
    } finally {
      // a run of typing goes on only from one keystroke command to the next (NOTE-2)
      this.typingIn = this.replaying ? null : this.typingNow
    }
    this.version++
    // text handles are taken after the edit, on the characters it inserted and the one after them
    for (const a of this.pendingAnchors.splice(0)) {
      a.inv.push({
        t: 'text',
        noteId: a.id,
        at: this.engine.anchor(a.id, a.index + a.length),
        own: a.length > 0 ? this.engine.insertion(a.id, a.index, a.length) : null,
        text: a.removed,
      })
    }
    if (sink) sink.push(...inv)
    else if (record && inv.length > 0) {
      if (this.group) this.group.push(...inv)
      else this.pushUndo(inv)
    }
  }

  /** SCH-2, SCH-3: a write is refused when the space is read-only. */
  private assertWritable(): void {
    if (this.schemaTooNew)
      throw new MergeError(
        'SchemaTooNew',
        `this space has schema ${this.schemaVersion}; this app knows ${SCHEMA_VERSION}: it is read-only here`,
      )
    if (this.forcedReadOnly) throw new MergeError('ReadOnly', 'this space is open read-only')
  }

  /** A command that has nothing to write: refused as any write when read-only; ends a run of typing. */
  private nothingToWrite(): void {
    this.assertWritable()
    this.typingIn = null
  }

  // ---------------------------------------------------------------- sync (DLV-*, BAD-*)

  stateVector(): Uint8Array {
    return this.engine.stateVector()
  }

  /** PROBE-1: a hash of the whole state, equal on replicas that hold the same state (digest.ts). */
  stateDigest(): Uint8Array {
    return this.engine.stateDigest()
  }

  /** DLV-4: per writer, how far this replica holds its changes (see `Engine.versionVector`). */
  versionVector(): ReadonlyMap<string, number> {
    return this.engine.versionVector()
  }

  /** Everything a peer with `stateVector` lacks; the whole document when omitted. */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return this.engine.encodeStateAsUpdate(stateVector)
  }

  /**
   * Applies a peer's update. Malformed, foreign or nonsensical updates throw a MergeError and change
   * nothing (BAD-1…7). `checks: 'structure'` skips BAD-7's domain rules: for what the server already
   * holds from before a rule existed (see sync-client SYNC-10).
   */
  applyUpdate(update: Uint8Array, origin: string = Origin.Remote, checks?: UpdateChecks): void {
    this.engine.applyUpdate(update, origin, checks)
  }

  /** Every change as an update to send on (local and remote), with its origin. */
  onUpdate(listener: (update: Uint8Array, e: ChangeEvent) => void): () => void {
    this.updateListeners.add(listener)
    return () => this.updateListeners.delete(listener)
  }

  subscribe(listener: (e: ChangeEvent) => void): () => void {
    this.subscribers.add(listener)
    return () => this.subscribers.delete(listener)
  }

  /** The whole state, canonically ordered: equal snapshots mean converged replicas. */
  snapshot(): SpaceSnapshot {
    const sorted = (m: MapName): [string, Scalar][] =>
      [...this.engine.entries(m)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const raw = {
      meta: sorted('meta'),
      items: sorted('items'),
      qty: sorted('qty'),
      tomb: sorted('tomb'),
      notes: sorted('notes'),
      bodies: [] as [string, string][],
    }
    const all = [...this.notes(), ...this.notes({ trashed: true })].sort((a, b) => (a.id < b.id ? -1 : 1))
    raw.bodies = all.map((n) => [n.id, n.body])
    const removed = [...this.rawItems().values()].filter((i) => i.quantity <= 0).map((i) => i.key)
    return {
      meta: Object.fromEntries(raw.meta),
      cart: this.items(),
      removed: removed.sort(),
      notes: all,
      raw,
    }
  }

  destroy(): void {
    this.unsubscribeEngine()
    this.subscribers.clear()
    this.updateListeners.clear()
    this.engine.destroy()
  }
}
