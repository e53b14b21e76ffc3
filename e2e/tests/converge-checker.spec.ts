/**
 * The convergence checker itself (fixtures/converge.ts), on real snapshots of @converge/merge spaces:
 * equal states pass; diverged ones fail with a message naming the device and the difference.
 * No browser: these run in the Playwright worker only.
 */
import { type Space, type SpaceSnapshot, openSpace } from '@converge/merge'
import { expect, test } from '@playwright/test'
import { ConvergenceError, assertConverged, firstDifference } from '../fixtures/converge.js'

const SPACE = 'checker-space'

/** Three replicas of one space that exchanged everything: Milk ×3, Bread, Tea, and one note. */
function threeReplicas(): { alice: Space; bob: Space; carol: Space; noteId: string } {
  const alice = openSpace({ engine: 'yjs', spaceId: SPACE })
  alice.initialise('Checker flat')
  alice.addItem('Milk', { quantity: 3 })
  alice.addItem('Bread')
  alice.addItem('Tea')
  const noteId = alice.createNote({ title: 'Plan', body: 'pasta on Friday, salad on Saturday' })
  const state = alice.encodeStateAsUpdate()
  const bob = openSpace({ engine: 'yjs', spaceId: SPACE, state })
  const carol = openSpace({ engine: 'yjs', spaceId: SPACE, state })
  return { alice, bob, carol, noteId }
}

const states = (...named: [string, Space][]) =>
  named.map(([device, space]) => ({ device, snapshot: space.snapshot() }))

/** The message assertConverged throws for these devices (fails the test if it does not throw). */
function failure(...named: [string, Space][]): string {
  try {
    assertConverged(states(...named))
  } catch (e) {
    expect(e).toBeInstanceOf(ConvergenceError)
    return (e as Error).message
  }
  throw new Error('assertConverged passed on diverged states')
}

test('checker: passes on equal states, and after replicas exchange their concurrent edits', () => {
  const { alice, bob, carol } = threeReplicas()
  expect(() => assertConverged(states(['Alice', alice], ['Bob', bob], ['Carol', carol]))).not.toThrow()

  // concurrent edits, then every update delivered everywhere: equal again
  const before = [alice, bob, carol].map((s) => s.stateVector())
  alice.increment('milk')
  bob.increment('milk')
  carol.moveItem('tea', 0)
  const all = [alice, bob, carol]
  const updates = all.map((s, i) => s.encodeStateAsUpdate(before[i]))
  for (const s of all) for (const u of updates) s.applyUpdate(u)
  expect(() => assertConverged(states(['Alice', alice], ['Bob', bob], ['Carol', carol]))).not.toThrow()
  expect(alice.item('milk')?.quantity).toBe(5)
})

test('checker: a quantity that differs names the device, the item and both values', () => {
  const { alice, bob, carol } = threeReplicas()
  bob.increment('milk')
  const message = failure(['Alice', alice], ['Bob', bob], ['Carol', carol])
  expect(message).toContain('1 of 3 devices did not converge')
  expect(message).toContain('Bob diverged from Alice: item "milk" quantity: 3 (Alice) vs 4 (Bob)')
  expect(message).not.toContain('Carol diverged')
})

test('checker: a line only one device has, and a different order, are named', () => {
  const { alice, bob, carol } = threeReplicas()
  carol.addItem('Eggs')
  expect(failure(['Alice', alice], ['Carol', carol])).toContain(
    'Carol diverged from Alice: item "eggs" is on Carol (quantity 1) but not on Alice',
  )

  // the same lines with different order keys: the item's order field differs first
  bob.moveItem('tea', 0)
  expect(failure(['Alice', alice], ['Bob', bob])).toMatch(
    /^1 of 2 devices did not converge:\n {2}Bob diverged from Alice: item "tea" order: "[^"]+" \(Alice\) vs "[^"]+" \(Bob\)$/,
  )
  // the order of the lines alone (items equal field by field) is compared too
  const a = alice.snapshot()
  const reordered: SpaceSnapshot = { ...a, cart: [...a.cart].reverse() }
  expect(firstDifference(a, reordered, ['Alice', 'Bob'])).toBe(
    'cart order differs at line 1: "milk" (Alice) vs "tea" (Bob); Alice: ["milk","bread","tea"], Bob: ["tea","bread","milk"]',
  )
})

test('checker: a note body that differs is named by note and position, with both texts around it', () => {
  const { alice, bob, noteId } = threeReplicas()
  bob.editNote(noteId, 'pasta on '.length, 0, 'late ')
  const message = failure(['Alice', alice], ['Bob', bob])
  expect(message).toContain(`Bob diverged from Alice: note "Plan" [${noteId}] body differs at character 9`)
  expect(message).toContain('(lengths 34 vs 39)')
  expect(message).toContain('pasta on [F]riday, salad… (Alice) vs pasta on [l]ate Friday, … (Bob)')
})

test('checker: every diverged device is listed, and a raw-only difference is still found', () => {
  const { alice, bob, carol } = threeReplicas()
  bob.setField('bread', 'note', 'wholegrain')
  carol.rename('Other flat')
  const message = failure(['Alice', alice], ['Bob', bob], ['Carol', carol])
  expect(message).toContain('2 of 3 devices did not converge')
  expect(message).toContain('Bob diverged from Alice: item "bread" note: "" (Alice) vs "wholegrain" (Bob)')
  expect(message).toContain(
    'Carol diverged from Alice: space name: "Checker flat" (Alice) vs "Other flat" (Carol)',
  )

  // the same visible state with another replica's counter register: only the raw maps differ
  const a = alice.snapshot()
  const raw = { ...a.raw, qty: [...a.raw.qty, ['milk\u001f0123456789abcdef', '0:0']] as typeof a.raw.qty }
  expect(firstDifference(a, { ...a, raw }, ['Alice', 'Bob'])).toBe(
    'raw qty key "milk␟0123456789abcdef" is on Bob (value "0:0") but not on Alice',
  )
})
