import type { Presence } from '@converge/sync-client'
import { describe, expect, it } from 'vitest'
import { onlyOtherPerson } from './notes-presence.js'

const p = (clientId: number, personId: string | null, name: string, self = false): Presence => ({
  clientId,
  personId,
  name,
  color: '#4f46e5',
  self,
})

describe('who else is here, for "… moved this note to the trash"', () => {
  it('names the one other person, whatever number of tabs they have open', () => {
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(2, 'alice', 'Alice')])).toBe('Alice')
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(2, 'alice', 'Alice'), p(3, 'alice', 'Alice')])).toBe(
      'Alice',
    )
    // my own other tab is not someone else
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(4, 'me', 'Me'), p(2, 'alice', 'Alice')])).toBe('Alice')
  })

  it('guesses nobody when no one or more than one person is here, or the name is blank', () => {
    expect(onlyOtherPerson([p(1, 'me', 'Me', true)])).toBeNull()
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(4, 'me', 'Me')])).toBeNull()
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(2, 'alice', 'Alice'), p(3, 'bob', 'Bob')])).toBeNull()
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(2, null, 'Alice'), p(3, null, 'Alice')])).toBeNull()
    expect(onlyOtherPerson([p(1, 'me', 'Me', true), p(2, 'x', '  ')])).toBeNull()
    expect(onlyOtherPerson([])).toBeNull()
  })
})
