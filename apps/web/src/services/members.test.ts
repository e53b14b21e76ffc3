import type { Member } from '@converge/merge'
import { describe, expect, it } from 'vitest'
import { colorInSpace, memberColor, recordMember, type MemberSpace } from './members.js'
import { PROFILE_COLORS } from './profile.js'

const [indigo, teal, red] = PROFILE_COLORS.map((c) => c.value) as [string, string, string]
const member = (id: string, name: string, color: string): Member => ({ id, name, color, seenAt: 1 })

describe('members: a colour is never one already taken', () => {
  it('keeps your own colour when nobody else in the space has it', () => {
    expect(colorInSpace([member('p-b', 'Bo', teal)], { id: 'p-a', color: indigo })).toBe(indigo)
    // your own record does not count as someone else's
    expect(colorInSpace([member('p-a', 'Ana', indigo)], { id: 'p-a', color: indigo })).toBe(indigo)
  })

  it('two people who chose one colour offline: the greater id moves to the first free colour, the other keeps it', () => {
    const members = [member('p-a', 'Alice', indigo), member('p-b', 'Alice', indigo)]
    expect(colorInSpace(members, { id: 'p-a', color: indigo })).toBe(indigo)
    expect(colorInSpace(members, { id: 'p-b', color: indigo })).toBe(teal)
    // and the colour it moved to is taken by nobody: with teal taken too, red
    expect(colorInSpace([...members, member('p-0', 'Cy', teal)], { id: 'p-b', color: indigo })).toBe(red)
  })

  it('with every colour taken, keeps its own rather than failing', () => {
    const members = PROFILE_COLORS.map((c, i) => member(`p-${i}`, `P${i}`, c.value.toLowerCase()))
    expect(colorInSpace(members, { id: 'p-z', color: indigo })).toBe(indigo)
  })

  it('records the person only with a chosen name and a writable space, and never throws', () => {
    const writes: unknown[] = []
    const space = (readOnly: boolean, fail = false): MemberSpace => ({
      readOnly,
      members: () => {
        if (fail) throw new Error('broken')
        return [member('p-0', 'Bo', indigo.toLowerCase())]
      },
      setMember: (id, m) => {
        if (fail) throw new Error('SchemaTooNew')
        writes.push([id, m])
      },
    })
    const me = { id: 'p-1', name: 'Ana', color: indigo }
    expect(memberColor(space(false), me)).toBe(teal)
    recordMember(space(false), { ...me, color: teal }, true)
    expect(writes).toEqual([['p-1', { name: 'Ana', color: teal }]])
    recordMember(space(true), me, true) // a read-only link
    recordMember(space(false), me, false) // "Guest 518", not chosen yet
    expect(writes).toHaveLength(1)
    expect(memberColor(space(false, true), me)).toBe(indigo)
    expect(() => recordMember(space(false, true), me, true)).not.toThrow()
  })
})
