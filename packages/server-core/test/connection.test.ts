/** One socket's refusals, and the code each closes with (SPEC.md CONN-1; PROTOCOL.md P5, P6). */
import {
  type ErrorKind,
  type Message,
  closeCodeOf,
  closeRule,
  decodeMessage,
  encodeMessage,
} from '@converge/protocol'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { RETRY_HINT_MS, TOKEN_WAIT_MS } from '../src/connection.js'
import type { SocketLike, SyncCore } from '../src/index.js'
import type { ManualScheduler } from '../src/testing/index.js'
import { Client, ControlledStore, type CoreOptions, world } from './harness.js'

/** A socket that only records how it was closed. */
const bareSocket = (): SocketLike & { closed: { code: number; reason: string } | null } => {
  const s = {
    closed: null as { code: number; reason: string } | null,
    send: () => {},
    close: (code: number, reason: string) => void (s.closed = { code, reason }),
  }
  return s
}

interface Case {
  readonly kind: ErrorKind
  readonly options?: CoreOptions
  /** Whether the refusal comes before the client's hello was read (so it gets no error message). */
  readonly beforeHello?: boolean
  /** Provokes the refusal; returns how to read how the socket was closed and the errors it was sent. */
  readonly provoke: (core: SyncCore, store: ControlledStore, time: ManualScheduler) => Promise<() => Outcome>
}

interface Outcome {
  readonly closed: { code: number; reason: string } | null
  readonly errors: string[]
}

const outcome = (c: Client) => (): Outcome => ({
  closed: c.closed,
  errors: c.received.flatMap((m) => (m.type === 'error' ? [m.kind] : [])),
})
/** A hello'd client whose socket is open. */
const open = async (core: SyncCore, time: ManualScheduler): Promise<Client> => {
  const c = new Client(core, 's1', 'w')
  await time.runTurns()
  return c
}

const cases: Case[] = [
  {
    kind: 'Unauthorized',
    beforeHello: true,
    provoke: (core) => Promise.resolve(outcome(new Client(core, 's1', null))),
  },
  {
    kind: 'Forbidden',
    beforeHello: true,
    provoke: (core) => Promise.resolve(outcome(new Client(core, 's1', 'other'))),
  },
  {
    kind: 'MalformedFrame',
    provoke: async (core, _store, time) => {
      const c = await open(core, time)
      c.handle.handleMessage(Uint8Array.of(0xff, 0xff, 0xff))
      return outcome(c)
    },
  },
  {
    kind: 'InvalidUpdate',
    provoke: async (core, _store, time) => {
      const c = await open(core, time)
      c.send({ type: 'sync-update', update: Uint8Array.of(1, 2, 3) })
      return outcome(c)
    },
  },
  {
    kind: 'MessageTooBig',
    options: { limits: { maxFrameBytes: 64 } },
    provoke: async (core, _store, time) => {
      const c = await open(core, time)
      c.send({ type: 'sync-update', update: new Uint8Array(100) })
      return outcome(c)
    },
  },
  {
    kind: 'PreAuthOverflow',
    beforeHello: true,
    options: { limits: { maxPreAuthMessages: 2 } },
    provoke: (core) => {
      const socket = bareSocket()
      const handle = core.connect(socket, 's1', 'w')
      for (let i = 0; i < 3; i++) handle.handleMessage(encodeMessage({ type: 'query-awareness' }))
      return Promise.resolve(() => ({ closed: socket.closed, errors: [] }))
    },
  },
  {
    kind: 'RateLimited',
    options: { limits: { maxMessagesPerSecond: 2 } }, // a burst of 4; the manual clock stands still
    provoke: async (core, _store, time) => {
      const c = await open(core, time) // hello and sync-step1 took two
      for (let i = 0; i < 3; i++) c.send({ type: 'query-awareness' })
      return outcome(c)
    },
  },
  {
    kind: 'DocumentTooLarge',
    options: { limits: { maxDocumentBytes: 100 } },
    provoke: async (core, _store, time) => {
      const c = await open(core, time)
      c.type('y'.repeat(200))
      return outcome(c)
    },
  },
  {
    kind: 'ServerFull',
    beforeHello: true,
    options: { limits: { maxConnections: 1 } },
    provoke: async (core, _store, time) => {
      await open(core, time)
      const socket = bareSocket()
      core.connect(socket, 's1', 'w')
      return () => ({ closed: socket.closed, errors: [] })
    },
  },
  {
    kind: 'ShuttingDown',
    provoke: async (core, _store, time) => {
      const c = await open(core, time)
      await core.shutdown()
      return outcome(c)
    },
  },
  {
    kind: 'LinkRevoked',
    provoke: async (core, _store, time) => {
      const c = new Client(core, 's1', 'w@0')
      await time.runTurns()
      core.revokeLinks('s1', 1) // someone reset the space's links (REVOKE-1)
      return outcome(c)
    },
  },
  {
    kind: 'StorageUnavailable',
    provoke: async (core, store, time) => {
      const c = await open(core, time)
      store.failAppend = true // a failed commit (a failed load, before hello, is CORE-2)
      c.type('lost?')
      return outcome(c)
    },
  },
]

describe('connection', () => {
  it.each(cases)(
    '[CONN-1] a refusal closes with the code CLOSE_RULES gives its kind, after an error of that kind to a hello\u2019d client: $kind',
    async ({ kind, options, beforeHello, provoke }) => {
      const { time, core } = world()
      const store = new ControlledStore()
      const read = await provoke(core(store, options), store, time)
      await time.runAll()
      const { closed, errors } = read()
      expect(closed).not.toBeNull()
      expect(closed!.code).toBe(closeCodeOf(kind))
      expect(closed!.reason).toBe(kind)
      expect(closeRule(closed!.code, closed!.reason).kind).toBe(kind)
      expect(errors).toEqual(beforeHello ? [] : [kind])
    },
  )
})

describe('connection, updates that overtake what they build on', () => {
  it('[CONN-2] an update building on changes the room lacks is refused whole, neither stored nor acked; the sync-step1 it gets back brings it in', async () => {
    const { time, core } = world()
    const store = new ControlledStore()
    const c = core(store)
    const got: Message[] = []
    const socket: SocketLike = { send: (d) => void got.push(decodeMessage(d)), close: () => {} }
    const handle = c.connect(socket, 's1', 'w')
    const send = (m: Message): void => handle.handleMessage(encodeMessage(m))
    send({ type: 'hello', version: 1 })
    send({ type: 'sync-step1', stateVector: new Uint8Array([0]) })
    await time.runAll()
    // the device typed "x" and then "y" before it answered the server's sync-step1: only "y" goes up
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    doc.getText('body:n').insert(0, 'x')
    doc.getText('body:n').insert(1, 'y')
    got.length = 0
    send({ type: 'sync-update', update: updates[1]! })
    await time.runAll()
    expect(store.text('s1'), 'nothing of it is stored').toBe('')
    const acks = got.filter((m) => m.type === 'durable-ack')
    for (const a of acks) expect(Y.decodeStateVector(a.stateVector).get(doc.clientID) ?? 0).toBe(0)
    const ask = got.find((m): m is Extract<Message, { type: 'sync-step1' }> => m.type === 'sync-step1')
    expect(ask, 'the server asks for the difference').toBeDefined()
    // the device answers as any y-websocket client does: the difference, whole
    send({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc, ask!.stateVector) })
    await time.runAll()
    expect(store.text('s1')).toBe('xy')
    const last = got.filter((m) => m.type === 'durable-ack').pop()
    expect(last && Y.decodeStateVector(last.stateVector).get(doc.clientID)).toBe(2)
  })
})

/** A socket that records what it was sent, decoded, and how it was closed. */
const recordingSocket = () => {
  const s = {
    got: [] as Message[],
    closed: null as { code: number; reason: string } | null,
    send: (d: Uint8Array) => void s.got.push(decodeMessage(d)),
    close: (code: number, reason: string) => void (s.closed = { code, reason }),
  }
  return s
}

describe('tokens, heartbeats and hints (PROTOCOL.md §P5.11–13)', () => {
  it('[CONN-4] without ?token=, a first frame "token" authenticates the socket; any other first frame, or none within TOKEN_WAIT_MS, is a socket without a token', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    // the token in the first frame: a writer, answered as any
    const a = recordingSocket()
    const ha = c.connect(a, 's1', null)
    ha.handleMessage(encodeMessage({ type: 'token', token: 'w' }))
    ha.handleMessage(encodeMessage({ type: 'hello', version: 3 }))
    await time.runTurns()
    expect(a.closed).toBeNull()
    expect(a.got.map((m) => m.type)).toContain('sync-step1')
    // a stock client without a token: refused as before (4401), nothing of the space sent
    const b = recordingSocket()
    c.connect(b, 's1', null).handleMessage(
      encodeMessage({ type: 'sync-step1', stateVector: new Uint8Array([0]) }),
    )
    await time.runTurns()
    expect(b.closed?.code).toBe(closeCodeOf('Unauthorized'))
    expect(b.got.filter((m) => m.type !== 'error')).toEqual([])
    // a socket that sends nothing: refused after TOKEN_WAIT_MS, not kept forever
    const d = recordingSocket()
    c.connect(d, 's1', null)
    await time.advance(TOKEN_WAIT_MS - 1)
    expect(d.closed).toBeNull()
    await time.advance(1)
    await time.runTurns()
    expect(d.closed?.code).toBe(closeCodeOf('Unauthorized'))
  })

  it('[CONN-5] a heartbeat is answered at once with a heartbeat; a token after authentication changes nothing', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const a = new Client(c, 's1', 'w')
    await time.runTurns()
    const before = a.got('heartbeat').length
    a.send({ type: 'heartbeat' })
    a.send({ type: 'token', token: 'r' })
    await time.runTurns()
    expect(a.got('heartbeat').length).toBe(before + 1)
    expect(a.closed).toBeNull()
  })

  it('[CONN-6] before a close it should retry (shutting down, server full, storage), a client of version 3 is told how long to wait; older ones are not', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const v3 = recordingSocket()
    const h3 = c.connect(v3, 's1', 'w')
    h3.handleMessage(encodeMessage({ type: 'hello', version: 3 }))
    const v1 = new Client(c, 's1', 'w') // says hello with version 1
    await time.runTurns()
    await c.shutdown()
    expect(v3.got.slice(-2)).toEqual([
      { type: 'error', kind: 'ShuttingDown', message: 'server shutting down' },
      { type: 'retry-after', ms: RETRY_HINT_MS.ShuttingDown },
    ])
    expect(v3.closed?.code).toBe(1001)
    expect(v1.got('retry-after')).toEqual([])
    expect(v1.closed?.code).toBe(1001)
  })
})
