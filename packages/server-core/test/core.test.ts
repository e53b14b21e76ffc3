/**
 * The core end to end, under in-memory sockets, a controllable store and a ManualScheduler: the
 * rules that do not need a real transport. Names cite PROTOCOL.md sections (P…) and SPEC.md rules
 * (CORE-…). No test sleeps: each steps the scheduler (`runTurns`, `advance`, `runAll`) and then
 * asserts — also that something did *not* happen.
 */
import { CloseCode } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import { type Persistence, SyncCore } from '../src/index.js'
import { Client, ControlledStore, type CoreOptions, authenticate, world } from './harness.js'

/** Two instances over `store` sharing one in-memory fan-out, a hello'd writer on each, both synced. */
async function twoInstances(store: Persistence, options: CoreOptions = {}) {
  const { time, hub, core } = world()
  const fanOne = hub.instance()
  const one = core(store, { fanOut: fanOne, ...options })
  const two = core(store, { fanOut: hub.instance(), ...options })
  const a = new Client(one, 's1', 'w')
  const b = new Client(two, 's1', 'w')
  await time.runTurns()
  expect(a.acked && b.acked).toBeTruthy()
  return { time, one, two, fanOne, a, b }
}

describe('server core', () => {
  it('[CORE-1] two clients converge through the core; the sender gets no echo', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(a.acked).not.toBeNull()
    a.type('hello ')
    b.type('world')
    await time.runTurns()
    expect(a.text).toBe(b.text)
    expect(a.text.length).toBe(11)
    expect(a.got('sync-update')).toHaveLength(1) // only b's update came back to a
  })

  it('[P4.1] a durable ack comes only after the store committed the update', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const a = new Client(core(store), 's1', 'w')
    await time.runTurns()
    expect(a.acked).not.toBeNull()
    store.hold = true
    a.type('important')
    await time.runAll() // every turn and timer: the commit is held in the store
    expect(a.saved).toBe(false)
    expect(store.text('s1')).toBe('')
    store.release()
    await time.runTurns()
    expect(a.saved).toBe(true)
    expect(store.text('s1')).toBe('important')
  })

  it('[P4.2] a stock client that never said hello receives no extension message', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const stock = new Client(c, 's1', 'w', false)
    const other = new Client(c, 's1', 'r')
    stock.type('x')
    other.type('refused')
    await time.runAll()
    expect(store.text('s1')).toBe('x')
    await c.flushAll()
    expect(
      stock.received
        .map((m) => m.type)
        .filter((t) => !['sync-step1', 'sync-step2', 'sync-update'].includes(t)),
    ).toEqual([])
  })

  it('[P5.4] a read-only update is refused: not applied, not stored, not relayed', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const w = new Client(c, 's1', 'w')
    const r = new Client(c, 's1', 'r')
    w.type('ok')
    await time.runTurns()
    expect(r.text).toBe('ok')
    r.type(' forged')
    await time.runAll()
    expect(r.received.some((m) => m.type === 'error' && m.kind === 'ReadOnly')).toBe(true)
    expect(r.received.some((m) => m.type === 'auth-denied')).toBe(true)
    await c.flushAll()
    expect(w.text).toBe('ok')
    expect(store.text('s1')).toBe('ok')
    expect(r.closed).toBeNull()
  })

  it('[P5.1] no token, or a token for another space, closes before any document data', async () => {
    const { time, core } = world()
    const c = core(new ControlledStore())
    const none = new Client(c, 's1', null)
    const other = new Client(c, 's1', 'other')
    await time.runTurns()
    expect(none.closed?.code).toBe(CloseCode.Unauthorized)
    expect(other.closed?.code).toBe(CloseCode.Forbidden)
    expect(none.received.filter((m) => m.type.startsWith('sync'))).toEqual([])
    expect(other.received.filter((m) => m.type.startsWith('sync'))).toEqual([])
  })

  it('[CORE-2] a failed load closes with 4503 and never serves or saves an empty document', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const seed = core(store)
    const a = new Client(seed, 's1', 'w')
    a.type('stored')
    await time.runTurns()
    expect(a.saved).toBe(true)
    await seed.shutdown()
    store.failLoad = true
    const c = core(store)
    const b = new Client(c, 's1', 'w')
    b.type('typed while loading')
    await time.runAll()
    expect(b.closed?.code).toBe(CloseCode.StorageUnavailable)
    expect(b.received.filter((m) => m.type.startsWith('sync'))).toEqual([])
    expect(store.text('s1')).toBe('stored')
    store.failLoad = false
    const d = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(d.text).toBe('stored')
  })

  it('[CORE-3] a failed commit acknowledges nothing and closes the space with 4503', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(a.acked).not.toBeNull()
    store.failAppend = true
    a.type('lost?')
    await time.runAll()
    expect(a.closed?.code).toBe(CloseCode.StorageUnavailable)
    expect(a.saved).toBe(false)
    expect(c.loadedSpaces).toBe(0)
  })

  it('[CORE-4] compaction keeps every update, including those arriving meanwhile', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store, { limits: { compactEveryUpdates: 5 } })
    const a = new Client(c, 's1', 'w')
    const b = new Client(c, 's1', 'w')
    for (let i = 0; i < 40; i++) {
      ;(i % 2 ? a : b).type(String(i % 10))
      if (i % 7 === 0) await time.runTurn()
    }
    await time.runTurns()
    expect(a.saved && b.saved).toBe(true)
    await c.flushAll()
    expect(store.compactions).toBeGreaterThan(0)
    expect(store.text('s1')).toBe(a.text)
    expect(a.text).toBe(b.text)
    expect(a.text.length).toBe(40)
  })

  it('[CORE-5] a space unloads after its last client leaves and the idle time passes', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store, { limits: { idleUnloadMs: 20 } })
    const a = new Client(c, 's1', 'w')
    a.type('keep')
    await time.runTurns()
    expect(a.saved).toBe(true)
    expect(c.loadedSpaces).toBe(1)
    a.handle.handleClose()
    await time.advance(20)
    expect(c.loadedSpaces).toBe(0)
    const b = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(b.text).toBe('keep')
  })

  it('[CORE-6] fan-out relays between instances without storing twice', async () => {
    const store = new ControlledStore()
    const { time, one, two, a, b } = await twoInstances(store)
    a.type('across')
    await time.runTurns()
    expect(b.text).toBe('across')
    await one.flushAll()
    await two.flushAll()
    expect(store.data.get('s1')?.updates.length).toBe(1)
  })

  it('[CORE-7] shutdown commits everything and closes sockets with 1001', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    const c = core(store)
    const a = new Client(c, 's1', 'w')
    await time.runTurns()
    expect(a.acked).not.toBeNull()
    a.type('last words')
    await c.shutdown()
    expect(a.closed?.code).toBe(CloseCode.GoingAway)
    expect(store.text('s1')).toBe('last words')
  })
})

describe('server core, lifecycle', () => {
  it('[CORE-8] a socket that closes while its space loads does not keep the space loaded', async () => {
    const store = new ControlledStore()
    const { time, core } = world()
    store.holdLoads()
    const c = core(store, { limits: { idleUnloadMs: 10 } })
    const a = new Client(c, 's1', 'w')
    await time.runAll()
    expect(c.loadedSpaces).toBe(1) // loading
    a.handle.handleClose()
    store.releaseLoads()
    await time.runTurns()
    expect(c.loadedSpaces).toBe(1) // loaded, nobody in it: the idle countdown runs
    await time.advance(10)
    expect(c.loadedSpaces).toBe(0)
  })
})

describe('server core, several instances over one fan-out', () => {
  /** A store view of an instance that dies before it commits anything (its appends never finish). */
  const dyingView = (store: ControlledStore): Persistence =>
    Object.assign(Object.create(store) as ControlledStore, { append: () => new Promise<number>(() => {}) })

  it('[CORE-9] an update relayed but not committed by its instance is not acknowledged elsewhere; resent to another instance, it is stored there', async () => {
    const store = new ControlledStore()
    const { time, hub, core } = world()
    // not shut down after the test: it "dies" holding an uncommitted update
    const dying = new SyncCore({
      persistence: dyingView(store),
      authenticate,
      fanOut: hub.instance(),
      clock: time,
      scheduler: time,
    })
    const two = core(store, { fanOut: hub.instance() })
    const a = new Client(dying, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    await time.runTurns()
    expect(a.acked && b.acked).toBeTruthy()
    a.type('only in memory')
    await time.runTurns()
    expect(b.text).toBe('only in memory')
    await two.flushAll()
    await time.runAll()
    expect(b.saved).toBe(false) // instance two holds it, but nobody committed it
    expect(store.text('s1')).toBe('')
    // a's instance dies; a reconnects to instance two with its document and resends what is not stored
    a.drop()
    const again = new Client(two, 's1', 'w', true, a.doc)
    await time.runTurns()
    expect(again.saved).toBe(true)
    expect(store.text('s1')).toBe('only in memory')
    await time.runAll() // b is told within the periodic ack
    expect(b.saved).toBe(true)
  })

  it('[CORE-10] an instance that commits tells the others, so their clients see the change saved', async () => {
    const store = new ControlledStore()
    const { time, a, b } = await twoInstances(store)
    a.type('from one')
    await time.runTurns()
    expect(b.text).toBe('from one')
    await time.runAll()
    expect(b.saved).toBe(true)
    expect(store.appends).toBe(1) // stored once, by instance one
  })

  it('[CORE-11] an instance loading a space gets what another holds but has not committed yet', async () => {
    const store = new ControlledStore()
    const { time, hub, core } = world()
    const one = core(store, { fanOut: hub.instance() })
    const two = core(store, { fanOut: hub.instance() })
    const a = new Client(one, 's1', 'w')
    await time.runTurns()
    expect(a.acked).toBeTruthy()
    store.hold = true
    a.type('in flight')
    await time.runTurns()
    const b = new Client(two, 's1', 'w') // loads from storage, where "in flight" is not yet
    await time.runTurns()
    expect(b.text).toBe('in flight')
    store.release()
    await time.runAll()
    expect(a.saved && b.saved).toBe(true)
  })

  it('[CORE-12] after a fan-out gap, instances re-converge by exchanging state vectors', async () => {
    const store = new ControlledStore()
    const { time, one, two, fanOne, a, b } = await twoInstances(store)
    a.type('before ')
    await time.runTurns()
    expect(b.text).toBe('before ')
    fanOne.cut()
    a.type('one-side ')
    b.type('other-side ')
    const t = b.doc.getText('body:n')
    b.doc.transact(() => t.delete(0, 'before '.length)) // a deletion made during the gap travels too
    await time.runAll()
    expect(a.text).not.toBe(b.text) // the gap is real
    fanOne.restore()
    await time.runTurns()
    expect(a.text).toBe(b.text)
    expect(a.text).not.toContain('before')
    expect(a.text).toContain('one-side ')
    expect(a.text).toContain('other-side ')
    await time.runAll()
    expect(a.saved && b.saved).toBe(true)
    await one.flushAll()
    await two.flushAll()
    expect(store.text('s1')).toBe(a.text)
  })

  it("[CORE-13] with shared storage, compaction never drops another instance's committed update", async () => {
    const store = new ControlledStore(true)
    const { time, one, two, fanOne, a, b } = await twoInstances(store, { limits: { compactEveryUpdates: 3 } })
    fanOne.cut() // instance one never hears of two's updates live: only storage can tell it
    const typed: string[] = []
    for (let i = 0; i < 12; i++) {
      const ch = String.fromCharCode(97 + i)
      typed.push(ch)
      ;(i % 2 ? a : b).type(ch)
      await time.runTurns()
    }
    await time.runAll()
    await one.flushAll()
    await two.flushAll()
    expect(store.compactions).toBeGreaterThan(1)
    expect([...store.text('s1')].sort()).toEqual(typed)
  })
})
