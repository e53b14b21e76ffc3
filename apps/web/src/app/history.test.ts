import { describe, expect, it } from 'vitest'
import { restoredText, versionLabel } from './history.js'

const at = new Date(2026, 11, 1, 18, 4).getTime()

describe('version history in the app', () => {
  it('[WEB-HISTORY-1] a version is named by when, who and how many changes', () => {
    const label = versionLabel({ at, authors: ['Sam', 'Alex'], changes: 12 })
    expect(label).toMatch(/— Sam, Alex, 12 changes$/)
    expect(label).toContain('1')
    expect(versionLabel({ at, authors: [], changes: 1 })).toMatch(/— 1 change$/)
    expect(versionLabel({ at, authors: ['A', 'B', 'C', 'D', 'E'], changes: 3 })).toMatch(
      /— A, B, C and 2 more, 3 changes$/,
    )
  })

  it('[WEB-HISTORY-3] a restore says what it brought back, or that nothing differed', () => {
    expect(restoredText({ at }, { added: 2, removed: 1, changed: 0, notes: 1, space: 0 })).toMatch(
      /^Restored .*: 2 lines back, 1 removed, 1 note\.$/,
    )
    expect(restoredText({ at }, { added: 0, removed: 0, changed: 0, notes: 0, space: 0 })).toMatch(
      /nothing to restore\.$/,
    )
  })
})
