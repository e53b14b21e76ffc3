/**
 * An executable model of the merge contract (SPEC.md), in plain TypeScript with no CRDT library.
 *
 * The model works on *operations*, not on documents. Every command a replica runs becomes one
 * operation with its author and its causal context: the set of operations the author had integrated
 * when it ran the command. The model decides the command's effect the way the contract says, from
 * what the author had seen (an add of a line the author sees as absent starts a new life; a remove
 * records exactly the contributions it saw; an undo reverts only its own replica's writes), and then
 * predicts, for any set of operations a replica has integrated, the state that replica must show:
 *
 * - per item: visible or not and the exact quantity (CART-2 … CART-4, CART-8), and for every field
 *   the set of values allowed (CART-5: the winner among concurrent writes is the engine's choice);
 * - per note: the allowed titles and trash states, and the body as a set of surviving characters with
 *   order constraints (NOTE-2: whatever anyone saw in an order stays in that order; concurrent runs
 *   typed at one place do not interleave).
 *
 * Where the contract leaves a choice to the engine (the winner of concurrent writes, the order key a
 * move writes, the relative order of concurrent insertions), the model accepts what the replica shows
 * once it has checked that it is allowed, and uses it from then on. `check()` lists every way a
 * replica's state differs from the prediction. The property tests (`test/model.property.test.ts`)
 * drive real spaces and this model side by side; the sync and end-to-end suites can do the same.
 *
 * Text in the model: every character inserted through the model must be unique within a run (the
 * tests draw fresh code points), so a body string maps back to the characters that make it.
 */
import type { MapName, Scalar } from '../engine.js'
import type { MergeErrorKind } from '../errors.js'
import { MAX_QUANTITY } from '../model/counter.js'
import { SEP, displayName, normaliseName } from '../model/keys.js'

const fmt = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v))
const fmtAll = (vs: readonly unknown[]): string => `[${vs.map(fmt).join(', ')}]`

export type OpId = number
export type View = ReadonlySet<OpId>
type Reg = `${MapName}:${string}`
export type Value = Scalar | undefined

export const CART_FIELDS = [
  'name',
  'note',
  'unit',
  'priceCents',
  'category',
  'checkedBy',
  'order',
  'addedBy',
  'addedAt',
] as const
export type CartField = (typeof CART_FIELDS)[number]
type SettableField = 'name' | 'note' | 'unit' | 'priceCents' | 'category'

export type Command =
  | {
      readonly t: 'add'
      readonly name: string
      readonly quantity: number
      readonly fields?: Partial<Record<SettableField, Scalar>>
      /** CART-11: who adds it. */
      readonly by?: string
    }
  | { readonly t: 'increment' | 'decrement'; readonly key: string; readonly by: number }
  | { readonly t: 'remove'; readonly key: string }
  | { readonly t: 'setField'; readonly key: string; readonly field: SettableField; readonly value: Scalar }
  | { readonly t: 'check'; readonly key: string; readonly by: string }
  | { readonly t: 'uncheck'; readonly key: string }
  | { readonly t: 'move'; readonly key: string; readonly toIndex: number }
  | { readonly t: 'rename'; readonly name: string }
  | { readonly t: 'createNote'; readonly id: string; readonly title: string; readonly body: string }
  | { readonly t: 'renameNote'; readonly id: string; readonly title: string }
  | {
      readonly t: 'editNote'
      readonly id: string
      readonly index: number
      readonly deleteCount: number
      readonly insert: string
    }
  | { readonly t: 'trashNote' | 'restoreNote'; readonly id: string }
  | { readonly t: 'pinNote' | 'unpinNote'; readonly id: string }
  | { readonly t: 'setCurrency'; readonly code: string | null }
  | { readonly t: 'setMember'; readonly id: string; readonly name: string; readonly color: string }
  | { readonly t: 'undo' | 'redo' }

/** What a replica shows, read through its public surface and its raw registers. */
export interface Observer {
  /** A raw register of the document layout (SPEC.md): `register('items', 'milk␟note')`. */
  register(map: MapName, key: string): Value
  /** The body of a note as the replica shows it ('' when it has none). */
  body(noteId: string): string
  /** The keys of the visible lines, in the replica's order. */
  order(): readonly string[]
  /** The quantity a visible line shows. */
  quantity(key: string): number
}

/** The model's expectation for one command, before it runs. */
export interface Planned {
  /** 'ok', or the MergeError kind the command must throw (and then change nothing). */
  readonly expect: 'ok' | MergeErrorKind
  /**
   * Whether the command must produce an update (a change) when it succeeds; 'maybe' when that depends
   * on a value the engine chooses (a move to where the line already is writes nothing).
   */
  readonly writes: boolean | 'maybe'
  /**
   * Records the operation, given the replica right after the command, or `null` when the command
   * (which succeeded) produced no change. Returns the violations found.
   */
  commit(after: Observer | null): string[]
}

// ------------------------------------------------------------------------------------------ effects

interface Contribution {
  readonly id: number
  readonly op: OpId
  readonly item: string
  readonly life: string
  readonly replica: string
  readonly plus: number
  readonly minus: number
}
interface Tomb {
  readonly op: OpId
  readonly item: string
  readonly seen: ReadonlySet<number>
}
interface Write {
  readonly op: OpId
  readonly reg: Reg
  readonly value: Value
}
interface Elem {
  readonly id: number
  readonly ch: string
  readonly op: OpId
}
interface Run {
  readonly replica: string
  readonly note: string
  /** The element left of where the run started (-1: the start of the body). */
  readonly place: number
  readonly ops: OpId[]
  readonly elems: number[]
  first: number
  last: number
}
interface Op {
  readonly id: OpId
  readonly replica: string
  readonly ctx: View
  readonly contributions: Contribution[]
  readonly tombs: Tomb[]
  readonly writes: Write[]
  readonly inserts: { note: string; elems: Elem[] }[]
  readonly deletes: { note: string; elems: number[] }[]
}

/** An entry of an undo step: applying it gives the effects of the undo, and the entry for redo. */
type Inverse =
  | {
      readonly t: 'count'
      readonly item: string
      readonly life: string
      readonly plus: number
      readonly minus: number
    }
  | {
      readonly t: 'restore'
      readonly item: string
      readonly quantity: number
      readonly lives: readonly string[]
    }
  | { readonly t: 'write'; readonly reg: Reg; readonly value: Value; readonly expect: Value }
  | {
      readonly t: 'text'
      readonly note: string
      readonly unInsert: readonly number[]
      readonly reInsert: string
    }

interface Draft {
  readonly contributions: Omit<Contribution, 'id' | 'op' | 'replica'>[]
  readonly tombs: Omit<Tomb, 'op'>[]
  readonly writes: Omit<Write, 'op'>[]
  readonly inserts: {
    note: string
    chars: string[]
    undoable: boolean
    typing?: { left: number; right: number }
  }[]
  readonly deletes: { note: string; elems: number[] }[]
  readonly inverses: Inverse[]
  /** Order registers whose value the engine chooses: recorded from the replica after the command. */
  readonly chosenOrder: { key: string; inverse: boolean; was: Value }[]
  /** Note registers the replica's clock fills in (creation, trash): recorded after the command. */
  readonly chosenNote: { note: string; kind: 'create' | 'trash'; was: Value }[]
  /**
   * Other registers the replica's clock fills in (CART-11 addedAt, NOTE-4 pinnedAt, PEOPLE-1
   * seenAt): recorded after the command. `optional`: the replica may leave it as it was.
   */
  readonly chosenTime: { reg: Reg; was: Value; inverse: boolean; optional: boolean }[]
  /** Text whose new characters the engine places (undo / redo): checked and recorded after. */
  readonly placed: { note: string; chars: string[] }[]
  readonly checks: ((after: Observer) => string[])[]
  /** Undo history entries of ended lives that move to a restored one (applied when committed). */
  readonly retarget: { item: string; lives: readonly string[]; life: string }[]
}

const reg = (map: MapName, key: string): Reg => `${map}:${key}`
const regParts = (r: Reg): [MapName, string] => {
  const i = r.indexOf(':')
  return [r.slice(0, i) as MapName, r.slice(i + 1)]
}
const itemReg = (item: string, field: string): Reg => reg('items', `${item}${SEP}${field}`)
const noteReg = (note: string, field: string): Reg => reg('notes', `${note}${SEP}${field}`)

const codePoints = (s: string): string[] => [...s]
const isTime = (v: Value): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 8.64e15

const lifeEpoch = (life: string): number => (life === '0' ? 0 : Number(life.slice(0, life.indexOf('.'))))

export interface LifePrediction {
  readonly life: string
  readonly epoch: number
  readonly ended: boolean
  readonly amount: number
}

export interface ItemPrediction {
  readonly key: string
  readonly quantity: number
  readonly lives: readonly LifePrediction[]
}

/** The state the contract implies for a replica that has integrated exactly `view`. */
export class Prediction {
  constructor(
    private readonly model: ContractModel,
    readonly view: View,
  ) {}

  /** Every item with a counter in view, visible or not. */
  item(key: string): ItemPrediction {
    return this.model.quantityOf(key, this.view)
  }

  visibleItems(): string[] {
    return this.model.itemKeys().filter((k) => this.item(k).quantity > 0)
  }

  /** The values a register may show: those of the writes no other write in view has seen. */
  allowed(map: MapName, key: string): Value[] {
    return this.model.allowed(reg(map, key), this.view)
  }

  noteExists(id: string): boolean {
    return this.allowed('notes', `${id}${SEP}createdAt`).some((v) => typeof v === 'number')
  }

  noteIds(): string[] {
    return this.model.noteIds().filter((id) => this.noteExists(id))
  }
}

/**
 * The model. One instance follows one space: `initial()` records what every replica starts with,
 * `plan()` / `commit()` record each command, `predict(view)` and `check()` compare.
 */
export class ContractModel {
  private readonly ops: Op[] = []
  private readonly contributionsByItem = new Map<string, Contribution[]>()
  private readonly contributionById = new Map<number, Contribution>()
  private readonly tombsByItem = new Map<string, Tomb[]>()
  private readonly writesByReg = new Map<Reg, Write[]>()
  private readonly elems = new Map<string, Elem[]>() // note → every element ever inserted
  private readonly elemById = new Map<number, Elem>()
  private readonly deletedBy = new Map<number, OpId[]>() // element → ops that deleted it
  private readonly observations = new Map<string, number[][]>() // note → orders someone saw
  private readonly runs = new Map<string, Run[]>()
  private readonly undo = new Map<string, Inverse[][]>()
  private readonly redo = new Map<string, Inverse[][]>()
  private readonly lastRun = new Map<string, Run | null>() // replica → the run its last command extended
  private nextId = 0

  // -------------------------------------------------------------------------------- predictions

  itemKeys(): string[] {
    return [...this.contributionsByItem.keys()]
  }

  noteIds(): string[] {
    const ids = new Set<string>()
    for (const r of this.writesByReg.keys()) {
      const [map, key] = regParts(r)
      if (map === 'notes' && key.endsWith(`${SEP}createdAt`)) ids.add(key.slice(0, key.indexOf(SEP)))
    }
    return [...ids]
  }

  /** The meta registers anyone wrote through the model: the name, currency, people (never set-once keys). */
  metaKeys(): string[] {
    const keys = new Set(['name'])
    for (const r of this.writesByReg.keys()) {
      const [map, key] = regParts(r)
      if (map === 'meta') keys.add(key)
    }
    return [...keys]
  }

  predict(view: View): Prediction {
    return new Prediction(this, view)
  }

  /**
   * CART-2 … CART-4 in terms of operations: per life, the contributions no remove in view saw,
   * never less than 0; the quantity is their sum.
   */
  quantityOf(item: string, view: View): ItemPrediction {
    const contributions = (this.contributionsByItem.get(item) ?? []).filter((c) => view.has(c.op))
    const observed = new Set<number>()
    const ended = new Set<string>()
    for (const t of this.tombsByItem.get(item) ?? []) {
      if (!view.has(t.op)) continue
      for (const id of t.seen) {
        observed.add(id)
        const c = this.contributionById.get(id)
        if (c) ended.add(c.life)
      }
    }
    const leftover = new Map<string, number>()
    for (const c of contributions) {
      const prev = leftover.get(c.life) ?? 0
      leftover.set(c.life, observed.has(c.id) ? prev : prev + c.plus - c.minus)
    }
    const lives: LifePrediction[] = []
    let quantity = 0
    for (const [life, left] of leftover) {
      const isEnded = ended.has(life)
      const amount = Math.max(0, left)
      quantity += amount
      lives.push({ life, epoch: lifeEpoch(life), ended: isEnded, amount })
    }
    return { key: item, quantity, lives }
  }

  allowed(r: Reg, view: View): Value[] {
    // one write per operation and register: the last one it made
    const byOp = new Map<OpId, Write>()
    for (const w of this.writesByReg.get(r) ?? []) if (view.has(w.op)) byOp.set(w.op, w)
    const writes = [...byOp.values()]
    if (writes.length === 0) return [undefined]
    const maximal = writes.filter((w) => !writes.some((o) => o !== w && this.ops[o.op]!.ctx.has(w.op)))
    return [...new Set(maximal.map((w) => w.value))]
  }

  /** The live elements of a body in view. */
  private liveElems(note: string, view: View): Elem[] {
    return (this.elems.get(note) ?? []).filter(
      (e) => view.has(e.op) && !(this.deletedBy.get(e.id) ?? []).some((op) => view.has(op)),
    )
  }

  /**
   * Maps a body string to the live elements it shows. Returns null and a reason when the body does not
   * hold exactly the live characters.
   */
  private mapBody(note: string, view: View, body: string): { ids: (number | null)[]; error?: string } {
    const live = this.liveElems(note, view)
    const byChar = new Map<string, Elem[]>()
    for (const e of live) byChar.set(e.ch, [...(byChar.get(e.ch) ?? []), e])
    const chars = codePoints(body)
    const counts = new Map<string, number>()
    for (const ch of chars) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    const want = [...byChar].map(([ch, es]) => [ch, es.length] as const)
    const missing = want.filter(([ch, n]) => (counts.get(ch) ?? 0) < n).map(([ch]) => ch)
    const extra = [...counts].filter(([ch, n]) => (byChar.get(ch)?.length ?? 0) < n).map(([ch]) => ch)
    const ids = chars.map((ch) => {
      const es = byChar.get(ch)
      return es && es.length === 1 ? es[0]!.id : null // a character shown twice (a re-insertion) is ambiguous
    })
    if (missing.length > 0 || extra.length > 0)
      return {
        ids,
        error: `body of ${note}: ${missing.length} character(s) missing ${JSON.stringify(missing.join(''))}, ${extra.length} unexpected ${JSON.stringify(extra.join(''))}; body ${JSON.stringify(body)}`,
      }
    return { ids }
  }

  /** Everything about a replica that the contract fixes, compared with what it shows. */
  check(view: View, obs: Observer, label = 'replica'): string[] {
    const out: string[] = []
    const p = this.predict(view)
    // the cart: exactly the visible lines, each with its quantity and allowed fields
    const visible = p.visibleItems().sort()
    const shown = [...obs.order()].sort()
    if (JSON.stringify(visible) !== JSON.stringify(shown))
      out.push(
        `${label}: visible lines ${JSON.stringify(shown)}, the contract says ${JSON.stringify(visible)}`,
      )
    for (const key of visible) {
      const want = p.item(key).quantity
      if (shown.includes(key) && obs.quantity(key) !== want)
        out.push(`${label}: ${key} shows quantity ${obs.quantity(key)}, the contract says ${want}`)
      for (const f of CART_FIELDS) {
        const allowed = p.allowed('items', `${key}${SEP}${f}`)
        const v = obs.register('items', `${key}${SEP}${f}`)
        if (!allowed.includes(v)) out.push(`${label}: ${key}.${f} is ${fmt(v)}, allowed ${fmtAll(allowed)}`)
      }
    }
    // the space's registers: its name, currency (SPACE-1) and people (PEOPLE-1)
    for (const key of this.metaKeys()) {
      const allowed = p.allowed('meta', key)
      const v = obs.register('meta', key)
      if (!allowed.includes(v))
        out.push(`${label}: meta ${JSON.stringify(key)} is ${fmt(v)}, allowed ${fmtAll(allowed)}`)
    }
    // notes: title and trash registers, and the body
    for (const id of p.noteIds()) {
      for (const f of ['title', 'trashedAt', 'pinnedAt']) {
        const allowed = p.allowed('notes', `${id}${SEP}${f}`)
        const v = obs.register('notes', `${id}${SEP}${f}`)
        if (!allowed.includes(v))
          out.push(`${label}: note ${id}.${f} is ${fmt(v)}, allowed ${fmtAll(allowed)}`)
      }
      out.push(...this.checkBody(id, view, obs.body(id), label))
    }
    return out
  }

  private checkBody(note: string, view: View, body: string, label: string): string[] {
    const out: string[] = []
    const mapped = this.mapBody(note, view, body)
    if (mapped.error) return [`${label}: ${mapped.error}`]
    const pos = new Map<number, number>()
    mapped.ids.forEach((id, i) => {
      if (id !== null) pos.set(id, i)
    })
    // NOTE-2: what anyone saw in an order stays in that order
    for (const seq of this.observations.get(note) ?? []) {
      let last = -1
      let lastId = -1
      for (const id of seq) {
        const at = pos.get(id)
        if (at === undefined) continue
        if (at < last) {
          out.push(
            `${label}: in ${note}, ${JSON.stringify(this.elemById.get(id)?.ch)} now stands before ${JSON.stringify(this.elemById.get(lastId)?.ch)}, which someone saw after it; body ${JSON.stringify(body)}`,
          )
          break
        }
        last = at
        lastId = id
      }
    }
    // NOTE-2: concurrent runs typed at one place do not interleave
    const runs = this.runs.get(note) ?? []
    for (let i = 0; i < runs.length; i++)
      for (let j = i + 1; j < runs.length; j++) {
        const a = runs[i]!
        const b = runs[j]!
        if (a.replica === b.replica || a.place !== b.place || !this.concurrent(a.ops, b.ops)) continue
        const tagged = [
          ...a.elems.map((id) => [pos.get(id), 'a'] as const),
          ...b.elems.map((id) => [pos.get(id), 'b'] as const),
        ]
          .filter((x): x is readonly [number, 'a' | 'b'] => x[0] !== undefined)
          .sort((x, y) => x[0] - y[0])
          .map((x) => x[1])
        let changes = 0
        for (let k = 1; k < tagged.length; k++) if (tagged[k] !== tagged[k - 1]) changes++
        if (changes > 1)
          out.push(
            `${label}: in ${note}, two runs typed concurrently at one place interleave (${tagged.join('')}): ${JSON.stringify(a.elems.map((id) => this.elemById.get(id)?.ch).join(''))} and ${JSON.stringify(b.elems.map((id) => this.elemById.get(id)?.ch).join(''))}; body ${JSON.stringify(body)}`,
          )
      }
    return out
  }

  private concurrent(a: readonly OpId[], b: readonly OpId[]): boolean {
    return a.every((x) => b.every((y) => !this.ops[y]!.ctx.has(x) && !this.ops[x]!.ctx.has(y)))
  }

  // -------------------------------------------------------------------------------- recording

  /** Records an operation every replica starts with (the space's creation), without checks. */
  initial(replica: string, cmd: Command, after: Observer): void {
    const nothing: Observer = {
      register: () => undefined,
      body: () => '',
      order: () => [],
      quantity: () => 0,
    }
    const planned = this.plan(replica, new Set(), cmd, nothing)
    planned.commit(after)
    this.undo.set(replica, [])
  }

  /**
   * What the contract expects of `cmd` run on `replica` that has integrated `ctx`, with `before` its
   * state right now. Call `commit(after)` once it ran without an error.
   */
  plan(replica: string, ctx: View, cmd: Command, before: Observer): Planned {
    const draft: Draft = {
      contributions: [],
      tombs: [],
      writes: [],
      inserts: [],
      deletes: [],
      inverses: [],
      chosenOrder: [],
      chosenNote: [],
      chosenTime: [],
      placed: [],
      checks: [],
      retarget: [],
    }
    const fail = (kind: MergeErrorKind): Planned => ({ expect: kind, writes: false, commit: () => [] })
    // a command that succeeds without changing anything still ends a run of typing (NOTE-2)
    const nothing: Planned = {
      expect: 'ok',
      writes: false,
      commit: () => {
        this.lastRun.set(replica, null)
        return []
      },
    }
    const undoStack = this.undo.get(replica) ?? []
    const redoStack = this.redo.get(replica) ?? []
    let isHistory = false

    // a write of the value a register already shows writes nothing (on both engines)
    const write = (r: Reg, value: Value, inverse = true): void => {
      const [map, key] = regParts(r)
      const old = before.register(map, key)
      if (old === value) return
      draft.writes.push({ reg: r, value })
      if (inverse) draft.inverses.push({ t: 'write', reg: r, value: old, expect: value })
    }
    const visibleOrFail = (key: string): ItemPrediction | null => {
      const q = this.quantityOf(key, ctx)
      return q.quantity > 0 ? q : null
    }

    switch (cmd.t) {
      case 'add': {
        let key: string
        try {
          key = normaliseName(cmd.name)
        } catch {
          return fail('InvalidArgument')
        }
        if (!Number.isSafeInteger(cmd.quantity) || cmd.quantity <= 0 || cmd.quantity > MAX_QUANTITY)
          return fail('InvalidArgument')
        const q = this.quantityOf(key, ctx)
        if (q.quantity > 0 && q.quantity + cmd.quantity > MAX_QUANTITY) return fail('InvalidArgument')
        // CART-3: every add is a life of its own, so it keeps exactly what it added; CART-4: a line its
        // author sees as absent is first removed as seen, so nothing it had carries over
        if (q.quantity <= 0) this.observeRemove(key, ctx, draft)
        const life = this.newLife(q, replica)
        draft.contributions.push({ item: key, life, plus: cmd.quantity, minus: 0 })
        draft.inverses.push({ t: 'count', item: key, life, plus: 0, minus: cmd.quantity })
        if (q.quantity <= 0) {
          if (before.register('items', `${key}${SEP}name`) === undefined)
            write(itemReg(key, 'name'), displayName(cmd.name).slice(0, 1000), false)
          draft.chosenOrder.push({ key, inverse: false, was: before.register('items', `${key}${SEP}order`) })
          // CART-11: who brought it back (no one, when the add names no one), and when
          const by = cmd.by === undefined ? null : displayName(cmd.by).slice(0, 200) || null
          const was = before.register('items', `${key}${SEP}addedBy`)
          if (!(was === undefined && by === null)) write(itemReg(key, 'addedBy'), by, false)
          draft.chosenTime.push({
            reg: itemReg(key, 'addedAt'),
            was: before.register('items', `${key}${SEP}addedAt`),
            inverse: false,
            // a clock that reads the time the register holds already writes nothing (CART-5)
            optional: true,
          })
          draft.checks.push((after) => {
            const order = after.order()
            return order[order.length - 1] === key
              ? []
              : [`an added line goes to the end: ${key} is not last in ${JSON.stringify(order)}`]
          })
        }
        // CART-1: an add puts a line the author sees as checked back on the list; it writes nothing else it did not set
        if (typeof before.register('items', `${key}${SEP}checkedBy`) === 'string')
          write(itemReg(key, 'checkedBy'), null)
        for (const [f, v] of Object.entries(cmd.fields ?? {})) write(itemReg(key, f), v)
        break
      }
      case 'increment':
      case 'decrement': {
        const q = visibleOrFail(cmd.key)
        if (!q) return fail('NotFound')
        if (!Number.isSafeInteger(cmd.by) || cmd.by <= 0 || cmd.by > MAX_QUANTITY)
          return fail('InvalidArgument')
        const targets = this.targets(q)
        if (cmd.t === 'increment') {
          if (q.quantity + cmd.by > MAX_QUANTITY) return fail('InvalidArgument')
          draft.contributions.push({ item: cmd.key, life: targets[0]!.life, plus: cmd.by, minus: 0 })
          draft.inverses.push({ t: 'count', item: cmd.key, life: targets[0]!.life, plus: 0, minus: cmd.by })
        } else {
          let left = cmd.by
          const takes = new Map<string, number>()
          for (const l of targets) {
            if (left === 0) break
            const take = Math.min(left, l.amount)
            takes.set(l.life, take)
            left -= take
          }
          if (left > 0) takes.set(targets[0]!.life, (takes.get(targets[0]!.life) ?? 0) + left)
          for (const [life, take] of takes) {
            draft.contributions.push({ item: cmd.key, life, plus: 0, minus: take })
            draft.inverses.push({ t: 'count', item: cmd.key, life, plus: take, minus: 0 })
          }
        }
        break
      }
      case 'remove': {
        const q = visibleOrFail(cmd.key)
        if (!q) return fail('NotFound')
        this.observeRemove(cmd.key, ctx, draft)
        draft.inverses.push({
          t: 'restore',
          item: cmd.key,
          quantity: q.quantity,
          lives: q.lives.map((l) => l.life),
        })
        break
      }
      case 'setField': {
        if (!visibleOrFail(cmd.key)) return fail('NotFound')
        if (cmd.field === 'name') {
          let same: boolean
          try {
            same = typeof cmd.value === 'string' && normaliseName(cmd.value) === cmd.key
          } catch {
            same = false
          }
          if (!same) return fail('InvalidArgument')
        }
        write(itemReg(cmd.key, cmd.field), cmd.value)
        break
      }
      case 'check':
      case 'uncheck':
        if (!visibleOrFail(cmd.key)) return fail('NotFound')
        write(itemReg(cmd.key, 'checkedBy'), cmd.t === 'check' ? cmd.by.slice(0, 200) : null)
        break
      case 'move': {
        if (!visibleOrFail(cmd.key)) return fail('NotFound')
        if (!Number.isSafeInteger(cmd.toIndex) || cmd.toIndex < 0) return fail('InvalidArgument')
        draft.chosenOrder.push(
          ...before.order().map((key) => ({
            key,
            inverse: true,
            was: before.register('items', `${key}${SEP}order`),
          })),
        )
        draft.checks.push((after) => {
          const order = after.order()
          const want = Math.min(cmd.toIndex, order.length - 1)
          return order[want] === cmd.key
            ? []
            : [
                `a move of ${cmd.key} to ${cmd.toIndex} left it at ${order.indexOf(cmd.key)} of ${JSON.stringify(order)}`,
              ]
        })
        break
      }
      case 'rename':
        write(reg('meta', 'name'), displayName(cmd.name).slice(0, 200))
        break
      case 'createNote': {
        if (!/^[0-9a-z_-]{1,64}$/.test(cmd.id)) return fail('InvalidArgument')
        if (typeof before.register('notes', `${cmd.id}${SEP}createdAt`) === 'number')
          return fail('InvalidArgument')
        write(noteReg(cmd.id, 'title'), cmd.title.slice(0, 10_000), false)
        draft.chosenNote.push({ note: cmd.id, kind: 'create', was: undefined }) // createdAt, createdBy: the replica's clock and id
        if (cmd.body !== '')
          draft.inserts.push({
            note: cmd.id,
            chars: codePoints(cmd.body),
            undoable: false,
            typing: { left: -1, right: -1 },
          })
        break
      }
      case 'renameNote':
        if (typeof before.register('notes', `${cmd.id}${SEP}createdAt`) !== 'number') return fail('NotFound')
        write(noteReg(cmd.id, 'title'), cmd.title.slice(0, 10_000))
        break
      case 'trashNote':
      case 'restoreNote':
        if (typeof before.register('notes', `${cmd.id}${SEP}createdAt`) !== 'number') return fail('NotFound')
        if (cmd.t === 'trashNote')
          draft.chosenNote.push({
            note: cmd.id,
            kind: 'trash',
            was: before.register('notes', `${cmd.id}${SEP}trashedAt`),
          })
        else write(noteReg(cmd.id, 'trashedAt'), null)
        break
      case 'pinNote': {
        if (typeof before.register('notes', `${cmd.id}${SEP}createdAt`) !== 'number') return fail('NotFound')
        const was = before.register('notes', `${cmd.id}${SEP}pinnedAt`)
        if (isTime(was)) return nothing // NOTE-4: a pinned note keeps its place
        draft.chosenTime.push({ reg: noteReg(cmd.id, 'pinnedAt'), was, inverse: true, optional: false })
        break
      }
      case 'unpinNote': {
        if (typeof before.register('notes', `${cmd.id}${SEP}createdAt`) !== 'number') return fail('NotFound')
        const was = before.register('notes', `${cmd.id}${SEP}pinnedAt`)
        if (was === undefined || was === null) return nothing
        write(noteReg(cmd.id, 'pinnedAt'), null)
        break
      }
      case 'setCurrency':
        // SPACE-1
        if (cmd.code !== null && !/^[A-Z]{3}$/.test(cmd.code)) return fail('InvalidArgument')
        write(reg('meta', 'currency'), cmd.code)
        break
      case 'setMember': {
        // PEOPLE-1: only what changes, and seenAt; never on the undo stack
        const name = displayName(cmd.name)
        if (!/^[0-9a-z_-]{1,64}$/.test(cmd.id) || name === '' || name.length > 200)
          return fail('InvalidArgument')
        if (!/^#[0-9a-f]{6}$/i.test(cmd.color)) return fail('InvalidArgument')
        const color = cmd.color.toLowerCase()
        const person = (f: string): string => `person${SEP}${cmd.id}${SEP}${f}`
        const changes =
          before.register('meta', person('name')) !== name ||
          before.register('meta', person('color')) !== color
        write(reg('meta', person('name')), name, false)
        write(reg('meta', person('color')), color, false)
        const seen = before.register('meta', person('seenAt'))
        draft.chosenTime.push({
          reg: reg('meta', person('seenAt')),
          was: seen,
          inverse: false,
          // the clock decides whether an hour has passed; a record never seen gets its seenAt now
          optional: changes || isTime(seen),
        })
        break
      }
      case 'editNote': {
        if (typeof before.register('notes', `${cmd.id}${SEP}createdAt`) !== 'number') return fail('NotFound')
        const body = before.body(cmd.id)
        const { index, deleteCount, insert } = cmd
        if (!Number.isSafeInteger(index) || index < 0 || index > body.length) return fail('InvalidArgument')
        if (!Number.isSafeInteger(deleteCount) || deleteCount < 0 || index + deleteCount > body.length)
          return fail('InvalidArgument')
        const splits = (i: number): boolean =>
          i > 0 && i < body.length && /[\ud800-\udbff]/.test(body[i - 1]!) && /[\udc00-\udfff]/.test(body[i]!)
        if (splits(index) || splits(index + deleteCount)) return fail('InvalidArgument')
        if (deleteCount === 0 && insert === '') return nothing
        const mapped = this.mapBody(cmd.id, ctx, body)
        if (mapped.error)
          return { expect: 'ok', writes: true, commit: () => [`before an edit: ${mapped.error}`] }
        // UTF-16 index → code point index
        const cpIndex = codePoints(body.slice(0, index)).length
        const cpDelete = codePoints(body.slice(index, index + deleteCount)).length
        const removed = mapped.ids.slice(cpIndex, cpIndex + cpDelete)
        if (removed.some((id) => id === null))
          return {
            expect: 'ok',
            writes: true,
            commit: () => [`an edit of ${cmd.id} deletes a character shown twice`],
          }
        if (removed.length > 0) draft.deletes.push({ note: cmd.id, elems: removed as number[] })
        if (insert !== '')
          draft.inserts.push({
            note: cmd.id,
            chars: codePoints(insert),
            undoable: true,
            ...(deleteCount === 0
              ? { typing: { left: mapped.ids[cpIndex - 1] ?? -1, right: mapped.ids[cpIndex] ?? -1 } }
              : {}),
          })
        draft.checks.push((after) => {
          const want = body.slice(0, index) + insert + body.slice(index + deleteCount)
          const got = after.body(cmd.id)
          return got === want
            ? []
            : [
                `an edit of ${cmd.id} shows ${JSON.stringify(got)} where the author must see ${JSON.stringify(want)}`,
              ]
        })
        draft.inverses.push({
          t: 'text',
          note: cmd.id,
          unInsert: [],
          reInsert: body.slice(index, index + deleteCount),
        })
        break
      }
      case 'undo':
      case 'redo': {
        isHistory = true
        const from = cmd.t === 'undo' ? undoStack : redoStack
        const step = from[from.length - 1]
        if (!step) return nothing
        for (const inv of [...step].reverse()) this.applyInverse(replica, ctx, inv, before, draft)
        break
      }
    }

    const definite =
      draft.contributions.length +
        draft.tombs.length +
        draft.writes.length +
        draft.inserts.length +
        draft.deletes.length >
        0 ||
      draft.chosenNote.length > 0 ||
      draft.chosenTime.some((c) => !c.optional) ||
      draft.placed.length > 0
    const writes = definite
      ? true
      : draft.chosenOrder.length > 0 || draft.chosenTime.length > 0
        ? 'maybe'
        : false
    return {
      expect: 'ok',
      writes,
      commit: (after) => {
        if (after === null) {
          if (definite) return [`${cmd.t} must change something`]
          this.lastRun.set(replica, null)
          // an undo whose every entry had been overwritten by someone else is spent all the same
          if (isHistory) (cmd.t === 'undo' ? undoStack : redoStack).pop()
          return []
        }
        const problems = this.record(replica, ctx, cmd, draft, before, after)
        if (isHistory) {
          const [from, to] = cmd.t === 'undo' ? [undoStack, redoStack] : [redoStack, undoStack]
          from.pop()
          for (const { item, lives, life } of draft.retarget)
            for (const stack of [undoStack, redoStack])
              for (const step of stack)
                step.forEach((e, i) => {
                  if (e.t === 'count' && e.item === item && lives.includes(e.life)) step[i] = { ...e, life }
                })
          if (draft.inverses.length > 0) to.push(draft.inverses)
        } else {
          // a command that records nothing to undo (PEOPLE-1 bookkeeping) leaves the redo stack too
          if (draft.inverses.length > 0) {
            undoStack.push(draft.inverses)
            if (undoStack.length > 500) undoStack.shift()
            redoStack.length = 0
          }
        }
        this.undo.set(replica, undoStack)
        this.redo.set(replica, redoStack)
        return problems
      },
    }
  }

  /** Lives that take an increment or a decrement, in the contract's order (CART-2). */
  private targets(q: ItemPrediction): LifePrediction[] {
    return q.lives
      .filter((l) => l.amount > 0)
      .sort((a, b) =>
        a.ended !== b.ended
          ? a.ended
            ? 1
            : -1
          : b.epoch - a.epoch || (a.life < b.life ? 1 : a.life > b.life ? -1 : 0),
      )
  }

  private newLife(q: ItemPrediction, replica: string): string {
    return `${Math.max(0, ...q.lives.map((l) => l.epoch)) + 1}.${replica}`
  }

  /** CART-3: a remove records exactly the contributions its author had integrated. */
  private observeRemove(item: string, ctx: View, draft: Draft): void {
    const seen = (this.contributionsByItem.get(item) ?? []).filter((c) => ctx.has(c.op)).map((c) => c.id)
    if (seen.length > 0) draft.tombs.push({ item, seen: new Set(seen) })
  }

  /** UNDO-1 … UNDO-3, CART-10: what one entry of an undo step does, and the entry that redoes it. */
  private applyInverse(replica: string, ctx: View, inv: Inverse, before: Observer, draft: Draft): void {
    switch (inv.t) {
      case 'count':
        draft.contributions.push({ item: inv.item, life: inv.life, plus: inv.plus, minus: inv.minus })
        draft.inverses.push({ ...inv, plus: inv.minus, minus: inv.plus })
        return
      case 'restore': {
        // undo of a remove gives back what it took away, as a new life: nothing anyone added since is touched
        const life = this.newLife(this.quantityOf(inv.item, ctx), replica)
        draft.contributions.push({ item: inv.item, life, plus: inv.quantity, minus: 0 })
        draft.inverses.push({ t: 'count', item: inv.item, life, plus: 0, minus: inv.quantity })
        // the replica's own contributions that remove ended now stand in the new life (see Space)
        draft.retarget.push({ item: inv.item, lives: inv.lives, life })
        return
      }
      case 'write': {
        const [map, key] = regParts(inv.reg)
        // only a value this replica wrote and nobody has overwritten is reverted
        if (before.register(map, key) !== inv.expect || inv.value === inv.expect) return
        draft.writes.push({ reg: inv.reg, value: inv.value })
        draft.inverses.push({ t: 'write', reg: inv.reg, value: inv.expect, expect: inv.value })
        return
      }
      case 'text': {
        const live = new Set(this.liveElems(inv.note, ctx).map((e) => e.id))
        const gone = inv.unInsert.filter((id) => live.has(id))
        if (gone.length > 0) draft.deletes.push({ note: inv.note, elems: gone })
        const body = before.body(inv.note)
        const mapped = this.mapBody(inv.note, ctx, body)
        const removedText = mapped.ids
          .filter((id): id is number => id !== null && gone.includes(id))
          .map((id) => this.elemById.get(id)!.ch)
          .join('')
        if (inv.reInsert !== '') draft.placed.push({ note: inv.note, chars: codePoints(inv.reInsert) })
        if (gone.length === 0 && inv.reInsert === '') return
        draft.inverses.push({ t: 'text', note: inv.note, unInsert: [], reInsert: removedText })
        return
      }
    }
  }

  private record(
    replica: string,
    ctx: View,
    cmd: Command,
    draft: Draft,
    before: Observer,
    after: Observer,
  ): string[] {
    const problems: string[] = []
    const id = this.ops.length
    const op: Op = {
      id,
      replica,
      ctx: new Set(ctx),
      contributions: [],
      tombs: [],
      writes: [],
      inserts: [],
      deletes: [],
    }
    this.ops.push(op)
    for (const c of draft.contributions) {
      const full: Contribution = { ...c, id: this.nextId++, op: id, replica }
      op.contributions.push(full)
      this.contributionById.set(full.id, full)
      this.contributionsByItem.set(c.item, [...(this.contributionsByItem.get(c.item) ?? []), full])
    }
    for (const t of draft.tombs) {
      const full: Tomb = { ...t, op: id }
      op.tombs.push(full)
      this.tombsByItem.set(t.item, [...(this.tombsByItem.get(t.item) ?? []), full])
    }
    const addWrite = (r: Reg, value: Value): void => {
      const w: Write = { op: id, reg: r, value }
      op.writes.push(w)
      this.writesByReg.set(r, [...(this.writesByReg.get(r) ?? []), w])
    }
    for (const w of draft.writes) addWrite(w.reg, w.value)
    // values the engine or the replica's clock chose, read back from the replica
    // (`before` is the replica itself, already changed: what it held before was captured in `plan`)
    for (const { note, kind, was } of draft.chosenNote) {
      if (kind === 'create') {
        for (const f of ['createdAt', 'createdBy', 'updatedAt'])
          addWrite(noteReg(note, f), after.register('notes', `${note}${SEP}${f}`))
        const t = after.register('notes', `${note}${SEP}createdAt`)
        if (typeof t !== 'number') problems.push(`createNote ${note}: no createdAt after it`)
        // undo of a creation trashes the note (DEL-1), unless someone trashed or restored it since
        draft.inverses.push({ t: 'write', reg: noteReg(note, 'trashedAt'), value: t, expect: undefined })
      } else {
        const v = after.register('notes', `${note}${SEP}trashedAt`)
        if (typeof v !== 'number') problems.push(`trashNote ${note}: trashedAt is ${JSON.stringify(v)}`)
        addWrite(noteReg(note, 'trashedAt'), v)
        draft.inverses.push({
          t: 'write',
          reg: noteReg(note, 'trashedAt'),
          value: was,
          expect: v,
        })
      }
    }
    for (const { reg: r, was, inverse, optional } of draft.chosenTime) {
      const [map, key] = regParts(r)
      const now = after.register(map, key)
      if (now === was) {
        if (!optional) problems.push(`${cmd.t}: ${map}.${key} must be written, and stays ${fmt(now)}`)
        continue
      }
      if (!isTime(now)) problems.push(`${cmd.t}: ${map}.${key} is ${fmt(now)}, not a time`)
      addWrite(r, now)
      if (inverse) draft.inverses.push({ t: 'write', reg: r, value: was, expect: now })
    }
    for (const { key, inverse, was } of draft.chosenOrder) {
      const now = after.register('items', `${key}${SEP}order`)
      if (now === was) continue
      addWrite(itemReg(key, 'order'), now)
      if (inverse) draft.inverses.push({ t: 'write', reg: itemReg(key, 'order'), value: was, expect: now })
    }
    // text: new characters with their identities; typing extends or starts a run (NOTE-2)
    const run = this.lastRun.get(replica) ?? null
    let extended: Run | null = null
    for (const ins of draft.inserts) {
      const elems = ins.chars.map((ch) => this.newElem(ins.note, ch, id))
      op.inserts.push({ note: ins.note, elems })
      const textInv = draft.inverses.find(
        (i): i is Extract<Inverse, { t: 'text' }> => i.t === 'text' && i.note === ins.note,
      )
      if (textInv && ins.undoable)
        draft.inverses[draft.inverses.indexOf(textInv)] = { ...textInv, unInsert: elems.map((e) => e.id) }
      if (ins.typing && elems.length > 0) {
        const { left, right } = ins.typing
        // a keystroke continues the run when it follows the run's last character, or precedes its first
        // one with the same character before it as when the run began (typing backwards at one place)
        const continues =
          run !== null &&
          run.note === ins.note &&
          ((left !== -1 && left === run.last) || (right !== -1 && right === run.first && left === run.place))
        const forward = run !== null && left !== -1 && left === run.last
        if (continues && run) {
          run.ops.push(id)
          run.elems.push(...elems.map((e) => e.id))
          if (forward) run.last = elems[elems.length - 1]!.id
          else run.first = elems[0]!.id
          extended = run
        } else {
          const fresh: Run = {
            replica,
            note: ins.note,
            place: left,
            ops: [id],
            elems: elems.map((e) => e.id),
            first: elems[0]!.id,
            last: elems[elems.length - 1]!.id,
          }
          this.runs.set(ins.note, [...(this.runs.get(ins.note) ?? []), fresh])
          extended = fresh
        }
      }
    }
    this.lastRun.set(replica, extended)
    for (const del of draft.deletes) {
      op.deletes.push(del)
      for (const e of del.elems) this.deletedBy.set(e, [...(this.deletedBy.get(e) ?? []), id])
    }
    // characters the engine placed (undo / redo of text): new identities, found where the replica put them
    for (const placed of draft.placed) {
      const elems = placed.chars.map((ch) => this.newElem(placed.note, ch, id))
      op.inserts.push({ note: placed.note, elems })
      const textInv = draft.inverses.find(
        (i): i is Extract<Inverse, { t: 'text' }> => i.t === 'text' && i.note === placed.note,
      )
      if (textInv)
        draft.inverses[draft.inverses.indexOf(textInv)] = { ...textInv, unInsert: elems.map((e) => e.id) }
    }
    // the author's own state after the command, against everything recorded so far
    const view = new Set(ctx).add(id)
    for (const check of draft.checks) problems.push(...check(after))
    const touched = new Set([...draft.inserts, ...draft.deletes, ...draft.placed].map((t) => t.note))
    for (const note of touched) {
      const mapped = this.mapBody(note, view, after.body(note))
      if (mapped.error) {
        problems.push(`after ${cmd.t}: ${mapped.error}`)
        continue
      }
      this.observations.set(note, [
        ...(this.observations.get(note) ?? []),
        mapped.ids.filter((x): x is number => x !== null),
      ])
    }
    return problems
  }

  private newElem(note: string, ch: string, op: OpId): Elem {
    const e: Elem = { id: this.nextId++, ch, op }
    this.elems.set(note, [...(this.elems.get(note) ?? []), e])
    this.elemById.set(e.id, e)
    return e
  }
}
