/**
 * The status line (SPEC.md "Status"): what is derived (SYNC-1, SYNC-13) and what is shown (SYNC-12),
 * on a stepped clock — typing at 10 keys a second with acks 50 ms behind, a socket that drops and
 * comes back, the browser going offline.
 */
import { describe, expect, it } from 'vitest'
import { CALM_MS, CalmStatus, type SyncStatus, deriveStatus, statusText } from '../src/index.js'
import { SteppedTimers } from './support/stepped-timers.js'

const saved: SyncStatus = { kind: 'saved' }
const syncing = (pending = 1): SyncStatus => ({ kind: 'syncing', pending })

const calm = () => {
  const timers = new SteppedTimers()
  const shown: SyncStatus[] = []
  const c = new CalmStatus(timers, (s) => shown.push(s))
  return { timers, shown, c }
}

describe('what the status line shows', () => {
  it('[SYNC-12] typing 40 characters at 10 a second, each acknowledged 50 ms later: "saved" all along, no flicker', () => {
    const { timers, shown, c } = calm()
    c.set(saved)
    for (let k = 0; k < 40; k++) {
      c.set(syncing(k + 1))
      timers.advance(50)
      c.set(saved)
      timers.advance(50)
    }
    expect(shown).toEqual([saved])
    expect(timers.pending).toBe(0)
  })

  it('[SYNC-12] a change that waits longer than CALM_MS shows "syncing", with the latest count, then "saved" at once', () => {
    const { timers, shown, c } = calm()
    c.set(saved)
    c.set(syncing(1))
    timers.advance(CALM_MS - 1)
    c.set(syncing(2))
    expect(shown).toEqual([saved])
    timers.advance(1)
    expect(shown).toEqual([saved, syncing(2)])
    c.set(saved)
    expect(shown).toEqual([saved, syncing(2), saved])
  })

  it('[SYNC-12] a socket that drops and is back within CALM_MS shows nothing; one that stays down shows "can’t reach the server"; offline and errors show at once', () => {
    const { timers, shown, c } = calm()
    c.set(saved)
    c.set({ kind: 'unreachable', pending: 0 })
    timers.advance(300)
    c.set(syncing(0))
    timers.advance(300)
    c.set(saved)
    expect(shown).toEqual([saved])
    c.set({ kind: 'unreachable', pending: 0 })
    timers.advance(CALM_MS)
    expect(shown.at(-1)).toEqual({ kind: 'unreachable', pending: 0 })
    c.set({ kind: 'offline', pending: 3 })
    expect(shown.at(-1)).toEqual({ kind: 'offline', pending: 3 })
    c.set(saved)
    c.set({ kind: 'error', error: 'Unauthorized', pending: 0 })
    expect(shown.at(-1)).toEqual({ kind: 'error', error: 'Unauthorized', pending: 0 })
  })

  it('[SYNC-12] the first status is shown at once, whatever it is', () => {
    const { shown, c } = calm()
    c.set(syncing(0))
    expect(shown).toEqual([syncing(0)])
  })
})

describe('what the status is', () => {
  it('[SYNC-13] the browser offline is "offline"; online without the server is "can’t reach the server" once an attempt failed; the first attempt is "syncing"', () => {
    const base = { covered: false, pending: 2, error: null }
    expect(deriveStatus({ ...base, connected: false, online: false, attempt: 3 }).kind).toBe('offline')
    expect(deriveStatus({ ...base, connected: false, online: true, attempt: 1 }).kind).toBe('unreachable')
    expect(deriveStatus({ ...base, connected: false, online: true, attempt: 0 }).kind).toBe('syncing')
    expect(deriveStatus({ ...base, connected: true, online: true, attempt: 0, covered: true }).kind).toBe(
      'saved',
    )
  })

  it('[SYNC-13] the words never count keystrokes: only whether something waits and where it is kept', () => {
    expect(statusText({ kind: 'offline', pending: 17 })).toBe('offline — changes saved on this device')
    expect(statusText({ kind: 'offline', pending: 0 })).toBe('offline — no unsynced changes')
    expect(statusText({ kind: 'unreachable', pending: 17 })).toBe(
      "can't reach the server — changes saved here",
    )
    expect(statusText({ kind: 'unreachable', pending: 0 })).toBe("can't reach the server — trying again")
    expect(statusText(syncing(17))).toBe('syncing…')
    for (const s of [
      { kind: 'offline', pending: 17 },
      { kind: 'unreachable', pending: 17 },
      syncing(17),
    ] as const)
      expect(statusText(s)).not.toMatch(/\d/)
  })
})
