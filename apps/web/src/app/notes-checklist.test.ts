import { describe, expect, it } from 'vitest'
import {
  checklistLines,
  checklistProgress,
  displayLine,
  parseChecklistLine,
  startChecklist,
  toggledBox,
} from './notes-checklist.js'

describe('checklist lines in a note', () => {
  it('reads "- [ ]", "* [ ]", "- [x]" and "- [X]" as checklist lines, with the text after them', () => {
    expect(parseChecklistLine('- [ ] milk')).toEqual({
      markerFrom: 0,
      markerTo: 5,
      box: 3,
      checked: false,
      text: 'milk',
    })
    expect(parseChecklistLine('* [x] eggs')).toMatchObject({ checked: true, text: 'eggs' })
    expect(parseChecklistLine('- [X] bread ')).toMatchObject({ checked: true, text: 'bread' })
    expect(parseChecklistLine('  - [ ] indented')).toMatchObject({ markerFrom: 2, box: 5, text: 'indented' })
    expect(parseChecklistLine('- [ ]')).toMatchObject({ checked: false, text: '' })
  })

  it('does not read other lines as checklists', () => {
    for (const line of [
      'milk',
      '- milk',
      '-[ ] milk',
      '- [] milk',
      '- [y] milk',
      '- [ ]milk',
      '+ [ ] milk',
      'a - [ ] b',
    ])
      expect(parseChecklistLine(line), line).toBeNull()
  })

  it('finds every checklist line with offsets into the whole text, and counts done ones', () => {
    const text = 'Shopping\n- [ ] milk\n- [x] eggs\nnot one\n* [X] tea'
    const lines = checklistLines(text)
    expect(lines.map((l) => l.text)).toEqual(['milk', 'eggs', 'tea'])
    for (const l of lines) {
      expect(text[l.box - 1]).toBe('[')
      expect(text[l.box + 1]).toBe(']')
    }
    expect(checklistProgress(text)).toEqual({ done: 2, total: 3 })
    expect(checklistProgress('no list')).toEqual({ done: 0, total: 0 })
    expect(checklistProgress(undefined)).toEqual({ done: 0, total: 0 })
    expect(checklistProgress('')).toEqual({ done: 0, total: 0 })
  })

  it('a toggle replaces exactly the box character; starting one adds "- [ ] " or only the box', () => {
    expect(toggledBox(false)).toBe('x')
    expect(toggledBox(true)).toBe(' ')
    expect(startChecklist('milk')).toEqual({ at: 0, insert: '- [ ] ' })
    expect(startChecklist('  milk')).toEqual({ at: 2, insert: '- [ ] ' })
    expect(startChecklist('- milk')).toEqual({ at: 2, insert: '[ ] ' })
    expect(startChecklist('')).toEqual({ at: 0, insert: '- [ ] ' })
    expect(startChecklist('- [x] milk')).toBeNull()
  })

  it('a list shows a checklist line with a box character instead of its marker', () => {
    expect(displayLine('- [ ] milk')).toBe('☐ milk')
    expect(displayLine('* [x] eggs')).toBe('☑ eggs')
    expect(displayLine('- milk')).toBe('- milk')
  })
})
