import type { CartItem, Note } from '@converge/merge'
import { describe, expect, it } from 'vitest'
import { AnnounceThrottle, type AnnounceView, describeChanges, summarize } from './announce.js'

const item = (name: string, patch: Partial<CartItem> = {}): CartItem => ({
  key: name.toLowerCase(),
  name,
  quantity: 1,
  note: '',
  unit: '',
  priceCents: null,
  category: '',
  checked: false,
  checkedBy: null,
  order: 'a',
  addedBy: null,
  addedAt: null,
  ...patch,
})

const note = (id: string, title: string, patch: Partial<Note> = {}): Note => ({
  id,
  title,
  body: '',
  createdAt: 1,
  createdBy: 'x',
  updatedAt: 1,
  trashed: false,
  trashedAt: null,
  pinnedAt: null,
  ...patch,
})

const view = (items: CartItem[], notes: Note[] = [], trash: Note[] = []): AnnounceView => ({
  items,
  notes,
  trash,
})
const texts = (a: AnnounceView, b: AnnounceView): string[] => describeChanges(a, b).map((c) => c.text)

describe('describeChanges', () => {
  it('says what happened to cart lines', () => {
    const before = view([item('Milk'), item('Bread'), item('Eggs'), item('Tea', { checked: true })])
    const after = view([
      item('Milk', { quantity: 3 }),
      item('Bread', { checked: true, checkedBy: 'Sam' }),
      item('Tea'),
      item('Jam'),
    ])
    expect(texts(before, after)).toEqual([
      'Milk: quantity 3',
      'Bread checked off by Sam',
      'Tea unchecked',
      'Jam added',
      'Eggs removed',
    ])
  })

  it('names the line as shown, and a rename', () => {
    expect(texts(view([item('Milk')]), view([item('Milk', { name: 'MILK' })]))).toEqual([
      'Milk renamed to MILK',
    ])
    expect(texts(view([]), view([item('Soap', { name: '' })]))).toEqual(['soap added'])
    expect(texts(view([item('Bread')]), view([item('Bread', { checked: true, checkedBy: '  ' })]))).toEqual([
      'Bread checked off',
    ])
  })

  it('says what happened to notes', () => {
    const before = view([], [note('1', 'Plan'), note('2', 'Trip'), note('3', '')], [note('4', 'Old')])
    const after = view(
      [],
      [note('2', 'Trip to Rome'), note('3', ''), note('4', 'Old'), note('5', 'New')],
      [note('1', 'Plan', { trashed: true })],
    )
    expect(texts(before, after)).toEqual([
      'Note “Trip” renamed to “Trip to Rome”',
      'Note “Old” restored',
      'Note “New” added',
      'Note “Plan” moved to the trash',
    ])
  })

  it('nothing changed: nothing to say; a body edit is not announced', () => {
    const a = view([item('Milk')], [note('1', 'Plan')])
    expect(texts(a, view([item('Milk')], [note('1', 'Plan', { body: 'more' })]))).toEqual([])
  })

  it('points at what to highlight', () => {
    const changes = describeChanges(view([item('Eggs')]), view([item('Milk')], [note('n', 'Plan')]))
    expect(changes.map((c) => c.target)).toEqual([
      { kind: 'item', key: 'milk' },
      null,
      { kind: 'note', id: 'n' },
    ])
  })
})

describe('AnnounceThrottle', () => {
  const fakeClock = () => {
    let t = 0
    const timers: { at: number; fn: () => void }[] = []
    return {
      now: () => t,
      setTimeout: (fn: () => void, ms: number) => {
        const timer = { at: t + ms, fn }
        timers.push(timer)
        return timer
      },
      clearTimeout: (h: unknown) => {
        const i = timers.indexOf(h as (typeof timers)[number])
        if (i >= 0) timers.splice(i, 1)
      },
      advance(ms: number) {
        t += ms
        for (const timer of [...timers].sort((a, b) => a.at - b.at))
          if (timer.at <= t) {
            timers.splice(timers.indexOf(timer), 1)
            timer.fn()
          }
      },
    }
  }

  it('says the first change at once, then at most one sentence per window', () => {
    const clock = fakeClock()
    const said: string[] = []
    const throttle = new AnnounceThrottle((s) => said.push(s), 2000, clock)
    throttle.push(['Milk added'])
    expect(said).toEqual(['Milk added'])
    clock.advance(500)
    throttle.push(['Bread added'])
    throttle.push(['Eggs added', 'Tea removed'])
    expect(said).toEqual(['Milk added'])
    clock.advance(1499)
    expect(said).toEqual(['Milk added'])
    clock.advance(1)
    expect(said).toEqual(['Milk added', '3 changes from others'])
    // quiet for a window: the next one is said at once again
    clock.advance(2000)
    throttle.push(['Jam added'])
    expect(said).toEqual(['Milk added', '3 changes from others', 'Jam added'])
  })

  it('a single change in a window is said as itself; several at once are counted', () => {
    const clock = fakeClock()
    const said: string[] = []
    const throttle = new AnnounceThrottle((s) => said.push(s), 2000, clock)
    throttle.push(['Milk added', 'Bread added'])
    clock.advance(100)
    throttle.push(['Eggs removed'])
    clock.advance(2000)
    expect(said).toEqual(['2 changes from others', 'Eggs removed'])
    throttle.dispose()
    throttle.push([])
    expect(summarize([])).toBeNull()
  })
})
