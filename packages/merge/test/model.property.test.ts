/**
 * MODEL-1: every replica shows what the contract implies for the operations it has integrated.
 *
 * Real spaces (2–5 replicas, one engine) and the executable model (`src/testing/model.ts`) run the same
 * random commands side by side: adds (with Unicode spellings of one name), re-adds, increments and
 * decrements, removes, field edits, checks, moves, space and note renames, notes created with explicit
 * (colliding) ids, typing forwards and backwards with characters outside the BMP, deletions, trash and
 * restore, pin and unpin (NOTE-4), who adds a line (CART-11), the space's currency (SPACE-1), people
 * (PEOPLE-1), undo and redo. Between commands, updates travel over a hostile network: part of one
 * replica's outbox to one peer in any order, duplicated or dropped for good, state-vector repairs
 * between a pair, and chains of them. After every command and every delivery the replica that changed
 * is checked against the model's prediction for exactly what it has integrated: which lines are
 * visible and their quantities (CART-2 … CART-4, CART-8), every field among the allowed values
 * (CART-5), each body holding exactly the surviving characters, in every order anyone saw, with no two
 * concurrent runs interleaved (NOTE-2), undo touching only the replica's own work (UNDO-1, CART-10).
 * At the end everyone syncs and must hold one state (CONV-1) that the model also accepts.
 *
 * The seed is printed by fast-check on failure, with the shrunk script. Replay:
 *   MERGE_FUZZ_SEED=<seed> MERGE_FUZZ_PATH=<path> pnpm vitest run test/model.property.test.ts -t yjs
 * Longer: MERGE_FUZZ_RUNS=2000.
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type EngineKind, type Space, isMergeError } from '../src/index.js'
import {
  type Command,
  ContractModel,
  type Marker,
  type OpId,
  markerOf,
  observeSpace,
} from '../src/testing/index.js'
import { ENGINES, expectConverged, replicas } from './harness.js'
import { fuzzParams, fuzzTimeout } from './fuzz.js'

/** Default runs per engine (MERGE_FUZZ_RUNS overrides): a few seconds each on 2 cores. */
const RUNS: Record<EngineKind, number> = { yjs: 500, automerge: 200 }
/** MERGE_MODEL_STATS=1 prints what the runs exercised (commands by outcome, deliveries, refusals). */
const stats = new Map<string, number>()
const count = (k: string): void => {
  if (process.env.MERGE_MODEL_STATS) stats.set(k, (stats.get(k) ?? 0) + 1)
}

const NAMES = [
  'Milk',
  ' milk ',
  'MILK',
  'Straße',
  'STRASSE',
  'Οδός',
  'ΟΔΟΣ',
  'e\u200bggs',
  'Eggs',
  'Bread',
] as const
const FIELDS = ['note', 'unit', 'category', 'priceCents'] as const
const NOTE_IDS = ['n1', 'n2', 'n3'] as const
/** CART-11 adders (undefined: an add that names no one), SPACE-1 codes (two refused), PEOPLE-1 ids and colours. */
const ADDERS = [undefined, 'Ana', 'Bo', ' Ana '] as const
const CURRENCIES = ['EUR', 'USD', null, 'eur', 'EURO'] as const
const PEOPLE = ['ana', 'bo', 'Not An Id'] as const
const COLORS = ['#aa3300', '#AA3300', '#0055ff', 'red'] as const

type Step =
  | { t: 'add'; r: number; name: number; qty: number; withField: boolean; by: number }
  | { t: 'inc' | 'dec'; r: number; pick: number; by: number }
  | { t: 'remove' | 'check' | 'uncheck'; r: number; pick: number }
  | { t: 'field'; r: number; pick: number; field: number; value: number }
  | { t: 'move'; r: number; pick: number; to: number }
  | { t: 'rename'; r: number; v: number }
  | { t: 'createNote'; r: number; id: number; body: number }
  | { t: 'renameNote' | 'trash' | 'restore'; r: number; pick: number }
  | { t: 'type'; r: number; pick: number; at: number; n: number; backwards: boolean }
  | { t: 'delete'; r: number; pick: number; at: number; len: number }
  | { t: 'undo' | 'redo'; r: number }
  | { t: 'pin' | 'unpin'; r: number; pick: number }
  | { t: 'currency'; r: number; v: number }
  | { t: 'member'; r: number; who: number; name: number; color: number }
  | { t: 'deliver'; from: number; to: number; steps: { i: number; act: 'send' | 'dup' | 'drop' }[] }
  | { t: 'repair'; a: number; b: number }
  | { t: 'chain'; a: number; b: number; c: number }

const r = fc.nat(4)
const pick = fc.nat(30)
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary })

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  w(
    6,
    fc.record({
      t: fc.constant('add' as const),
      r,
      name: fc.nat(NAMES.length - 1),
      qty: fc.integer({ min: 1, max: 3 }),
      withField: fc.boolean(),
      by: fc.nat(3),
    }),
  ),
  w(
    4,
    fc.record({
      t: fc.constantFrom('inc' as const, 'dec' as const),
      r,
      pick,
      by: fc.integer({ min: 1, max: 3 }),
    }),
  ),
  w(4, fc.record({ t: fc.constantFrom('remove' as const, 'check' as const, 'uncheck' as const), r, pick })),
  w(
    2,
    fc.record({
      t: fc.constant('field' as const),
      r,
      pick,
      field: fc.nat(FIELDS.length - 1),
      value: fc.nat(99),
    }),
  ),
  w(2, fc.record({ t: fc.constant('move' as const), r, pick, to: fc.nat(6) })),
  w(1, fc.record({ t: fc.constant('rename' as const), r, v: fc.nat(9) })),
  w(2, fc.record({ t: fc.constant('createNote' as const), r, id: fc.nat(NOTE_IDS.length), body: fc.nat(3) })),
  w(
    2,
    fc.record({ t: fc.constantFrom('renameNote' as const, 'trash' as const, 'restore' as const), r, pick }),
  ),
  w(
    8,
    fc.record({
      t: fc.constant('type' as const),
      r,
      pick,
      at: fc.nat(40),
      n: fc.integer({ min: 1, max: 5 }),
      backwards: fc.boolean(),
    }),
  ),
  w(
    2,
    fc.record({
      t: fc.constant('delete' as const),
      r,
      pick,
      at: fc.nat(40),
      len: fc.integer({ min: 1, max: 4 }),
    }),
  ),
  w(4, fc.record({ t: fc.constantFrom('undo' as const, 'redo' as const), r })),
  w(2, fc.record({ t: fc.constantFrom('pin' as const, 'unpin' as const), r, pick })),
  w(1, fc.record({ t: fc.constant('currency' as const), r, v: fc.nat(CURRENCIES.length - 1) })),
  w(
    1,
    fc.record({
      t: fc.constant('member' as const),
      r,
      who: fc.nat(PEOPLE.length - 1),
      name: fc.nat(2),
      color: fc.nat(COLORS.length - 1),
    }),
  ),
  w(
    9,
    fc.record({
      t: fc.constant('deliver' as const),
      from: r,
      to: r,
      steps: fc.array(
        fc.record({
          i: fc.nat(40),
          act: fc.constantFrom(
            'send' as const,
            'send' as const,
            'send' as const,
            'dup' as const,
            'drop' as const,
          ),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
  ),
  w(2, fc.record({ t: fc.constant('repair' as const), a: r, b: r })),
  w(1, fc.record({ t: fc.constant('chain' as const), a: r, b: r, c: r })),
)

const at = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i]
  if (x === undefined) throw new Error(`index ${i} out of range ${xs.length}`)
  return x
}

/** A fresh code point per keystroke: CJK from U+4E00, every third one from the supplementary plane. */
const charSource = (): (() => string) => {
  let n = 0
  return () => {
    n++
    return n % 3 === 0 ? String.fromCodePoint(0x20000 + n) : String.fromCodePoint(0x4e00 + n)
  }
}

interface World {
  readonly spaces: Space[]
  readonly model: ContractModel
  readonly seen: Set<OpId>[]
  readonly markers: Map<OpId, Marker>
  readonly outbox: { op: OpId; update: Uint8Array }[][][]
  readonly problems: string[]
}

const run = (engine: EngineKind, n: number, steps: readonly Step[]): void => {
  const spaces = replicas(engine, n)
  const model = new ContractModel()
  const world: World = {
    spaces,
    model,
    seen: spaces.map(() => new Set<OpId>()),
    markers: new Map(),
    outbox: spaces.map(() => spaces.map(() => [])),
    problems: [],
  }
  const nextChar = charSource()
  const ops: { op: OpId; update: Uint8Array }[] = []
  let pendingUpdates: Uint8Array[] = []
  spaces.forEach((s) =>
    s.onUpdate((update, e) => {
      if (e.local) pendingUpdates.push(update)
    }),
  )

  const refreshSeen = (i: number): void => {
    const s = at(spaces, i)
    const seen = at(world.seen, i)
    for (const [op, marker] of world.markers) if (!seen.has(op) && marker.integratedIn(s)) seen.add(op)
  }
  const checkReplica = (i: number, when: string): void => {
    const problems = model.check(at(world.seen, i), observeSpace(at(spaces, i)), `replica ${i} (${when})`)
    if (problems.length > 0) throw new Error(problems.join('\n'))
  }
  const exec = (i: number, cmd: Command, runIt: (s: Space) => unknown): void => {
    const s = at(spaces, i)
    const planned = model.plan(s.replicaId, at(world.seen, i), cmd, observeSpace(s))
    pendingUpdates = []
    let error: Error | null = null
    try {
      runIt(s)
    } catch (e) {
      if (!isMergeError(e)) throw e
      error = e
    }
    const kind = error === null ? 'ok' : (error as Error & { kind: string }).kind
    count(`${cmd.t} ${kind}`)
    if (kind !== planned.expect)
      throw new Error(
        `replica ${i}: ${JSON.stringify(cmd)} gave ${kind}${error ? ` (${error.message})` : ''}, the contract says ${planned.expect}`,
      )
    if (kind !== 'ok') {
      expect(pendingUpdates, `a refused ${cmd.t} changes nothing`).toHaveLength(0)
      return
    }
    if (planned.writes !== 'maybe' && planned.writes !== pendingUpdates.length > 0)
      throw new Error(
        `replica ${i}: ${JSON.stringify(cmd)} ${planned.writes ? 'must' : 'must not'} produce a change (made ${pendingUpdates.length})`,
      )
    expect(pendingUpdates.length, 'one command is one update (UNDO-4)').toBeLessThanOrEqual(1)
    if (pendingUpdates.length === 0) {
      const problems = planned.commit(null)
      if (problems.length > 0) throw new Error(problems.join('\n'))
      return
    }
    const update = at(pendingUpdates, 0)
    const problems = planned.commit(observeSpace(s))
    const op = ops.length
    ops.push({ op, update })
    world.markers.set(op, markerOf(engine, update))
    at(world.seen, i).add(op)
    for (let j = 0; j < n; j++) if (j !== i) at(at(world.outbox, i), j).push({ op, update })
    if (problems.length > 0)
      throw new Error(`replica ${i} after ${JSON.stringify(cmd)}:\n${problems.join('\n')}`)
    checkReplica(i, `after ${cmd.t}`)
  }
  const apply = (to: number, update: Uint8Array): void => {
    try {
      at(spaces, to).applyUpdate(update, 'net')
    } catch (e) {
      // an update whose dependencies this replica lacks is refused whole; a repair brings it later
      if (!isMergeError(e, 'MissingDependencies')) throw e
      count('delivery refused: MissingDependencies')
    }
    count('delivery')
    refreshSeen(to)
    checkReplica(to, 'after a delivery')
  }
  const pull = (to: number, from: number): void => {
    apply(to, at(spaces, from).encodeStateAsUpdate(at(spaces, to).stateVector()))
  }

  // every replica starts from the creation (operation 0, by replica 0) and one shared note
  model.initial(at(spaces, 0).replicaId, { t: 'rename', name: 'Test space' }, observeSpace(at(spaces, 0)))
  ops.push({ op: 0, update: at(spaces, 0).encodeStateAsUpdate() })
  for (let i = 0; i < n; i++) at(world.seen, i).add(0)
  const sharedBody = nextChar() + nextChar()
  exec(0, { t: 'createNote', id: 'shared', title: 'Shared', body: sharedBody }, (s) =>
    s.createNote({ id: 'shared', title: 'Shared', body: sharedBody }),
  )
  for (let i = 1; i < n; i++) pull(i, 0)
  for (const q of world.outbox) for (const updates of q) updates.length = 0

  const itemKey = (s: Space, p: number): string => {
    const items = s.items()
    return items.length > 0 && p % 5 !== 4 ? at(items, p % items.length).key : 'not-there'
  }
  const noteId = (s: Space, p: number): string => {
    const ids = [...s.notes(), ...s.notes({ trashed: true })].map((x) => x.id).sort()
    return ids.length > 0 ? at(ids, p % ids.length) : 'shared'
  }
  /** UTF-16 offsets of the code point boundaries of a body. */
  const bounds = (body: string): number[] => {
    const out = [0]
    let i = 0
    for (const ch of body) out.push((i += ch.length))
    return out
  }

  for (const step of steps) {
    switch (step.t) {
      case 'deliver': {
        const from = step.from % n
        const to = step.to % n
        if (from === to) break
        const queue = at(at(world.outbox, from), to)
        for (const s of step.steps) {
          if (queue.length === 0) break
          const i = s.i % queue.length
          const item = at(queue, i)
          if (s.act !== 'dup') queue.splice(i, 1) // 'dup' stays queued: it arrives again later
          if (s.act !== 'drop') apply(to, item.update)
        }
        break
      }
      case 'repair': {
        const a = step.a % n
        const b = step.b % n
        if (a !== b) pull(a, b)
        break
      }
      case 'chain': {
        const [a, b, c] = [step.a % n, step.b % n, step.c % n]
        if (a !== b) pull(b, a)
        if (b !== c) pull(c, b)
        break
      }
      default: {
        const i = step.r % n
        const s = at(spaces, i)
        switch (step.t) {
          case 'add': {
            const name = at(NAMES, step.name)
            const fields = step.withField ? { note: `note ${i}.${step.qty}` } : undefined
            const by = ADDERS[step.by]
            const extra = { ...(fields ? { fields } : {}), ...(by !== undefined ? { by } : {}) }
            exec(i, { t: 'add', name, quantity: step.qty, ...extra }, (x) =>
              x.addItem(name, { quantity: step.qty, ...extra }),
            )
            break
          }
          case 'pin':
          case 'unpin': {
            const id = noteId(s, step.pick)
            if (step.t === 'pin') exec(i, { t: 'pinNote', id }, (x) => x.pinNote(id))
            else exec(i, { t: 'unpinNote', id }, (x) => x.unpinNote(id))
            break
          }
          case 'currency': {
            const code = at(CURRENCIES, step.v)
            exec(i, { t: 'setCurrency', code }, (x) => x.setCurrency(code))
            break
          }
          case 'member': {
            const id = at(PEOPLE, step.who)
            const name = ['Ana', `Person ${i}`, '  '][step.name]!
            const color = at(COLORS, step.color)
            exec(i, { t: 'setMember', id, name, color }, (x) => x.setMember(id, { name, color }))
            break
          }
          case 'inc':
          case 'dec': {
            const key = itemKey(s, step.pick)
            if (step.t === 'inc')
              exec(i, { t: 'increment', key, by: step.by }, (x) => x.increment(key, step.by))
            else exec(i, { t: 'decrement', key, by: step.by }, (x) => x.decrement(key, step.by))
            break
          }
          case 'remove': {
            const key = itemKey(s, step.pick)
            exec(i, { t: 'remove', key }, (x) => x.removeItem(key))
            break
          }
          case 'check': {
            const key = itemKey(s, step.pick)
            exec(i, { t: 'check', key, by: `user${i}` }, (x) => x.check(key, `user${i}`))
            break
          }
          case 'uncheck': {
            const key = itemKey(s, step.pick)
            exec(i, { t: 'uncheck', key }, (x) => x.uncheck(key))
            break
          }
          case 'field': {
            const key = itemKey(s, step.pick)
            const field = at(FIELDS, step.field)
            const value = field === 'priceCents' ? step.value * 10 : `${field} ${i}.${step.value}`
            exec(i, { t: 'setField', key, field, value }, (x) => x.setField(key, field, value))
            break
          }
          case 'move': {
            const key = itemKey(s, step.pick)
            exec(i, { t: 'move', key, toIndex: step.to }, (x) => x.moveItem(key, step.to))
            break
          }
          case 'rename': {
            const name = `Space ${i}.${step.v}`
            exec(i, { t: 'rename', name }, (x) => x.rename(name))
            break
          }
          case 'createNote': {
            const id = step.id < NOTE_IDS.length ? at(NOTE_IDS, step.id) : `own-${i}`
            const body = Array.from({ length: step.body }, nextChar).join('')
            exec(i, { t: 'createNote', id, title: `T${i}`, body }, (x) =>
              x.createNote({ id, title: `T${i}`, body }),
            )
            break
          }
          case 'renameNote': {
            const id = noteId(s, step.pick)
            const title = `title ${i}.${step.pick}`
            exec(i, { t: 'renameNote', id, title }, (x) => x.renameNote(id, title))
            break
          }
          case 'trash':
          case 'restore': {
            const id = noteId(s, step.pick)
            if (step.t === 'trash') exec(i, { t: 'trashNote', id }, (x) => x.trashNote(id))
            else exec(i, { t: 'restoreNote', id }, (x) => x.restoreNote(id))
            break
          }
          case 'type': {
            // a burst of keystrokes, each its own command: forwards (the cursor moves on) or backwards
            const id = noteId(s, step.pick)
            const b = bounds(s.engine.text(id))
            let index = at(b, step.at % b.length)
            for (let k = 0; k < step.n; k++) {
              const ch = nextChar()
              const idx = index
              exec(i, { t: 'editNote', id, index: idx, deleteCount: 0, insert: ch }, (x) =>
                x.editNote(id, idx, 0, ch),
              )
              if (!step.backwards) index += ch.length
            }
            break
          }
          case 'delete': {
            const id = noteId(s, step.pick)
            const b = bounds(s.engine.text(id))
            if (b.length < 2) break
            const from = step.at % (b.length - 1)
            const to = Math.min(b.length - 1, from + step.len)
            const index = at(b, from)
            const count = at(b, to) - index
            // two concurrent deletions of one character, both undone, put it back twice (each undo
            // re-inserts what its own edit deleted): the copies look alike, so the model cannot tell
            // which one a deletion took; such text is left alone
            const body = s.engine.text(id)
            const chars = [...body]
            const range = [...body.slice(index, index + count)]
            if (range.some((ch) => chars.filter((c) => c === ch).length > 1)) break
            exec(i, { t: 'editNote', id, index, deleteCount: count, insert: '' }, (x) =>
              x.editNote(id, index, count, ''),
            )
            break
          }
          case 'undo':
            exec(i, { t: 'undo' }, (x) => x.undo())
            break
          case 'redo':
            exec(i, { t: 'redo' }, (x) => x.redo())
            break
        }
      }
    }
  }

  // everyone back online: repeated state-vector exchanges until nothing moves
  for (let round = 0; round < 2; round++)
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) pull(a, b)
  expectConverged(spaces)
  for (let i = 0; i < n; i++)
    expect(at(world.seen, i).size, `replica ${i} integrated every operation`).toBe(ops.length)
  for (const s of spaces) s.destroy()
}

const scriptArb = fc.tuple(
  fc.integer({ min: 2, max: 5 }),
  fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
)

describe.each(ENGINES)('%s', (engine) => {
  it(
    '[MODEL-1] every replica shows what the contract implies for what it has integrated (CART-1…11, NOTE-2, NOTE-4, SPACE-1, PEOPLE-1, UNDO-1…3, DLV-1…3)',
    () => {
      fc.assert(
        fc.property(scriptArb, ([n, steps]) => run(engine, n, steps)),
        fuzzParams(RUNS[engine], `MODEL-1 ${engine}`),
      )
      if (process.env.MERGE_MODEL_STATS) console.log(engine, Object.fromEntries([...stats].sort()))
    },
    fuzzTimeout,
  )
})
