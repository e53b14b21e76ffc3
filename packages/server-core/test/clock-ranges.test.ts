import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ClockRanges } from '../src/clock-ranges.js'

describe('ClockRanges: what a durable ack may claim', () => {
  it('[ACK-1] claims only the contiguous prefix; a gap filled later joins what lay beyond it', () => {
    const r = new ClockRanges()
    expect(r.add(1, 0, 3)).toBe(true)
    expect(r.add(1, 5, 9)).toBe(false) // [3, 5) is missing: not claimed
    expect(Y.decodeStateVector(r.encode()).get(1)).toBe(3)
    expect(r.covers({ from: new Map([[1, 6]]), to: new Map([[1, 8]]) })).toBe(true)
    expect(r.covers({ from: new Map([[1, 2]]), to: new Map([[1, 6]]) })).toBe(false)
    expect(r.add(1, 3, 5)).toBe(true)
    expect(r.clock(1)).toBe(9)
  })

  it('[ACK-2] raise takes another state vector (a load, another instance) and reports whether it advanced', () => {
    const r = new ClockRanges()
    r.add(7, 0, 4)
    expect(r.raise(new Map([[7, 2]]))).toBe(false)
    expect(
      r.raise(
        new Map([
          [7, 6],
          [8, 1],
        ]),
      ),
    ).toBe(true)
    expect([...Y.decodeStateVector(r.encode())].sort()).toEqual([
      [7, 6],
      [8, 1],
    ])
  })
})
