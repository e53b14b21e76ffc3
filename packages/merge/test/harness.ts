import { expect } from 'vitest'
import { type EngineKind, type Space, createSpace, openSpace } from '../src/index.js'

export const ENGINES: readonly EngineKind[] = ['yjs', 'automerge']

let clock = 1_700_000_000_000
/** A deterministic clock shared by every replica of a test: each reading is 1 ms later. */
export const tick = (): number => ++clock

const hex = (n: number): string => n.toString(16).padStart(16, '0')

/**
 * `n` replicas of one new space, as devices that have all seen the creation and then went offline.
 * Replica ids are fixed (0…01, 0…02, …) so concurrent LWW ties resolve the same way in every run.
 */
export const replicas = (engine: EngineKind, n: number): Space[] => {
  const first = createSpace({ engine, name: 'Test space', replicaId: hex(1), now: tick })
  const state = first.encodeStateAsUpdate()
  const rest = Array.from({ length: n - 1 }, (_, i) =>
    openSpace({ engine, spaceId: first.id, state, replicaId: hex(i + 2), now: tick }),
  )
  return [first, ...rest]
}

/** One-way catch-up: `to` receives what it lacks from `from`, by state vector. */
export const pull = (to: Space, from: Space): void => {
  to.applyUpdate(from.encodeStateAsUpdate(to.stateVector()), 'sync')
}

/** Everyone back online: every pair exchanges state vectors until nothing moves. */
export const syncAll = (spaces: readonly Space[]): void => {
  for (let round = 0; round < 2; round++)
    for (const a of spaces) for (const b of spaces) if (a !== b) pull(a, b)
}

/** The full document state of a replica, for comparing replicas. */
export const stateOf = (s: Space): string => JSON.stringify(s.snapshot())

/** Asserts that every replica holds exactly the same state, naming the first one that differs. */
export const expectConverged = (spaces: readonly Space[]): void => {
  const [first, ...rest] = spaces
  if (!first) return
  const want = first.snapshot()
  rest.forEach((s, i) => {
    expect(s.snapshot(), `replica ${i + 1} diverged from replica 0`).toEqual(want)
  })
}

/** The bytes that identify a document state: used to prove a rejected update changed nothing. */
export const bytesOf = (s: Space): Uint8Array => s.encodeStateAsUpdate()

export const cart = (s: Space): Record<string, number> =>
  Object.fromEntries(s.items().map((i) => [i.key, i.quantity]))
