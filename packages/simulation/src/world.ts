import { type Space, createSpace, isMergeError } from '@converge/merge'
import {
  type Command,
  ContractModel,
  type Marker,
  type OpId,
  markerOf,
  observeSpace,
} from '@converge/merge/testing'
import type { MemoryFanOut } from '@converge/server-core'
import {
  type AuthDecision,
  type ConnectionHandle,
  MemoryFanOutHub,
  type Scheduler,
  SyncCore,
  type Timer,
} from '@converge/server-core'
import { ManualScheduler } from '@converge/server-core/testing'
import { SpaceSession, type Timers } from '@converge/sync-client'
import * as Y from 'yjs'
import { DeviceStore } from './device-store.js'
import { Link, SimWebSocket } from './network.js'
import { prng } from './random.js'
import type { SimStorage } from './storage.js'
import { SimDisk } from './storage.js'

export const SPACE = 'sim-space'
const TOKEN = 'w'
const allow = (): Promise<AuthDecision> => Promise.resolve({ ok: true, access: 'write' })

/** A Scheduler that stops running anything once its process is dead. */
class ProcessScheduler implements Scheduler {
  dead = false
  constructor(private readonly inner: Scheduler) {}
  nextTurn(fn: () => void): void {
    this.inner.nextTurn(() => {
      if (!this.dead) fn()
    })
  }
  setTimeout(fn: () => void, ms: number): Timer {
    return this.inner.setTimeout(() => {
      if (!this.dead) fn()
    }, ms)
  }
}

/** One server process: a SyncCore on its own connection to the shared disk and the fan-out. */
class Instance {
  core: SyncCore | null = null
  storage: SimStorage | null = null
  private scheduler: ProcessScheduler | null = null
  fanOut: MemoryFanOut | null = null

  constructor(
    readonly index: number,
    private readonly world: World,
  ) {}

  get up(): boolean {
    return this.core !== null
  }

  start(): void {
    if (this.core) return
    this.storage = this.world.disk.view()
    this.scheduler = new ProcessScheduler(this.world.time)
    this.fanOut = this.world.hub.instance()
    this.core = new SyncCore({
      persistence: this.storage,
      authenticate: allow,
      fanOut: this.fanOut,
      clock: this.world.time,
      scheduler: this.scheduler,
      limits: { compactEveryUpdates: 8, idleUnloadMs: 5_000 },
    })
  }

  /** SIGKILL: uncommitted appends are lost, timers never fire, every socket drops. */
  crash(): void {
    if (!this.core) return
    this.storage?.crash()
    if (this.scheduler) this.scheduler.dead = true
    this.fanOut?.cut()
    this.core = null
    for (const link of this.world.links) if (link.instance === this.index) link.cut()
  }
}

/** One device (a browser with one tab): a SpaceSession over its own device storage. */
class Device {
  session: SpaceSession | null = null
  readonly store = new DeviceStore()
  /** Which instance the load balancer sends its next socket to. */
  target: number
  private incarnation = 0

  constructor(
    readonly index: number,
    private readonly world: World,
  ) {
    this.target = index % world.instances.length
  }

  get space(): Space {
    if (!this.session) throw new Error(`device ${this.index} has no session`)
    return this.session.space
  }

  async open(): Promise<void> {
    const world = this.world
    const dial = (socket: SimWebSocket, url: string): Link => world.dial(this, socket, url)
    class DeviceSocket extends SimWebSocket {
      constructor(url: string) {
        super(url, dial)
      }
    }
    const timers: Timers = {
      setTimeout: (fn, ms) => world.time.setTimeout(fn, ms),
      clearTimeout: (h) => (h as Timer | null)?.cancel(),
    }
    this.incarnation++
    this.session = await SpaceSession.open({
      spaceId: SPACE,
      token: TOKEN,
      readOnly: false,
      serverUrl: 'ws://sim/sync',
      store: this.store,
      user: { name: `device ${this.index}`, color: '#336699' },
      replicaId: ((this.index + 1) * 4096 + this.incarnation).toString(16).padStart(16, '0'),
      WebSocket: DeviceSocket as unknown as typeof WebSocket,
      BroadcastChannel: null,
      locks: null,
      window: null,
      navigator: { onLine: true },
      timers,
      random: world.random,
      backoff: { initialMs: 200, maxMs: 4_000 },
    })
    this.session.space.onUpdate((update, e) => {
      if (e.local) world.localUpdates.push(update)
    })
  }

  /** The page reloads: what the tab had stored stays, the rest of its memory goes. */
  async reload(): Promise<void> {
    await this.session?.destroy()
    this.session = null
    await this.open()
  }
}

export interface WorldOptions {
  readonly instances: number
  readonly devices: number
  readonly seed: number
}

/**
 * The whole sync system in one process, deterministic for a seed: M server instances (real
 * `SyncCore`s) over one in-memory fan-out and one shared disk, N devices (real `SpaceSession`s with
 * in-memory device storage), simulated sockets between them, one manual clock for everything. The
 * test drives it event by event; `check()` compares it with what must hold (SPEC.md).
 */
export class World {
  readonly time = new ManualScheduler({ start: 1_700_000_000_000, settleTicks: 30 })
  readonly hub = new MemoryFanOutHub(this.time)
  readonly disk = new SimDisk()
  readonly instances: Instance[]
  readonly devices: Device[]
  readonly links: Link[] = []
  readonly model = new ContractModel()
  readonly random: () => number
  /** The updates devices made (a command's one update), collected by the devices' listeners. */
  localUpdates: Uint8Array[] = []
  private readonly markers = new Map<OpId, Marker>()
  private readonly initialOps = new Set<OpId>()
  private storedCache: { version: number; sv: Map<number, number> } | null = null
  /** What the log of the run says happened, for a failure message. */
  readonly trace: string[] = []

  constructor(readonly options: WorldOptions) {
    this.random = prng(options.seed)
    this.instances = Array.from({ length: options.instances }, (_, i) => new Instance(i, this))
    this.devices = Array.from({ length: options.devices }, (_, i) => new Device(i, this))
  }

  /** The space exists (created and stored before the run), every instance is up, every device open. */
  async start(): Promise<void> {
    const creator = createSpace({
      engine: 'yjs',
      spaceId: SPACE,
      name: 'Flat 3B',
      replicaId: '00000000000000ff',
    })
    creator.createNote({ id: 'shared', title: 'Shared', body: 'ab' })
    this.model.initial(creator.replicaId, { t: 'rename', name: 'Flat 3B' }, observeSpace(creator))
    this.model.initial(
      creator.replicaId,
      { t: 'createNote', id: 'shared', title: 'Shared', body: 'ab' },
      observeSpace(creator),
    )
    this.initialOps.add(0).add(1)
    const state = creator.encodeStateAsUpdate()
    creator.destroy()
    this.disk.seed(SPACE, state)
    for (const d of this.devices) await d.store.append(SPACE, state, null)
    for (const i of this.instances) i.start()
    for (const d of this.devices) await d.open()
    await this.time.runTurns()
  }

  /** @internal a device's SyncConnection opens a socket: it goes to the device's target instance */
  dial(device: Device, socket: SimWebSocket, url: string): Link {
    const u = new URL(url)
    const spaceId = decodeURIComponent(u.pathname.split('/').pop() ?? '')
    const link = new Link(device.index, device.target, spaceId, u.searchParams.get('token'), socket)
    this.links.push(link)
    return link
  }

  /** The link a device's connection is on now (the newest it opened), if any is still alive. */
  linkOf(device: number): Link | null {
    for (let i = this.links.length - 1; i >= 0; i--) {
      const l = this.links[i]!
      if (l.client === device) return l.state === 'closed' ? null : l
    }
    return null
  }

  connect(link: Link): ConnectionHandle | null {
    const core = this.instances[link.instance]?.core
    return core ? core.connect(link.server, link.spaceId, link.token) : null
  }

  // ------------------------------------------------------------------------------ commands

  /**
   * Runs a command on a device the way the app would, with the model planning it first from what
   * that device has integrated. Returns the problems found (empty when all is as the contract says).
   */
  command(device: number, cmd: Command, run: (s: Space) => unknown): string[] {
    const d = this.devices[device]!
    const space = d.space
    const planned = this.model.plan(space.replicaId, this.seen(space), cmd, observeSpace(space))
    this.localUpdates = []
    let kind = 'ok'
    try {
      run(space)
    } catch (e) {
      if (!isMergeError(e)) throw e
      kind = e.kind
    }
    if (kind !== planned.expect)
      return [`device ${device}: ${cmd.t} gave ${kind}, the contract says ${planned.expect}`]
    if (kind !== 'ok') return []
    const update = this.localUpdates[0]
    if (!update) return planned.commit(null)
    const problems = planned.commit(observeSpace(space))
    this.markers.set(this.markers.size + this.initialOps.size, markerOf('yjs', update))
    return problems
  }

  /** The operations a device's document has integrated (read from the document, never tracked). */
  seen(space: Space): Set<OpId> {
    const out = new Set(this.initialOps)
    for (const [op, m] of this.markers) if (m.integratedIn(space)) out.add(op)
    return out
  }

  // ------------------------------------------------------------------------------ checks

  private storedVector(): Map<number, number> {
    if (this.storedCache?.version !== this.disk.version) {
      const doc = this.disk.document(SPACE)
      this.storedCache = { version: this.disk.version, sv: Y.decodeStateVector(Y.encodeStateVector(doc)) }
      doc.destroy()
    }
    return this.storedCache.sv
  }

  /**
   * What must hold at every moment (SPEC.md SIM-1 … SIM-3): no durable ack claims more than the disk
   * holds; a device that says "saved" has every change it holds on the disk; every device shows what
   * the contract implies for the operations it has integrated.
   */
  check(when: string): string[] {
    const problems: string[] = []
    const stored = this.storedVector()
    const covers = (sv: Map<number, number>): string | null => {
      for (const [client, clock] of sv)
        if ((stored.get(client) ?? 0) < clock)
          return `${client}:${clock} (disk has ${stored.get(client) ?? 0})`
      return null
    }
    for (const d of this.devices) {
      const s = d.session
      if (!s) continue
      const acked = s.connectionState?.acked
      if (acked) {
        const gap = covers(Y.decodeStateVector(acked))
        if (gap) problems.push(`${when}: device ${d.index} holds a durable ack the disk does not: ${gap}`)
      }
      if (s.status.kind === 'saved') {
        const gap = covers(Y.decodeStateVector(Y.encodeStateVector(s.doc!)))
        if (gap) problems.push(`${when}: device ${d.index} says "saved" but the disk lacks ${gap}`)
      }
      if ((s.status.kind === 'offline' || s.status.kind === 'unreachable') && s.connectionState?.connected)
        problems.push(`${when}: device ${d.index} says "${s.status.kind}" while connected`)
      if (s.status.kind === 'saved' && !s.connectionState?.connected)
        problems.push(`${when}: device ${d.index} says "saved" with no connection`)
      // SYNC-13: "syncing" without a socket only while the first attempt since the last sync is under way
      if (
        s.status.kind === 'syncing' &&
        !s.connectionState?.connected &&
        (s.connectionState?.attempt ?? 0) > 0
      )
        problems.push(`${when}: device ${d.index} says "syncing" with no connection after a failed attempt`)
      problems.push(
        ...this.model.check(this.seen(s.space), observeSpace(s.space), `${when}: device ${d.index}`),
      )
    }
    return problems
  }

  /** Whether nothing is left to deliver, commit or reconnect, and every device says "saved". */
  get quiet(): boolean {
    if (this.instances.some((i) => !i.up || (i.storage?.pending ?? 0) > 0)) return false
    if (this.links.some((l) => l.busy)) return false
    return this.devices.every((d) => d.session?.status.kind === 'saved')
  }

  /**
   * Every fault heals: every instance up, every socket delivered, every append committed, time moved
   * on for reconnects — until the world is quiet (or a bound is reached). Returns whether it got quiet.
   */
  async heal(): Promise<boolean> {
    for (const i of this.instances) {
      i.start()
      if (i.fanOut?.isCut) i.fanOut.restore()
    }
    for (let round = 0; round < 60; round++) {
      for (const l of [...this.links]) if (l.state === 'dialing') l.open((x) => this.connect(x))
      for (const l of [...this.links]) {
        l.deliverUp(Infinity)
        await this.time.runTurns()
        l.deliverDown(Infinity)
      }
      for (const i of this.instances) while (i.storage?.commitNext()) await this.time.runTurns()
      // quiet once everything in flight is delivered and committed: looked at before time moves on,
      // since moving it starts the next heartbeat (CONN-5) — a round of 2 s can end on one every time
      if (this.quiet) return true
      await this.time.advance(round < 5 ? 150 : 2_000)
      if (this.quiet) return true
    }
    return this.quiet
  }

  /** The state of every part, for a failure message. */
  describe(): string {
    const lines: string[] = []
    for (const i of this.instances)
      lines.push(
        `instance ${i.index}: ${i.up ? 'up' : 'down'}, ${i.storage?.pending ?? 0} appends in flight${i.fanOut?.isCut ? ', fan-out cut' : ''}`,
      )
    for (const d of this.devices) {
      const c = d.session?.connectionState
      lines.push(
        `device ${d.index} → instance ${d.target}: ${JSON.stringify(d.session?.status)}, connection ${JSON.stringify(c ? { connected: c.connected, attempt: c.attempt, error: c.error, acked: !!c.acked } : null)}`,
      )
    }
    for (const [k, l] of this.links.entries())
      if (l.state !== 'closed')
        lines.push(
          `link ${k}: device ${l.client} → instance ${l.instance}, ${l.state}, ${l.up.length} up, ${l.down.length} down`,
        )
    return lines.join('\n')
  }

  /** Ends the run: every session and core released (awareness intervals, timers). */
  async stop(): Promise<void> {
    for (const d of this.devices) await d.session?.destroy()
    for (const i of this.instances) i.crash()
  }

  /** The devices' snapshots, for convergence. */
  snapshots(): string[] {
    return this.devices.map((d) => JSON.stringify(d.space.snapshot()))
  }
}
