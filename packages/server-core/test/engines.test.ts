/**
 * The room's contract on both engines (SPEC.md ENGINE-1…ENGINE-3, DOC-1…DOC-4): the same clients —
 * merge's `Space` on Yjs and on Automerge, speaking the same messages — through the same core. What a
 * user depends on is checked on each engine: edits of two devices arrive and merge, "saved" comes
 * only after the commit, what is stored reopens as it was, bad bytes are refused with the same close
 * codes and leave the stored space intact, and two instances stay in step. And one script, run on
 * both engines, ends in the same domain state.
 */
import { type EngineKind, Origin, type Space, createSpace, loadEngine, openSpace } from '@converge/merge'
import { decodeVersionVector, encodeList } from '@converge/merge/validate'
import { isSavedDocument, savedChanges } from '@converge/merge/automerge'
import { CloseCode, type Message, decodeMessage, encodeMessage } from '@converge/protocol'
import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SocketLike, SyncCore } from '../src/index.js'
import type { SpaceEngine } from '../src/ports.js'
import { ControlledStore, type CoreOptions, world } from './harness.js'

const ENGINES: readonly EngineKind[] = ['yjs', 'automerge']

// the core imports the Automerge document on demand (a real module load): done here first, so that the
// stepped scheduler's turns hold every step of a room's load
beforeAll(async () => {
  await loadEngine('automerge')
  await import('../src/automerge-document.js')
})

/** A device: merge's Space for one engine, on an in-memory socket, speaking protocol version 4. */
class Device {
  readonly received: Message[] = []
  closed: { code: number; reason: string } | null = null
  acked: Uint8Array | null = null
  readonly handle
  private readonly stop: () => void
  constructor(
    core: SyncCore,
    readonly space: Space,
    token = 'w',
    version = 4,
  ) {
    const socket: SocketLike = {
      send: (data) => {
        const m = decodeMessage(data)
        this.received.push(m)
        queueMicrotask(() => this.onMessage(m))
      },
      close: (code, reason) => {
        this.closed = { code, reason }
      },
    }
    this.handle = core.connect(socket, space.id, token)
    this.send({ type: 'hello', version, engine: space.engineKind })
    this.send({ type: 'sync-step1', stateVector: space.stateVector() })
    this.stop = space.onUpdate((update, e) => {
      if (e.origin !== Origin.Server && !this.closed) this.send({ type: 'sync-update', update })
    })
  }
  send(m: Message): void {
    this.handle.handleMessage(encodeMessage(m))
  }
  drop(): void {
    this.closed = { code: 1006, reason: 'dropped' }
    this.stop()
    this.handle.handleClose()
  }
  private onMessage(m: Message): void {
    if (this.closed) return
    if (m.type === 'sync-step1')
      this.send({ type: 'sync-step2', update: this.space.encodeStateAsUpdate(m.stateVector) })
    else if (m.type === 'sync-step2' || m.type === 'sync-update')
      this.space.applyUpdate(m.update, Origin.Server)
    else if (m.type === 'durable-ack') this.acked = m.stateVector
  }
  /** Whether the last durable ack covers every change this device holds (DLV-4 on either engine). */
  get saved(): boolean {
    if (!this.acked) return false
    const acked = ackVector(this.space.engineKind, this.acked)
    for (const [writer, clock] of this.space.versionVector())
      if ((acked.get(writer) ?? 0) < clock) return false
    return true
  }
  got(type: Message['type']): Message[] {
    return this.received.filter((m) => m.type === type)
  }
}

/** A durable ack's vector, keyed as `versionVector()` is (Yjs client ids in decimal). */
const ackVector = (engine: EngineKind, bytes: Uint8Array): Map<string, number> => {
  if (engine === 'automerge') return decodeVersionVector(bytes)
  return new Map([...Y.decodeStateVector(bytes)].map(([c, clock]) => [String(c), clock]))
}

/** A core whose spaces are all of `engine`. */
const setup = (engine: EngineKind, options: CoreOptions = {}) => {
  const w = world()
  const store = new ControlledStore()
  const spaceEngine = (): Promise<SpaceEngine> => Promise.resolve(engine)
  const core = w.core(store, { spaceEngine, ...options })
  return { ...w, store, core, spaceEngine }
}

/** The space as its stored records reopen it (snapshot, then the log, in order). */
const reopen = (engine: EngineKind, store: ControlledStore, spaceId: string): Space => {
  const d = store.data.get(spaceId)
  const space = openSpace({ engine, spaceId })
  // an Automerge snapshot is the saved document (DOC-5): a client reads its changes
  for (const r of [d?.snapshot, ...(d?.updates.map((x) => x.u) ?? [])])
    if (r) space.applyUpdate(isSavedDocument(r) ? savedChanges(r) : r, Origin.Load)
  return space
}

const SPACE = 'space-1'
const fresh = (engine: EngineKind): Space => openSpace({ engine, spaceId: SPACE })

describe.each(ENGINES)('%s space through the core', (engine) => {
  it('[ENGINE-2] two devices edit the cart and a note; each sees the other, both are told saved, storage reopens the same', async () => {
    const { time, store, core } = setup(engine)
    const a = new Device(core, createSpace({ engine, spaceId: SPACE, name: 'Home' }))
    const b = new Device(core, fresh(engine))
    await time.runAll()
    a.space.addItem('milk')
    const note = a.space.createNote({ title: 'Recipe', body: 'flour' })
    await time.runAll()
    b.space.increment(b.space.item('milk')!.key, 2)
    b.space.editNote(note, 5, 0, ', eggs')
    await time.runAll()
    expect(a.space.snapshot()).toEqual(b.space.snapshot())
    expect(a.space.item('milk')?.quantity).toBe(3)
    expect(a.space.note(note)?.body).toBe('flour, eggs')
    expect(a.saved && b.saved).toBe(true)
    expect(reopen(engine, store, SPACE).snapshot()).toEqual(a.space.snapshot())
  })

  it('[ENGINE-2] "saved" waits for the commit: nothing is acknowledged while storage holds the append back', async () => {
    const { time, store, core } = setup(engine)
    const a = new Device(core, createSpace({ engine, spaceId: SPACE }))
    await time.runAll()
    expect(a.saved).toBe(true)
    store.hold = true
    a.space.addItem('bread')
    await time.runAll()
    expect(a.saved).toBe(false)
    store.release()
    await time.runAll()
    expect(a.saved).toBe(true)
    expect(reopen(engine, store, SPACE).item('bread')).toBeDefined()
  })

  it('[ENGINE-2] a device that was offline sends what it wrote meanwhile, and a core started afresh on the same storage serves all of it', async () => {
    const { time, store, core, spaceEngine } = setup(engine)
    const a = new Device(core, createSpace({ engine, spaceId: SPACE }))
    const b = new Device(core, fresh(engine))
    await time.runAll()
    b.drop()
    a.space.addItem('apples')
    b.space.addItem('pears')
    b.space.addItem('apples') // the same line, added on both sides: one line, two added
    await time.runAll()
    const back = new Device(core, b.space)
    await time.runAll()
    expect(back.saved && a.saved).toBe(true)
    expect(a.space.snapshot()).toEqual(b.space.snapshot())
    expect(a.space.item('apples')?.quantity).toBe(2)
    // the instance is gone without shutting down; another one on the same storage serves a new device everything
    const later = world()
    const c = new Device(later.core(store, { spaceEngine }), fresh(engine))
    await later.time.runAll()
    expect(c.space.snapshot()).toEqual(a.space.snapshot())
  })

  it('[ENGINE-2] compaction replaces the log with a snapshot that reopens the same, on the server and from storage', async () => {
    const { time, store, core, spaceEngine } = setup(engine, {
      limits: { compactEveryUpdates: 5, compactEveryBytes: 1 << 30 },
    })
    const a = new Device(core, createSpace({ engine, spaceId: SPACE }))
    await time.runAll()
    for (let i = 0; i < 12; i++) {
      a.space.addItem(`item ${i}`)
      await time.runAll()
    }
    expect(store.compactions).toBeGreaterThan(0)
    expect(store.data.get(SPACE)!.updates.length).toBeLessThan(5)
    expect(reopen(engine, store, SPACE).snapshot()).toEqual(a.space.snapshot())
    const later = world()
    const c = new Device(later.core(store, { spaceEngine }), fresh(engine))
    await later.time.runAll()
    expect(c.space.snapshot()).toEqual(a.space.snapshot())
  })

  it('[ENGINE-2] two instances over fan-out: devices on each see the other, and both are told saved', async () => {
    const { time, hub, core: make } = world()
    const store = new ControlledStore(true)
    const spaceEngine = (): Promise<SpaceEngine> => Promise.resolve(engine)
    const one = make(store, { spaceEngine, fanOut: hub.instance() })
    const two = make(store, { spaceEngine, fanOut: hub.instance() })
    const a = new Device(one, createSpace({ engine, spaceId: SPACE }))
    await time.runAll()
    const b = new Device(two, fresh(engine))
    await time.runAll()
    a.space.addItem('tea')
    b.space.addItem('coffee')
    await time.runAll()
    expect(a.space.snapshot()).toEqual(b.space.snapshot())
    expect(
      a.space
        .items()
        .map((i) => i.name)
        .sort(),
    ).toEqual(['coffee', 'tea'])
    expect(a.saved && b.saved).toBe(true)
  })

  it('[ENGINE-3] bytes that are not an update of this engine, or break the domain, close with 4400 InvalidUpdate and store nothing', async () => {
    const { time, store, core } = setup(engine)
    const a = new Device(core, createSpace({ engine, spaceId: SPACE }))
    await time.runAll()
    const stored = store.data.get(SPACE)!.updates.length
    const other: EngineKind = engine === 'yjs' ? 'automerge' : 'yjs'
    const foreign = createSpace({ engine: other, spaceId: SPACE })
    foreign.addItem('from the other engine')
    // a hostile replica writes straight into the maps (a local write is not checked): a negative price
    const hostile = openSpace({ engine, spaceId: SPACE, state: a.space.encodeStateAsUpdate() })
    const known = hostile.stateVector()
    hostile.engine.transact('hostile', (w) => w.set('items', 'milk\u001fpriceCents', -5))
    const attackers: Uint8Array[] = [
      new Uint8Array([0xff, 0xff, 0xff, 0x01]),
      foreign.encodeStateAsUpdate(),
      encodeList([new Uint8Array([1, 2, 3])]),
      hostile.encodeStateAsUpdate(known),
    ]
    for (const update of attackers) {
      const bad = new Device(core, fresh(engine))
      await time.runAll()
      bad.send({ type: 'sync-update', update })
      await time.runAll()
      expect(bad.closed?.code).toBe(CloseCode.MalformedFrame)
      expect(bad.got('error').at(-1)).toMatchObject({ kind: 'InvalidUpdate' })
    }
    expect(store.data.get(SPACE)!.updates.length).toBe(stored)
    expect(a.closed).toBeNull()
    a.space.addItem('still fine')
    await time.runAll()
    expect(a.saved).toBe(true)
  })

  it('[ENGINE-3] a sync-step1 whose vector does not decode closes with 4400 MalformedFrame', async () => {
    const { time, core } = setup(engine)
    const a = new Device(core, createSpace({ engine, spaceId: SPACE }))
    await time.runAll()
    a.send({ type: 'sync-step1', stateVector: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]) })
    await time.runAll()
    expect(a.closed?.code).toBe(CloseCode.MalformedFrame)
    expect(a.got('error').at(-1)).toMatchObject({ kind: 'MalformedFrame' })
  })

  it('[CONN-2] an update that builds on changes the room lacks is refused whole and the room asks for the difference', async () => {
    const { time, store, core } = setup(engine)
    const origin = createSpace({ engine, spaceId: SPACE })
    const a = new Device(core, origin)
    await time.runAll()
    a.drop()
    origin.addItem('first')
    const before = origin.stateVector()
    origin.addItem('second')
    const onlySecond = origin.encodeStateAsUpdate(before)
    const b = new Device(core, fresh(engine))
    await time.runAll()
    const asked = b.got('sync-step1').length
    b.send({ type: 'sync-update', update: onlySecond })
    await time.runAll()
    expect(b.closed).toBeNull()
    expect(b.got('sync-step1').length).toBe(asked + 1)
    expect(reopen(engine, store, SPACE).item('second')).toBeUndefined()
  })
})

/** A client that sends `first` and records what it is sent and how it is closed. */
const raw = (core: SyncCore, spaceId: string, first: Message[]) => {
  const got: { frames: Message[]; closed: number | null } = { frames: [], closed: null }
  const handle = core.connect(
    { send: (d) => void got.frames.push(decodeMessage(d)), close: (code) => void (got.closed = code) },
    spaceId,
    'w',
  )
  for (const m of first) handle.handleMessage(encodeMessage(m))
  return got
}

describe('[ENGINE-1] a client must open a space with its engine', () => {
  it('on an Automerge space, a hello naming no engine (a Yjs app of any version) or none at all closes with 4415, and nothing of the space was sent', async () => {
    const { time, core } = setup('automerge')
    const a = new Device(core, createSpace({ engine: 'automerge', spaceId: SPACE }))
    await time.runAll()
    a.space.addItem('secret list')
    await time.runAll()
    const clients = [
      raw(core, SPACE, [{ type: 'hello', version: 4 }]),
      raw(core, SPACE, [{ type: 'hello', version: 3 }]),
      raw(core, SPACE, [{ type: 'hello', version: 4, engine: 'crdt-x' }]),
      // a stock y-websocket client: sync-step1 first, no hello
      raw(core, SPACE, [{ type: 'sync-step1', stateVector: new Uint8Array([0]) }]),
    ]
    await time.runAll()
    for (const c of clients) {
      expect(c.closed).toBe(CloseCode.UnsupportedEngine)
      expect(c.frames.filter((m) => m.type !== 'error' && m.type !== 'retry-after')).toEqual([])
    }
    expect(a.closed).toBeNull()
    expect(a.got('error')).toEqual([])
  })

  it('on a Yjs space, clients of every version are served as before; one whose hello names Automerge is closed with 4415', async () => {
    const { time, core } = setup('yjs')
    const old = raw(core, SPACE, [
      { type: 'hello', version: 1 },
      { type: 'sync-step1', stateVector: new Uint8Array([0]) },
    ])
    const stock = raw(core, SPACE, [{ type: 'sync-step1', stateVector: new Uint8Array([0]) }])
    const wrong = raw(core, SPACE, [{ type: 'hello', version: 4, engine: 'automerge' }])
    await time.runAll()
    expect(old.closed).toBeNull()
    expect(old.frames.map((m) => m.type)).toContain('sync-step2')
    expect(stock.closed).toBeNull()
    expect(stock.frames.map((m) => m.type)).toContain('sync-step2')
    expect(wrong.closed).toBe(CloseCode.UnsupportedEngine)
    expect(wrong.frames.map((m) => m.type)).not.toContain('sync-step2')
  })
})

describe('[DIFF-2] one script through the core on both engines', () => {
  it('ends in the same domain state: two devices, offline edits on both, reconnect', async () => {
    const run = async (engine: EngineKind) => {
      const { time, core } = setup(engine)
      const ids = { a: 'aaaaaaaaaaaaaaaa', b: 'bbbbbbbbbbbbbbbb' }
      const a = new Device(core, createSpace({ engine, spaceId: SPACE, name: 'Trip', replicaId: ids.a }))
      const b = new Device(core, openSpace({ engine, spaceId: SPACE, replicaId: ids.b }))
      await time.runAll()
      a.space.addItem('milk')
      a.space.addItem('eggs')
      const n = a.space.createNote({ title: 'Plan', body: 'buy things', id: 'n1' })
      await time.runAll()
      a.drop()
      b.drop()
      // offline on both: concurrent edits of the same line, field and note
      const milkA = a.space.item('milk')!.key
      const milkB = b.space.item('milk')!.key
      a.space.increment(milkA, 2)
      b.space.increment(milkB, 1)
      a.space.setField(a.space.item('eggs')!.key, 'note', 'free range')
      b.space.removeItem(b.space.item('eggs')!.key)
      a.space.editNote(n, 0, 0, 'first ')
      b.space.editNote(n, 10, 0, ' today')
      b.space.check(milkB, ids.b)
      const a2 = new Device(core, a.space)
      const b2 = new Device(core, b.space)
      await time.runAll()
      expect(a2.saved && b2.saved).toBe(true)
      expect(a.space.snapshot()).toEqual(b.space.snapshot())
      return {
        items: a.space
          .items()
          .map((i) => ({ name: i.name, quantity: i.quantity, note: i.note, checked: i.checked })),
        note: a.space.note(n)?.body,
      }
    }
    const yjs = await run('yjs')
    const automerge = await run('automerge')
    expect(automerge).toEqual(yjs)
    expect(yjs.note).toBe('first buy things today')
  })
})
