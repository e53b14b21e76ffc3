/**
 * Presence a room can trust (SPEC.md PRESENCE-1…6): who may set which awareness id, what a state
 * may hold, and what becomes of the rest. Attackers here are raw clients sending awareness updates
 * they encoded themselves (any id, any clock, any JSON); the honest ones are read back through a
 * y-protocols Awareness, as a browser would.
 */
import { CloseCode, ErrorKind, encodeMessage } from '@converge/protocol'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { CoreEvents, LogFields, Logger } from '../src/index.js'
import {
  PRESENCE_MAX_IDS_PER_CONNECTION,
  PRESENCE_STRIKE_BURST,
  decodeAwarenessUpdate,
  isRelativePositionJson,
  presenceStateProblem,
} from '../src/presence.js'
import { Client, ControlledStore, world } from './harness.js'

interface Entry {
  readonly id: number
  readonly clock: number
  /** The state as JSON, or a value to stringify (null: a removal). */
  readonly state: unknown
}

/** An awareness update as any client could encode it: any id, any clock, any JSON. */
const update = (...entries: Entry[]): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const { id, clock, state } of entries) {
    encoding.writeVarUint(e, id)
    encoding.writeVarUint(e, clock)
    encoding.writeVarString(e, typeof state === 'string' ? state : JSON.stringify(state))
  }
  return encoding.toUint8Array(e)
}

const sendPresence = (client: Client, ...entries: Entry[]): void =>
  client.send({ type: 'awareness', update: update(...entries) })

/** The presence states a client has been told of, by awareness client id. */
const presence = (client: Client): Map<number, unknown> => {
  const aw = new awarenessProtocol.Awareness(new Y.Doc())
  aw.setLocalState(null) // only what the client was told of
  for (const m of client.received)
    if (m.type === 'awareness') awarenessProtocol.applyAwarenessUpdate(aw, m.update, null)
  const states = new Map<number, unknown>(aw.getStates())
  aw.destroy()
  return states
}

/** The awareness entries a client received, frame by frame. */
const presenceFrames = (client: Client): { id: number; state: unknown }[][] =>
  client.received.flatMap((m) =>
    m.type === 'awareness'
      ? [decodeAwarenessUpdate(m.update).entries.map((e) => ({ id: e.clientId, state: e.state }))]
      : [],
  )

const ana = { user: { name: 'Ana', color: '#4f46e5', colorLight: '#4f46e533' } }
const eve = { user: { name: 'Eve', color: '#b91c1c' } }
const ANA = 1001
const EVE = 2002

/** Counts `presenceRefused` by kind, and keeps every log line. */
const watch = () => {
  const refused: Record<string, number> = {}
  const lines: { level: string; msg: string; fields: LogFields }[] = []
  const events: CoreEvents = {
    presenceRefused: (kind, states) => void (refused[kind] = (refused[kind] ?? 0) + states),
  }
  const log =
    (level: string) =>
    (fields: LogFields, msg: string): void =>
      void lines.push({ level, msg, fields })
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  return { refused, lines, events, logger }
}

/** A room with Ana (write token) presenting herself, and a reader (read token) watching. */
const roomWithAna = async () => {
  const w = watch()
  const { time, hub, core } = world()
  const store = new ControlledStore()
  const one = core(store, { fanOut: hub.instance(), events: w.events, logger: w.logger })
  const a = new Client(one, 's1', 'w')
  const reader = new Client(one, 's1', 'r')
  await time.runAll()
  sendPresence(a, { id: ANA, clock: 1, state: ana })
  await time.runAll()
  expect(presence(reader).get(ANA)).toEqual(ana)
  return { ...w, time, hub, core, store, one, a, reader }
}

/** A valid y-codemirror.next cursor into the note `n` of `doc` (JSON of Y.RelativePosition, as it writes it). */
const cursorInto = (doc: Y.Doc, index = 0): { anchor: unknown; head: unknown } => {
  const text = doc.getText('body:n')
  const at = (i: number): unknown =>
    JSON.parse(JSON.stringify(Y.createRelativePositionFromTypeIndex(text, i))) as unknown
  return { anchor: at(index), head: at(text.length) }
}

describe('presence: ownership', () => {
  it('[PRESENCE-1] impersonation: a state for an id another connection owns is dropped, counted and logged once', async () => {
    const { time, one, reader, refused, lines } = await roomWithAna()
    const e = new Client(one, 's1', 'r')
    await time.runAll()
    sendPresence(e, { id: ANA, clock: 2, state: eve })
    sendPresence(e, { id: ANA, clock: 99, state: { user: { name: 'Ana', color: '#000' } } })
    await time.runAll()
    expect(presence(reader).get(ANA)).toEqual(ana)
    expect(
      presenceFrames(reader)
        .flat()
        .filter((x) => x.id === ANA),
    ).toHaveLength(1) // Ana's own, only
    expect(refused['not-owned']).toBe(2)
    expect(
      lines.filter((l) => l.msg.startsWith('presence refused') && l.fields.conn !== undefined),
    ).toHaveLength(1)
    expect(e.closed).toBeNull() // refused, not closed: a stock client echoes others' states
    // a newcomer gets Ana as she is
    const late = new Client(one, 's1', 'r')
    await time.runAll()
    expect(presence(late).get(ANA)).toEqual(ana)
  })

  it('[PRESENCE-1] hiding someone: a removal (null) for an id another connection owns is dropped', async () => {
    const { time, one, reader, refused } = await roomWithAna()
    const e = new Client(one, 's1', 'r')
    await time.runAll()
    sendPresence(e, { id: ANA, clock: 1, state: null }) // her clock: y-protocols would remove her
    sendPresence(e, { id: ANA, clock: 7, state: null })
    await time.runAll()
    expect(presence(reader).get(ANA)).toEqual(ana)
    expect(refused['not-owned']).toBe(2)
    const late = new Client(one, 's1', 'r')
    await time.runAll()
    expect(presence(late).get(ANA)).toEqual(ana)
    // an echo of her state as she sent it changes nothing, and is not counted
    sendPresence(e, { id: ANA, clock: 1, state: ana })
    await time.runAll()
    expect(refused['not-owned']).toBe(2)
  })

  it('[PRESENCE-1] a read-only connection publishes its own presence, and nobody else\u2019s', async () => {
    const { time, one, a, reader, refused } = await roomWithAna()
    const r = new Client(one, 's1', 'r')
    await time.runAll()
    sendPresence(r, { id: EVE, clock: 1, state: eve })
    await time.runAll()
    expect(presence(a).get(EVE)).toEqual(eve) // people see who is looking
    expect(presence(reader).get(EVE)).toEqual(eve)
    sendPresence(r, { id: ANA, clock: 5, state: { user: { name: 'Eve', color: '#b91c1c' } } })
    await time.runAll()
    expect(presence(reader).get(ANA)).toEqual(ana)
    expect(refused['not-owned']).toBe(1)
    // its own state it may change and remove; then the id is free again
    sendPresence(r, { id: EVE, clock: 2, state: null })
    await time.runAll()
    expect(presence(reader).has(EVE)).toBe(false)
    sendPresence(a, { id: EVE, clock: 3, state: { user: { name: 'Ana (tab 2)', color: '#4f46e5' } } })
    await time.runAll()
    expect(presence(reader).get(EVE)).toEqual({ user: { name: 'Ana (tab 2)', color: '#4f46e5' } })
  })

  it('[PRESENCE-2] a client reconnecting to a room still loaded arrives as updated, owns its id, and leaves with it', async () => {
    const { time, one, a, reader } = await roomWithAna()
    a.drop()
    await time.runAll()
    expect(presence(reader).has(ANA)).toBe(false)
    // the room kept her clock (y-protocols does): her renewed state is an `updated`, not an `added`
    const again = new Client(one, 's1', 'w', true, a.doc)
    await time.runAll()
    sendPresence(again, { id: ANA, clock: 2, state: ana })
    await time.runAll()
    expect(presence(reader).get(ANA)).toEqual(ana)
    again.drop()
    await time.runAll()
    expect(presence(reader).has(ANA), 'she leaves with her socket, not lingering').toBe(false)
  })

  it('[PRESENCE-2] a client back before its old socket closed waits for its id, and takes it when the old socket goes', async () => {
    const { time, one, a, reader, refused } = await roomWithAna()
    const again = new Client(one, 's1', 'w', true, a.doc) // the old socket is still open here
    await time.runAll()
    const renewed = { ...ana, cursor: null }
    sendPresence(again, { id: ANA, clock: 2, state: renewed })
    await time.runAll()
    expect(presence(reader).get(ANA)).toEqual(ana) // still the old socket's
    expect(refused['not-owned']).toBe(1)
    const seenBefore = presenceFrames(reader).length
    // the server notices the old socket go: her state goes with it, then the one she sent since
    // comes in (its clock is past the removal's: every peer takes it, she need not send it again)
    a.drop()
    await time.runAll()
    expect(presenceFrames(reader).slice(seenBefore)).toEqual([
      [{ id: ANA, state: null }],
      [{ id: ANA, state: renewed }],
    ])
    expect(presence(reader).get(ANA)).toEqual(renewed)
    again.drop()
    await time.runAll()
    expect(presence(reader).has(ANA), 'and she leaves with the new socket').toBe(false)
  })

  it('[PRESENCE-3] 30,000 fake ids from one connection: the room takes 8, relays them once, and the rest is counted', async () => {
    const { time, one, a, reader, refused, lines } = await roomWithAna()
    const framesBefore = presenceFrames(reader).length
    const e = new Client(one, 's1', 'r')
    await time.runAll()
    for (let batch = 0; batch < 30; batch++)
      sendPresence(
        e,
        ...Array.from({ length: 1000 }, (_, i) => ({
          id: 10_000 + batch * 1000 + i,
          clock: 1,
          state: { user: { name: `Fake ${i}`, color: '#000' } },
        })),
      )
    await time.runAll()
    expect(e.closed).toBeNull()
    const seen = presence(reader)
    expect(seen.get(ANA)).toEqual(ana)
    expect(seen.size).toBe(1 + PRESENCE_MAX_IDS_PER_CONNECTION)
    // the work stays bounded: one relayed frame of 8 states, one log line, the rest only counted
    const frames = presenceFrames(reader).slice(framesBefore)
    expect(frames).toHaveLength(1)
    expect(frames[0]).toHaveLength(PRESENCE_MAX_IDS_PER_CONNECTION)
    expect(refused['too-many']).toBe(30_000 - PRESENCE_MAX_IDS_PER_CONNECTION)
    expect(lines.filter((l) => l.msg.startsWith('presence refused'))).toHaveLength(1)
    // an honest newcomer sees Ana and at most 8 of them; when the flooder goes, so do they
    const late = new Client(one, 's1', 'r')
    await time.runAll()
    expect(presence(late).size).toBe(1 + PRESENCE_MAX_IDS_PER_CONNECTION)
    e.drop()
    await time.runAll()
    expect([...presence(reader).keys()]).toEqual([ANA])
    expect(presence(a).get(ANA)).toEqual(ana)
  })

  it('[PRESENCE-3] what waits for ids others own is bounded too: 8 per connection, the first asker per id', async () => {
    const { time, one, reader } = await roomWithAna()
    const owner = new Client(one, 's1', 'r')
    const e = new Client(one, 's1', 'r')
    const honest = new Client(one, 's1', 'r')
    await time.runAll()
    const ids = Array.from({ length: 20 }, (_, i) => 5000 + i)
    sendPresence(owner, ...ids.slice(0, 8).map((id) => ({ id, clock: 1, state: eve })))
    await time.runAll()
    // e asks for the 8 owner holds (they wait) and 12 nobody holds: no room left to claim any
    const fake = { user: { name: 'E', color: '#000' } }
    sendPresence(e, ...ids.map((id) => ({ id, clock: 2, state: fake })))
    sendPresence(honest, { id: ids[0]!, clock: 3, state: { user: { name: 'H', color: '#fff' } } })
    await time.runAll()
    expect(presence(reader).size).toBe(1 + 8) // Ana and owner's 8
    owner.drop()
    await time.runAll()
    const seen = presence(reader)
    expect([...seen.values()].filter((v) => JSON.stringify(v) === JSON.stringify(fake))).toHaveLength(8)
    expect(seen.get(ids[0]!)).toEqual(fake) // the first asker, not the last
    e.drop()
    await time.runAll()
    expect([...presence(reader).keys()]).toEqual([ANA])
  })
})

describe('presence: what a state may hold', () => {
  it('[PRESENCE-4] a colour that injects CSS drops the whole update, counted and logged once', async () => {
    const { time, one, reader, refused, lines } = await roomWithAna()
    const e = new Client(one, 's1', 'r')
    await time.runAll()
    sendPresence(
      e,
      { id: EVE, clock: 1, state: { user: { name: 'Eve', color: '#b91c1c' } } }, // fine alone…
      { id: EVE + 1, clock: 1, state: { user: { name: 'Mallory', color: 'red;} body{display:none' } } },
    )
    sendPresence(e, { id: EVE, clock: 2, state: { user: { name: 'Eve', color: 'url(https://x.test/t)' } } })
    sendPresence(e, {
      id: EVE,
      clock: 3,
      state: { user: { name: 'Eve', color: '#fff', colorLight: 'red; x' } },
    })
    await time.runAll()
    expect([...presence(reader).keys()]).toEqual([ANA]) // …but refused with the rest of its update
    expect(refused.invalid).toBe(4)
    const warned = lines.filter((l) => l.level === 'warn' && l.msg.startsWith('presence refused'))
    expect(warned.map((l) => l.msg)).toEqual([
      'presence refused: a colour that is not #rgb or #rrggbb (further ones from this connection are not logged)',
    ])
    expect(e.closed).toBeNull()
  })

  it('[PRESENCE-4] a malformed cursor is refused; a cursor as y-codemirror.next writes it passes', async () => {
    const { time, one, a, reader, refused } = await roomWithAna()
    const item = { client: 1, clock: 0 }
    const malformed: unknown[] = [
      'here',
      { anchor: { item }, head: null },
      { anchor: { item }, head: { item }, extra: 1 },
      { anchor: { type: null, tname: null, item: null, assoc: 0 }, head: { item } }, // names nothing: Yjs throws
      { anchor: { item: { client: 'x', clock: 0 } }, head: { item } },
      { anchor: { item: { client: 1, clock: 1.5 } }, head: { item } },
      { anchor: { item: { client: -1, clock: 0 } }, head: { item } },
      { anchor: { item, assoc: 'left' }, head: { item } },
      { anchor: { item, evil: true }, head: { item } },
      { anchor: { tname: 42 }, head: { item } },
      { anchor: { tname: 'x'.repeat(129) }, head: { item } },
      { anchor: [item], head: { item } },
    ]
    for (const cursor of malformed) {
      const e = new Client(one, 's1', 'r') // one each: more would close the socket (PRESENCE-5)
      await time.runAll()
      sendPresence(e, { id: EVE, clock: 1, state: { ...eve, cursor } })
    }
    await time.runAll()
    expect(refused.invalid).toBe(malformed.length)
    expect(presence(reader).has(EVE)).toBe(false)
    // Ana types and selects: her cursor, exactly as y-codemirror.next puts it in her state
    a.type('hello')
    await time.runAll()
    const cursor = cursorInto(a.doc, 1)
    expect(isRelativePositionJson(cursor.anchor) && isRelativePositionJson(cursor.head)).toBe(true)
    sendPresence(a, { id: ANA, clock: 2, state: { ...ana, cursor } })
    sendPresence(a, { id: ANA + 1, clock: 1, state: { ...ana, cursor: null } }) // her other tab, unfocused
    await time.runAll()
    expect(presence(reader).get(ANA)).toEqual({ ...ana, cursor })
    expect(presence(reader).get(ANA + 1)).toEqual({ ...ana, cursor: null })
    expect(refused.invalid).toBe(malformed.length)
  })

  it('[PRESENCE-4] an oversize state, an unknown field, a name past 64 characters, a malformed person id or a state that is not an object is refused', async () => {
    const { time, one, reader, refused, lines } = await roomWithAna()
    const big = new Client(one, 's1', 'r')
    await time.runAll()
    sendPresence(big, { id: EVE, clock: 1, state: { user: { name: 'x'.repeat(2000), color: '#000' } } })
    await time.runAll()
    expect(lines.some((l) => l.msg.startsWith('presence refused: a state over 1024 bytes'))).toBe(true)
    const e = new Client(one, 's1', 'r')
    await time.runAll()
    for (const state of [
      { ...eve, avatar: 'https://x.test/a.png' },
      { user: { ...eve.user, style: 'x' } },
      { user: { name: 'y'.repeat(65), color: '#000' } },
      { user: { name: 42 } },
      { user: null },
      [1, 2],
      'Eve',
      '{not json',
    ])
      sendPresence(e, { id: EVE, clock: 2, state: state === '{not json' ? state : JSON.stringify(state) })
    await time.runAll()
    // a person id is 1–64 of [0-9a-z_-] (from another connection: PRESENCE-5 strikes at 10)
    const f = new Client(one, 's1', 'r')
    await time.runAll()
    for (const id of ['Eve Person', 'x'.repeat(65), 42])
      sendPresence(f, { id: EVE, clock: 3, state: JSON.stringify({ user: { ...eve.user, id } }) })
    await time.runAll()
    expect(refused.invalid).toBe(12)
    expect(presence(reader).has(EVE)).toBe(false)
    // the shapes honest clients send all pass: empty (y-protocols' default), a name alone (a stock
    // client), #rgb, a removal
    for (const state of [
      {},
      { user: { name: 'Eve' } },
      { user: { name: 'Eve', color: '#abc' } },
      { user: { id: 'p-3f9a0c', name: 'Eve', color: '#abc' } },
      null,
    ])
      expect(presenceStateProblem(state)).toBeNull()
  })

  it('[PRESENCE-5] repeated invalid presence closes the socket with InvalidUpdate (4400); undecodable bytes close at once', async () => {
    const { time, one, reader } = await roomWithAna()
    const e = new Client(one, 's1', 'r')
    await time.runAll()
    const bad = { id: EVE, clock: 1, state: { user: { name: 'Eve', color: 'red;}' } } }
    for (let i = 0; i < PRESENCE_STRIKE_BURST; i++) sendPresence(e, bad)
    await time.runAll()
    expect(e.closed).toBeNull()
    await time.advance(5000) // one more allowed every 5 s
    sendPresence(e, bad)
    await time.runAll()
    expect(e.closed).toBeNull()
    sendPresence(e, bad)
    await time.runAll()
    expect(e.closed).toEqual({ code: CloseCode.MalformedFrame, reason: ErrorKind.InvalidUpdate })
    expect(e.got('error')).toEqual([expect.objectContaining({ kind: ErrorKind.InvalidUpdate })])
    expect([...presence(reader).keys()]).toEqual([ANA])
    // bytes that are no awareness update at all: MalformedFrame at once (CONN-1)
    for (const bytes of [
      Uint8Array.of(3, 0xff), // 3 states, then a varint that never ends
      Uint8Array.of(1, 5, 1, 200, 1), // a state of 200 bytes in an update of 5
      Uint8Array.of(1, 5, 1, 2, 0xc3, 0x28), // JSON that is no UTF-8
    ]) {
      const m = new Client(one, 's1', 'r')
      await time.runAll()
      m.send({ type: 'awareness', update: bytes })
      await time.runAll()
      expect(m.closed, String(bytes)).toEqual({ code: 4400, reason: ErrorKind.MalformedFrame })
    }
    // an empty update, or bytes after the last state (y-protocols ignores them; so does the room,
    // which relays only what it encodes again): no harm, no close
    const m = new Client(one, 's1', 'r')
    await time.runAll()
    m.send({ type: 'awareness', update: update() })
    m.send({ type: 'awareness', update: Uint8Array.of(...update({ id: 77, clock: 1, state: {} }), 9, 9, 9) })
    await time.runAll()
    expect(m.closed).toBeNull()
    expect(presenceFrames(reader).at(-1)).toEqual([{ id: 77, state: {} }])
  })
})

describe('presence: across instances', () => {
  it('[PRESENCE-6] an id owned on one instance is not claimed on another; a forged fan-out frame does not override a local owner', async () => {
    const w = watch()
    const { time, hub, core } = world()
    const store = new ControlledStore()
    const one = core(store, { fanOut: hub.instance(), events: w.events, logger: w.logger })
    const two = core(store, { fanOut: hub.instance(), events: w.events, logger: w.logger })
    const a = new Client(one, 's1', 'w')
    const here = new Client(one, 's1', 'r')
    const there = new Client(two, 's1', 'r')
    await time.runAll()
    sendPresence(a, { id: ANA, clock: 1, state: ana })
    await time.runAll()
    expect(presence(there).get(ANA)).toEqual(ana)
    // a connection on two claims Ana's id: it is one's
    const e = new Client(two, 's1', 'r')
    await time.runAll()
    sendPresence(e, { id: ANA, clock: 5, state: eve }, { id: EVE, clock: 1, state: eve })
    await time.runAll()
    expect(presence(there).get(ANA)).toEqual(ana)
    expect(presence(here).get(ANA)).toEqual(ana)
    expect(presence(here).get(EVE)).toEqual(eve) // its own went through, to both instances
    expect(w.refused['not-owned']).toBe(1)
    // a forged frame on the fan-out (another instance that does not check, or a stranger): one keeps
    // Ana as she said; an invalid state is dropped and logged, as LINK-1 says
    const stranger = hub.instance()
    const forged = (...entries: Entry[]) => encodeMessage({ type: 'awareness', update: update(...entries) })
    stranger.publish('s1', forged({ id: ANA, clock: 9, state: null }))
    stranger.publish('s1', forged({ id: 3003, clock: 1, state: { user: { name: 'X', color: 'red;}' } } }))
    await time.runAll()
    expect(presence(here).get(ANA)).toEqual(ana)
    expect(presence(here).has(3003) || presence(there).has(3003)).toBe(false)
    expect(w.refused['fanout-not-owned']).toBeGreaterThanOrEqual(1)
    expect(w.refused['fanout-invalid']).toBe(2) // by each instance
    expect(w.lines.filter((l) => l.msg === 'undecodable fan-out frame dropped')).toHaveLength(2)
    // once Ana's socket goes, her id is free on two too
    a.drop()
    await time.runAll()
    expect(presence(there).has(ANA)).toBe(false)
    sendPresence(e, { id: ANA, clock: 10, state: eve })
    await time.runAll()
    expect(presence(here).get(ANA)).toEqual(eve)
  })

  it('[PRESENCE-6] a client that moves to another instance before the first noticed its socket close takes its id when it does', async () => {
    const { time, hub, core } = world()
    const store = new ControlledStore()
    const one = core(store, { fanOut: hub.instance() })
    const two = core(store, { fanOut: hub.instance() })
    const a = new Client(one, 's1', 'w')
    const here = new Client(one, 's1', 'r')
    const there = new Client(two, 's1', 'r')
    await time.runAll()
    sendPresence(a, { id: ANA, clock: 1, state: ana })
    await time.runAll()
    const moved = new Client(two, 's1', 'w', true, a.doc) // one has not noticed yet
    await time.runAll()
    const renewed = { ...ana, cursor: null }
    sendPresence(moved, { id: ANA, clock: 2, state: renewed })
    await time.runAll()
    expect(presence(there).get(ANA)).toEqual(ana) // one's, still
    a.drop()
    await time.runAll()
    expect(presence(there).get(ANA)).toEqual(renewed)
    expect(presence(here).get(ANA)).toEqual(renewed)
    moved.drop()
    await time.runAll()
    expect(presence(here).has(ANA) || presence(there).has(ANA)).toBe(false)
  })
})
