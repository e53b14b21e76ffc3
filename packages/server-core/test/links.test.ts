/**
 * Link generations and expiry (SPEC.md REVOKE-1…5; PROTOCOL.md §P5.10): a reset closes the sockets of
 * older links on every instance, a room holds the newest generation it has seen, an instance that
 * missed the notice catches up, and a token's `exp` closes its socket — all on a ManualScheduler, so
 * "not yet" and "not at all" are checked after stepping, never by sleeping.
 */
import { CloseCode, ErrorKind, encodeMessage } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import { type AuthDecision, type LogFields, type Logger, StorageError } from '../src/index.js'
import { Client, ControlledStore, authenticate, world } from './harness.js'

const DAY = 24 * 60 * 60 * 1000

/** The error kinds a client was sent. */
const errors = (c: Client): string[] => c.received.flatMap((m) => (m.type === 'error' ? [m.kind] : []))
/** Whether a client was sent anything of the document. */
const sawDocument = (c: Client): boolean =>
  c.received.some((m) => m.type === 'sync-step1' || m.type === 'sync-step2' || m.type === 'sync-update')

describe('link generations', () => {
  it('[REVOKE-1] a reset closes every socket of an older link with 4410, here at once and on the other instances after the fan-out; newer links and other spaces stay', async () => {
    const store = new ControlledStore()
    const { time, hub, core } = world()
    const one = core(store, { fanOut: hub.instance() })
    const two = core(store, { fanOut: hub.instance() })
    const alice = new Client(one, 's1', 'w@0')
    const bob = new Client(two, 's1', 'w@0')
    const reader = new Client(two, 's1', 'r@0', false) // a stock client: no error message, the close only
    const elsewhere = new Client(two, 's2', 'w@0')
    await time.runTurns()
    alice.type('before the reset')
    await time.runTurns()
    expect(bob.text).toBe('before the reset')

    expect(one.revokeLinks('s1', 1)).toBe(1)
    expect(alice.closed).toEqual({ code: CloseCode.LinkRevoked, reason: ErrorKind.LinkRevoked })
    expect(errors(alice)).toEqual([ErrorKind.LinkRevoked])
    expect(bob.closed, 'instance two hears of it over the fan-out, in a turn of its own').toBeNull()
    await time.runTurns()
    expect(bob.closed).toEqual({ code: CloseCode.LinkRevoked, reason: ErrorKind.LinkRevoked })
    expect(errors(bob)).toEqual([ErrorKind.LinkRevoked])
    expect(reader.closed?.code).toBe(CloseCode.LinkRevoked)
    expect(errors(reader)).toEqual([])
    expect(elsewhere.closed, 'another space is untouched').toBeNull()

    // the new link works, on either instance, with everything written before
    const again = new Client(two, 's1', 'w@1')
    await time.runTurns()
    expect(again.closed).toBeNull()
    expect(again.text).toBe('before the reset')
    expect(one.revokeLinks('s1', 1), 'the same reset again closes nothing').toBe(0)
    await time.runTurns()
    expect(again.closed).toBeNull()
    expect(store.text('s1')).toBe('before the reset')
  })

  it('[REVOKE-1] closeConnections closes only the connections it picks, with the kind it names', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const writer = new Client(c, 's1', 'w@3')
    const reader = new Client(c, 's1', 'r@3')
    const other = new Client(c, 's2', 'r@3')
    await time.runTurns()
    const picked = c.closeConnections(
      's1',
      (info) => info.access === 'read' && info.generation === 3,
      ErrorKind.LinkRevoked,
      'picked',
    )
    expect(picked).toBe(1)
    expect(reader.closed?.code).toBe(CloseCode.LinkRevoked)
    expect(writer.closed).toBeNull()
    expect(other.closed).toBeNull()
  })

  it('[REVOKE-2] a room holds one link generation, the newest it has seen: a newer link closes the older ones, an older one is closed as it joins, before any document data', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const old = new Client(c, 's1', 'w@0')
    await time.runTurns()
    old.type('kept')
    await time.runTurns()
    // a device holding the new link (issued by a reset this instance did not see) joins
    const fresh = new Client(c, 's1', 'w@1')
    await time.runTurns()
    expect(old.closed?.code).toBe(CloseCode.LinkRevoked)
    expect(fresh.closed).toBeNull()
    expect(fresh.text).toBe('kept')
    // the old link, opened again, is closed as it joins and is sent nothing of the space
    const late = new Client(c, 's1', 'w@0')
    await time.runTurns()
    expect(late.closed?.code).toBe(CloseCode.LinkRevoked)
    expect(sawDocument(late)).toBe(false)
    expect(errors(late), 'closed before its hello was read, as at authentication').toEqual([])
  })

  it('[REVOKE-2] a connection being authenticated while its links are reset is closed once its decision names an older generation', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    let decide: ((d: AuthDecision) => void) | null = null
    const c = core(store, {
      authenticate: (spaceId, token) =>
        token === 'slow' ? new Promise<AuthDecision>((r) => (decide = r)) : authenticate(spaceId, token),
    })
    const slow = new Client(c, 's1', 'slow')
    await time.runTurns()
    expect(decide).not.toBeNull()
    expect(c.revokeLinks('s1', 1)).toBe(0) // nothing open to close yet
    decide!({ ok: true, access: 'write', generation: 0 }) // read before the reset committed
    await time.runTurns()
    expect(slow.closed?.code).toBe(CloseCode.LinkRevoked)
    expect(sawDocument(slow)).toBe(false)
  })

  it('[REVOKE-3] an instance that missed the notice catches up when its fan-out is back, and a room that loads later learns it; a stranger cannot bring a generation back, nor is an unknown or broken notice anything but dropped', async () => {
    const store = new ControlledStore()
    const warnings: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (_f: LogFields, m) => void warnings.push(m),
      error() {},
    }
    const { time, hub, core } = world()
    const one = core(store, { fanOut: hub.instance() })
    const fanTwo = hub.instance()
    const two = core(store, { fanOut: fanTwo, logger })
    const alice = new Client(one, 's1', 'w@0')
    const bob = new Client(two, 's1', 'w@0') // on an instance whose fan-out is cut at the reset
    await time.runTurns()
    fanTwo.cut()
    one.revokeLinks('s1', 1)
    await time.runTurns()
    expect(alice.closed?.code).toBe(CloseCode.LinkRevoked)
    expect(bob.closed, 'the notice was lost in the gap').toBeNull()
    fanTwo.restore() // two resyncs; the room on one, still loaded, answers with its generation
    await time.runTurns()
    expect(bob.closed?.code).toBe(CloseCode.LinkRevoked)

    // a third instance loading the space later learns the generation from the rooms that know it
    const three = core(store, { fanOut: hub.instance() })
    const carol = new Client(three, 's1', 'w@0')
    await time.runTurns()
    expect(carol.closed?.code).toBe(CloseCode.LinkRevoked)

    // an `error` of another kind over the fan-out (a newer instance, say) is ignored; a LinkRevoked
    // notice without a generation is dropped and logged (LINK-1); neither closes anyone
    const dave = new Client(two, 's1', 'w@1')
    await time.runTurns()
    const stranger = hub.instance()
    stranger.publish('s1', encodeMessage({ type: 'error', kind: 'SomethingNew', message: '9' }))
    stranger.publish('s1', encodeMessage({ type: 'error', kind: ErrorKind.LinkRevoked, message: 'soon' }))
    await time.runTurns()
    expect(dave.closed).toBeNull()
    expect(warnings.filter((w) => w === 'undecodable fan-out frame dropped')).toHaveLength(1)
    // an older generation changes nothing
    stranger.publish('s1', encodeMessage({ type: 'error', kind: ErrorKind.LinkRevoked, message: '0' }))
    await time.runTurns()
    expect(dave.closed).toBeNull()
    expect(two.loadedRoom('s1')?.linkGeneration).toBe(1)
  })
})

describe('link expiry', () => {
  it('[REVOKE-4] a token with exp closes its socket at exp with 4401, through the Scheduler; one past it at connect is closed before any data', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const a = new Client(c, 's1', 'w@0~5000')
    const forever = new Client(c, 's1', 'w@0')
    await time.runTurns()
    expect(a.closed).toBeNull()
    await time.advance(4999)
    expect(a.closed).toBeNull()
    await time.advance(1)
    expect(a.closed).toEqual({ code: CloseCode.Unauthorized, reason: ErrorKind.Unauthorized })
    expect(a.received.find((m) => m.type === 'error')).toEqual({
      type: 'error',
      kind: ErrorKind.Unauthorized,
      message: 'this link has expired',
    })
    expect(forever.closed).toBeNull()

    // expired by the time its decision came (exp passed while it was checked)
    const late = new Client(c, 's1', 'w@0~4000')
    await time.runTurns()
    expect(late.closed?.code).toBe(CloseCode.Unauthorized)
    expect(sawDocument(late)).toBe(false)

    // a socket that closes first leaves no timer behind
    const gone = new Client(c, 's1', 'w@0~9000')
    await time.runTurns()
    gone.drop()
    await time.advance(10_000)
    expect(gone.closed).toEqual({ code: 1006, reason: 'dropped' })
  })

  it('[REVOKE-4] an expiry beyond what a host timer can wait (24.8 days) closes at exp, not before', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore(), { limits: { idleUnloadMs: DAY } })
    const a = new Client(c, 's1', `w@0~${30 * DAY}`)
    await time.runTurns()
    await time.advance(25 * DAY)
    expect(a.closed).toBeNull()
    await time.advance(5 * DAY - 1)
    expect(a.closed).toBeNull()
    await time.advance(1)
    expect(a.closed?.code).toBe(CloseCode.Unauthorized)
  })
})

describe('link generations and storage', () => {
  it('[REVOKE-5] a link generation that cannot be read closes with 4503, to be retried, never 4401', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore(), {
      authenticate: () => Promise.reject(new StorageError('database unreachable')),
    })
    const a = new Client(c, 's1', 'w@0')
    await time.runTurns()
    expect(a.closed).toEqual({ code: CloseCode.StorageUnavailable, reason: ErrorKind.StorageUnavailable })
    expect(sawDocument(a)).toBe(false)
  })
})
