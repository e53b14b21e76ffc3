/**
 * CONV-1 (with DLV-1 … DLV-3): property-based convergence of 2–5 replicas under a hostile network.
 *
 * Each run draws a replica count and a script that mixes local commands (cart, notes, undo/redo) with
 * network steps: deliver part of one replica's outbox to a peer in random order, duplicating some updates
 * and dropping others for good; take replicas offline and back; repair a pair by state-vector diff (`pull`).
 * At the end everyone comes online, syncs, and must hold the same state with the cart and note invariants.
 *
 * Reproduce a failure: fast-check prints `{ seed: S, path: "P", endOnFailure: true }` and the shrunk
 * counterexample. Re-run just that case with
 *
 *   MERGE_FUZZ_SEED=S MERGE_FUZZ_PATH="P" npx vitest run test/convergence.property.test.ts -t yjs
 *
 * (drop MERGE_FUZZ_PATH to replay the whole run from the seed; MERGE_FUZZ_RUNS=500 runs longer.)
 */
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type EngineKind, type Space, isMergeError, normaliseName, openSpace } from '../src/index.js'
import { fuzzParams, tolerant, fuzzTimeout } from './fuzz.js'
import { ENGINES, bytesOf, expectConverged, pull, replicas, stateOf, syncAll } from './harness.js'

const RUNS = 25

const NAMES = ['Milk', ' milk ', 'MILK', 'eggs', 'Eggs ', 'Bread', 'bread'] as const
const FIELDS = ['note', 'unit', 'category', 'priceCents'] as const
const TOKEN = /<r\d+\.\d+>/g
const BODY_OF_TOKENS = /^(?:<r\d+\.\d+>)*$/

type Cmd =
  | { t: 'add'; r: number; name: string; qty: number }
  | { t: 'inc' | 'dec'; r: number; pick: number; by: number }
  | { t: 'remove' | 'check' | 'uncheck'; r: number; pick: number }
  | { t: 'field'; r: number; pick: number; field: (typeof FIELDS)[number]; value: number }
  | { t: 'move'; r: number; pick: number; to: number }
  | { t: 'createNote'; r: number; title: string; withToken: boolean }
  | { t: 'renameNote' | 'trash' | 'restore'; r: number; pick: number }
  | { t: 'insert'; r: number; pick: number; at: number }
  | { t: 'deleteToken'; r: number; pick: number; which: number }
  | { t: 'undo' | 'redo'; r: number }
  | { t: 'pin' | 'unpin'; r: number; pick: number }
  | { t: 'currency'; r: number; code: string | null }
  | { t: 'member'; r: number; id: string; color: string }
  | { t: 'deliver'; from: number; to: number; steps: { i: number; act: 'send' | 'dup' | 'drop' }[] }
  | { t: 'toggleOnline'; r: number }
  | { t: 'repair'; a: number; b: number }

const r = fc.nat(4)
const pick = fc.nat(24)
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary })

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  w(
    6,
    fc.record({
      t: fc.constant('add' as const),
      r,
      name: fc.constantFrom(...NAMES),
      qty: fc.integer({ min: 1, max: 3 }),
    }),
  ),
  w(
    3,
    fc.record({
      t: fc.constantFrom('inc' as const, 'dec' as const),
      r,
      pick,
      by: fc.integer({ min: 1, max: 3 }),
    }),
  ),
  w(3, fc.record({ t: fc.constantFrom('remove' as const, 'check' as const, 'uncheck' as const), r, pick })),
  w(
    2,
    fc.record({
      t: fc.constant('field' as const),
      r,
      pick,
      field: fc.constantFrom(...FIELDS),
      value: fc.nat(999),
    }),
  ),
  w(2, fc.record({ t: fc.constant('move' as const), r, pick, to: fc.nat(6) })),
  w(
    2,
    fc.record({
      t: fc.constant('createNote' as const),
      r,
      title: fc.constantFrom('', 'Party', 'ToDo'),
      withToken: fc.boolean(),
    }),
  ),
  w(
    2,
    fc.record({ t: fc.constantFrom('renameNote' as const, 'trash' as const, 'restore' as const), r, pick }),
  ),
  w(6, fc.record({ t: fc.constant('insert' as const), r, pick, at: fc.nat(24) })),
  w(3, fc.record({ t: fc.constant('deleteToken' as const), r, pick, which: fc.nat(24) })),
  w(3, fc.record({ t: fc.constantFrom('undo' as const, 'redo' as const), r })),
  w(1, fc.record({ t: fc.constantFrom('pin' as const, 'unpin' as const), r, pick })),
  w(1, fc.record({ t: fc.constant('currency' as const), r, code: fc.constantFrom(null, 'EUR', 'USD') })),
  w(
    1,
    fc.record({
      t: fc.constant('member' as const),
      r,
      id: fc.constantFrom('ana', 'bo'),
      color: fc.constantFrom('#aa3300', '#0055ff'),
    }),
  ),
  w(
    8,
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
  w(1, fc.record({ t: fc.constant('toggleOnline' as const), r })),
  w(2, fc.record({ t: fc.constant('repair' as const), a: r, b: r })),
)

/** DLV-4: whether vector `a` is at least `b` for every writer. */
const dominates = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean =>
  [...b].every(([writer, n]) => (a.get(writer) ?? 0) >= n)

const sameBytes = (x: Uint8Array, y: Uint8Array): boolean =>
  x.length === y.length && x.every((v, k) => v === y[k])

const at = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i]
  if (x === undefined) throw new Error(`index ${i} out of range ${xs.length}`)
  return x
}

const allNotes = (s: Space) =>
  [...s.notes(), ...s.notes({ trashed: true })].sort((a, b) => (a.id < b.id ? -1 : 1))

const tokenCounts = (s: Space): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const n of allNotes(s))
    for (const [t] of n.body.matchAll(TOKEN)) counts.set(t, (counts.get(t) ?? 0) + 1)
  return counts
}

const changedTokens = (before: Map<string, number>, after: Map<string, number>): string[] =>
  [...new Set([...before.keys(), ...after.keys()])].filter(
    (t) => (before.get(t) ?? 0) !== (after.get(t) ?? 0),
  )

interface Outcome {
  /** Tokens an undo/redo changed although its replica never edited them (UNDO-1, UNDO-3: others' changes stay). */
  readonly undoViolations: string[]
}

/** Runs one script; asserts CONV-1, the cart and token invariants, and DLV-1 idempotence at the end. */
const run = (engine: EngineKind, n: number, cmds: readonly Cmd[]): Outcome => {
  const spaces = replicas(engine, n)
  const online = spaces.map(() => true)
  const outbox: Uint8Array[][][] = spaces.map(() => spaces.map(() => []))
  const recorded: Uint8Array[] = []
  spaces.forEach((s, i) =>
    s.onUpdate((update, e) => {
      if (!e.local) return
      recorded.push(update)
      for (let j = 0; j < n; j++) if (j !== i) at(at(outbox, i), j).push(update)
    }),
  )
  // a note every replica has seen, so concurrent text edits start at once
  at(spaces, 0).createNote({ id: 'shared', title: 'Shared', body: '<r0.0>' })
  syncAll(spaces)
  for (const q of outbox) for (const updates of q) updates.length = 0

  let seq = 0
  const inserted = new Map<string, string>([['<r0.0>', 'shared']]) // token → note id
  const unstable = new Set<string>() // tokens some replica deleted (or an undo/redo touched)
  const touched = spaces.map(() => new Set<string>()) // tokens each replica wrote or deleted itself
  const undoViolations: string[] = []

  const itemKey = (s: Space, p: number): string => {
    const items = s.items()
    return items.length > 0 ? at(items, p % items.length).key : normaliseName(at(NAMES, p % NAMES.length))
  }
  const noteId = (s: Space, p: number): string => {
    const notes = allNotes(s)
    return notes.length > 0 ? at(notes, p % notes.length).id : 'missing'
  }

  for (const c of cmds) {
    switch (c.t) {
      case 'deliver': {
        const from = c.from % n
        const to = c.to % n
        if (from === to || !at(online, from) || !at(online, to)) break
        const queue = at(at(outbox, from), to)
        const target = at(spaces, to)
        for (const step of c.steps) {
          if (queue.length === 0) break
          const i = step.i % queue.length
          const update = at(queue, i)
          if (step.act !== 'dup') queue.splice(i, 1) // 'dup' stays queued: it will arrive again
          if (step.act !== 'drop')
            try {
              target.applyUpdate(update, 'net')
            } catch (e) {
              // DLV-2: an update that arrives before what it builds on is refused whole; repair brings it
              if (!isMergeError(e, 'MissingDependencies')) throw e
            }
        }
        break
      }
      case 'toggleOnline':
        online[c.r % n] = !at(online, c.r % n)
        break
      case 'repair': {
        const a = c.a % n
        const b = c.b % n
        if (a !== b && at(online, a) && at(online, b)) {
          const [sa, sb] = [at(spaces, a), at(spaces, b)]
          // DLV-4: a's version vector dominates b's exactly when b holds nothing a lacks
          const dominated = dominates(sa.versionVector(), sb.versionVector())
          const before = bytesOf(sa)
          pull(sa, sb)
          const moved = !sameBytes(before, bytesOf(sa))
          if (dominated === moved)
            throw new Error(
              `DLV-4: replica ${a}'s version vector ${dominated ? 'covered' : 'did not cover'} replica ${b}'s, yet the repair ${moved ? 'brought' : 'brought nothing'}`,
            )
          if (!dominates(sa.versionVector(), sb.versionVector()))
            throw new Error(`DLV-4: after repairing ${a} from ${b}, ${a}'s vector does not cover ${b}'s`)
        }
        break
      }
      default: {
        const ri = c.r % n
        const s = at(spaces, ri)
        const mine = at(touched, ri)
        switch (c.t) {
          case 'add':
            tolerant(() => s.addItem(c.name, { quantity: c.qty, by: `user${ri}` }))
            break
          case 'pin':
            tolerant(() => s.pinNote(noteId(s, c.pick)))
            break
          case 'unpin':
            tolerant(() => s.unpinNote(noteId(s, c.pick)))
            break
          case 'currency':
            tolerant(() => s.setCurrency(c.code))
            break
          case 'member':
            tolerant(() => s.setMember(c.id, { name: `Person ${ri}`, color: c.color }))
            break
          case 'inc':
            tolerant(() => s.increment(itemKey(s, c.pick), c.by))
            break
          case 'dec':
            tolerant(() => s.decrement(itemKey(s, c.pick), c.by))
            break
          case 'remove':
            tolerant(() => s.removeItem(itemKey(s, c.pick)))
            break
          case 'check':
            tolerant(() => s.check(itemKey(s, c.pick), `user${ri}`))
            break
          case 'uncheck':
            tolerant(() => s.uncheck(itemKey(s, c.pick)))
            break
          case 'field': {
            const value = c.field === 'priceCents' ? c.value : `${c.field}-${ri}-${c.value}`
            tolerant(() => s.setField(itemKey(s, c.pick), c.field, value))
            break
          }
          case 'move':
            tolerant(() => s.moveItem(itemKey(s, c.pick), c.to))
            break
          case 'createNote': {
            const id = `n${ri}-${++seq}`
            const token = `<r${ri}.${++seq}>`
            const body = c.withToken ? token : ''
            if (tolerant(() => s.createNote({ id, title: c.title, body })) && c.withToken) {
              inserted.set(token, id)
              mine.add(token)
            }
            break
          }
          case 'renameNote':
            tolerant(() => s.renameNote(noteId(s, c.pick), `title ${ri}.${++seq}`))
            break
          case 'trash':
            tolerant(() => s.trashNote(noteId(s, c.pick)))
            break
          case 'restore':
            tolerant(() => s.restoreNote(noteId(s, c.pick)))
            break
          case 'insert': {
            const id = noteId(s, c.pick)
            const body = s.note(id)?.body ?? ''
            // only between whole tokens, never inside one
            const bounds = [0, ...[...body.matchAll(TOKEN)].map((m) => m.index + m[0].length)]
            const index = at(bounds, c.at % bounds.length)
            const token = `<r${ri}.${++seq}>`
            if (tolerant(() => s.editNote(id, index, 0, token))) {
              inserted.set(token, id)
              mine.add(token)
              expect(tokenCounts(s).get(token), `local insert of ${token}`).toBe(1)
            }
            break
          }
          case 'deleteToken': {
            const id = noteId(s, c.pick)
            const found = [...(s.note(id)?.body ?? '').matchAll(TOKEN)]
            if (found.length === 0) break
            const m = at(found, c.which % found.length)
            if (tolerant(() => s.editNote(id, m.index, m[0].length, ''))) {
              unstable.add(m[0])
              mine.add(m[0])
            }
            break
          }
          case 'undo':
          case 'redo': {
            const before = tokenCounts(s)
            if (c.t === 'undo') s.undo()
            else s.redo()
            for (const t of changedTokens(before, tokenCounts(s))) {
              unstable.add(t)
              if (!mine.has(t))
                undoViolations.push(`${c.t} on replica ${ri} changed ${t}, which it never edited`)
            }
            break
          }
        }
      }
    }
  }

  // everyone back online
  syncAll(spaces)
  expectConverged(spaces)
  // CART-13: what each replica kept of its cart across its own history is what its state holds
  for (const s of spaces) {
    const fresh = openSpace({ engine, spaceId: s.id, state: s.encodeStateAsUpdate() })
    expect(s.items(), 'cart kept across updates').toEqual(fresh.items())
    expect(s.snapshot().removed, 'removed lines kept across updates').toEqual(fresh.snapshot().removed)
    expect(s.itemHistory(), 'item history kept across updates').toEqual(fresh.itemHistory())
    fresh.destroy()
  }

  const first = at(spaces, 0)
  const snap = first.snapshot()

  // cart invariants, on every replica
  for (const s of spaces) {
    const items = s.items()
    expect(new Set(items.map((i) => i.key)).size, 'an item key appears twice in items()').toBe(items.length)
    for (const i of items) expect(i.quantity, `quantity of ${i.key}`).toBeGreaterThan(0)
  }
  const listed = [...snap.cart.map((i) => i.key), ...snap.removed]
  const rawKeys = new Set<string>()
  for (const m of [snap.raw.items, snap.raw.qty, snap.raw.tomb])
    for (const [k] of m) rawKeys.add(k.slice(0, k.indexOf('\u001f')))
  for (const k of rawKeys)
    expect(
      listed.filter((x) => x === k),
      `item ${k} in cart ∪ removed`,
    ).toHaveLength(1)
  expect(new Set(listed).size, 'cart and removed overlap').toBe(listed.length)

  // token invariants: bodies (trashed notes too) hold only whole tokens; every live token exactly once, in its note
  const bodies = new Map(snap.notes.map((note) => [note.id, note.body]))
  for (const [id, body] of bodies)
    expect(body, `body of ${id} holds a split or interleaved token`).toMatch(BODY_OF_TOKENS)
  for (const [token, id] of inserted) {
    if (unstable.has(token)) continue
    const where = [...bodies].flatMap(([nid, body]) =>
      [...body.matchAll(TOKEN)].filter((m) => m[0] === token).map(() => nid),
    )
    expect(where, `token ${token} (no replica deleted it)`).toEqual([id])
  }

  // DLV-1: every update again, in order and reversed, changes nothing
  const last = at(spaces, n - 1)
  for (const [s, updates] of [
    [last, recorded],
    [first, [...recorded].reverse()],
  ] as const) {
    const bytes = bytesOf(s)
    const state = stateOf(s)
    for (const u of updates) s.applyUpdate(u, 'dup')
    expect(stateOf(s), 'state after re-applying every update').toBe(state)
    expect(bytesOf(s), 'bytes after re-applying every update').toEqual(bytes)
  }
  for (const s of spaces) s.destroy()
  return { undoViolations }
}

const scriptArb = fc.tuple(
  fc.integer({ min: 2, max: 5 }),
  fc.array(cmdArb, { minLength: 1, maxLength: 80, size: 'max' }),
)

describe.each(ENGINES)('%s', (engine) => {
  it(
    '[CONV-1] replicas converge under reordering, duplicates, drops, offline stretches and repair; [CART-13] after reordered, duplicated and dropped updates, every replica has the cart, removed lines and history of a space opened from its state; [DLV-4] at every repair, one replica’s version vector covers another’s exactly when the repair brings it nothing',
    () => {
      fc.assert(
        fc.property(scriptArb, ([n, cmds]) => {
          run(engine, n, cmds)
        }),
        fuzzParams(RUNS, `CONV-1 ${engine}`),
      )
    },
    fuzzTimeout,
  )

  it('[UNDO-3] undoing an insert leaves alone a concurrent insert at the same place', () => {
    const [a, b] = replicas(engine, 2)
    if (!a || !b) throw new Error('two replicas')
    a.createNote({ id: 'n', body: 'x' })
    syncAll([a, b])
    a.editNote('n', 1, 0, '<A>')
    b.editNote('n', 1, 0, '<B>')
    syncAll([a, b])
    // whichever insert the engine ordered first: its writer undoes it, the other insert must stay
    const firstIsA = a.note('n')?.body === 'x<A><B>'
    expect([a, b].map((s) => s.note('n')?.body)).toEqual(
      firstIsA ? ['x<A><B>', 'x<A><B>'] : ['x<B><A>', 'x<B><A>'],
    )
    ;(firstIsA ? a : b).undo()
    syncAll([a, b])
    expect(a.note('n')?.body).toBe(firstIsA ? 'x<B>' : 'x<A>')
    expectConverged([a, b])
  })

  it(
    '[UNDO-3] undo and redo under concurrency never touch text another replica wrote',
    () => {
      fc.assert(
        fc.property(scriptArb, ([n, cmds]) => {
          expect(run(engine, n, cmds).undoViolations).toEqual([])
        }),
        fuzzParams(RUNS, `UNDO-3 ${engine}`),
      )
    },
    fuzzTimeout,
  )
})
