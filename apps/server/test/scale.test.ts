/**
 * Several instances: real server processes over real PostgreSQL (a schema of their own) and a real
 * Redis (a private redis-server, so it can be stopped), with clients that are the real sync-client
 * connection. Under CI=true these run; elsewhere, without the services, they skip loudly.
 */
import { type Socket, connect, createServer } from 'node:net'
import { Origin, type Space, createSpace as createMergeSpace, openSpace } from '@converge/merge'
import { isSavedDocument, savedChanges } from '@converge/merge/automerge'
import { decodeList, encodeList } from '@converge/merge/validate'
import { PostgresPersistence } from '@converge/persistence-postgres'
import { SERVER_ORIGIN, SpaceSession, SyncConnection, ackCovers, codecOf } from '@converge/sync-client'
import {
  CuttableProxy,
  POSTGRES_URL,
  PrivateRedis,
  freshSchema,
  havePostgres,
  haveRedis,
  haveRedisServerBinary,
  prng,
} from '@converge/test-services'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  type ChildServer,
  SpaceDevice,
  TEXT,
  cleanup,
  covers,
  fetchDoc,
  freePort,
  onCleanup,
  sign,
  spawnServer,
  tempDir,
  until,
} from './helpers.js'

const ready = (await havePostgres()) && (await haveRedis()) && haveRedisServerBinary()

afterEach(cleanup)

const SPACE = 'scale-space'

interface Cluster {
  readonly instances: (ChildServer | null)[]
  readonly redis: PrivateRedis
  /** The PostgreSQL schema the instances share (to read storage directly). */
  readonly schema: string
  readonly urls: string[]
  start(i: number): Promise<ChildServer>
  kill(i: number): Promise<void>
  live(): ChildServer
}

/**
 * Three (or `n`) instances on fixed ports sharing one PostgreSQL schema and one Redis; `postgresUrl`
 * may name each instance's way to the database (e.g. one of them through a proxy).
 */
async function cluster(
  n: number,
  postgresUrl: string | ((i: number) => string) = POSTGRES_URL,
): Promise<Cluster> {
  const { schema, drop } = freshSchema()
  onCleanup(drop)
  const redis = await PrivateRedis.start()
  onCleanup(() => redis.stop())
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()))
  const storage = (i: number): string => {
    const url = new URL(typeof postgresUrl === 'string' ? postgresUrl : postgresUrl(i))
    url.searchParams.set('schema', schema)
    return url.toString()
  }
  const instances: (ChildServer | null)[] = ports.map(() => null)
  const c: Cluster = {
    instances,
    redis,
    schema,
    urls: ports.map((p) => `ws://127.0.0.1:${p}/sync`),
    async start(i) {
      const server = await spawnServer(tempDir(), ports[i]!, {
        STORAGE: storage(i),
        REDIS_URL: redis.url,
        IDLE_UNLOAD_MS: '60000',
      })
      instances[i] = server
      return server
    },
    async kill(i) {
      const server = instances[i]
      if (!server) return
      instances[i] = null
      server.child.kill('SIGKILL')
      await server.exited
    },
    live() {
      const s = instances.find((x) => x !== null)
      if (!s) throw new Error('no instance running')
      return s
    },
  }
  for (let i = 0; i < n; i++) await c.start(i)
  return c
}

/**
 * A TCP proxy to PostgreSQL that can *hold* what passes through it: while held, every byte either
 * way waits (an instance's commits hang, its connections stay up) until `drop()` throws it away.
 */
class HoldingProxy {
  private held: (() => void)[] | null = null
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
  ) {}

  static async start(): Promise<HoldingProxy> {
    const target = new URL(POSTGRES_URL)
    let proxy: HoldingProxy | null = null
    const server = createServer((inbound) => {
      const p = proxy!
      const outbound = connect(Number(target.port || 5432), target.hostname)
      const pass = (from: Socket, to: Socket): void => {
        p.sockets.add(from)
        from.on('data', (d: Buffer) => p.forward(() => to.write(d)))
        from.on('error', () => {})
        from.once('close', () => {
          p.sockets.delete(from)
          to.destroy()
        })
      }
      pass(inbound, outbound)
      pass(outbound, inbound)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    proxy = new HoldingProxy(server, (server.address() as { port: number }).port)
    return proxy
  }

  through(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  private forward(f: () => void): void {
    if (this.held) this.held.push(f)
    else f()
  }

  hold(): void {
    this.held ??= []
  }

  /** Drops what it held and every connection through it (none of it reaches the database); new ones pass. */
  drop(): void {
    this.held = null
    for (const s of this.sockets) s.destroy()
  }

  close(): Promise<void> {
    this.drop()
    return new Promise((r) => this.server.close(() => r()))
  }
}

/** The whole state of a replica, with map keys sorted (a Y.Map's own order differs between replicas). */
/** A tag as a note time a space may hold (BAD-7: `notes[noteId␟field]`, note ids of [0-9a-z_-]). */
const noteKey = (tag: string): string => `${tag.replace(/@/g, '_')}\u001fupdatedAt`

function stateOf(doc: Y.Doc): { text: string; notes: Record<string, number> } {
  const notes = doc.getMap<number>('notes').toJSON() as Record<string, number>
  const sorted = Object.fromEntries(
    Object.keys(notes)
      .sort()
      .map((k) => [k, notes[k]!]),
  )
  return { text: doc.getText(TEXT).toJSON(), notes: sorted }
}

/**
 * A client-side balancer: each new socket goes to `at.home` (the connection's own URL names the space);
 * a socket that fails moves `home` on to the next instance.
 */
function balanced(urls: readonly string[], at: { home: number }): typeof globalThis.WebSocket {
  const target = (url: string): string => url.replace(/^ws:\/\/[^/]+\/sync/, urls[at.home]!)
  class Balanced extends WebSocket {
    constructor(url: string) {
      super(target(url))
      this.on('error', () => {})
      this.on('close', (code: number) => {
        if (code !== 1000) at.home = (at.home + 1) % urls.length
      })
    }
  }
  return Balanced as unknown as typeof globalThis.WebSocket
}

/** A device: a Y.Doc synced by the real sync-client connection, pinned to `home` until it fails. */
class Device {
  readonly doc = new Y.Doc()
  readonly awareness = new Awareness(this.doc)
  readonly conn: SyncConnection
  /** Which instance the next socket goes to (the device fails over to the next one). */
  home: number

  constructor(
    readonly name: string,
    urls: readonly string[],
    home: number,
    token: string,
  ) {
    this.home = home
    this.conn = new SyncConnection({
      serverUrl: 'ws://balanced/sync',
      spaceId: SPACE,
      token,
      doc: this.doc,
      awareness: this.awareness,
      applyRemote: (u) => Y.applyUpdate(this.doc, u, SERVER_ORIGIN),
      WebSocket: balanced(urls, this),
      backoff: { initialMs: 50, maxMs: 400 },
    })
    this.conn.connect()
    onCleanup(() => {
      this.conn.destroy()
      this.doc.destroy()
    })
  }

  get text(): string {
    return this.doc.getText(TEXT).toJSON()
  }

  get saved(): boolean {
    const acked = this.conn.current.acked
    return this.conn.current.connected && acked !== null && covers(acked, this.doc)
  }

  /** For failure messages: what it holds, whether it is connected, and which clocks the server has not acked. */
  describe(): string {
    const { connected, acked, error } = this.conn.current
    const server = acked ? Y.decodeStateVector(acked) : new Map<number, number>()
    const missing = [...Y.decodeStateVector(Y.encodeStateVector(this.doc))]
      .filter(([client, clock]) => (server.get(client) ?? 0) < clock)
      .map(([client, clock]) => `${client}:${server.get(client) ?? 0}<${clock}`)
    return `${this.name} ${JSON.stringify(this.state()).length}b connected=${connected}${error ? ` error=${error.kind}` : ''} unacked=[${missing.join(',')}]`
  }

  /** One random edit: a map entry or a text insertion. */
  edit(random: () => number, tag: string): void {
    if (random() < 0.5) this.doc.getMap('notes').set(noteKey(tag), Math.floor(random() * 1000))
    else {
      const t = this.doc.getText(TEXT)
      // at either end, so no later insertion splits a tag and each stays findable as a whole
      t.insert(random() < 0.5 ? 0 : t.length, `<${tag}>`)
    }
  }

  /** The whole state, comparable across devices. */
  state(): { text: string; notes: Record<string, number> } {
    return stateOf(this.doc)
  }
}

function seedFromEnv(): number {
  const seed = Number(process.env.SCALE_SEED ?? Date.now() % 1_000_000)
  console.log(`scale test seed: ${seed} (repeat with SCALE_SEED=${seed})`)
  return seed
}

async function converged(devices: Device[], what: string, timeout = 20_000): Promise<void> {
  await vi.waitFor(
    () => {
      const first = JSON.stringify(devices[0]!.state())
      if (!devices.every((d) => JSON.stringify(d.state()) === first && d.saved))
        throw new Error(`not converged ${what}: ${devices.map((d) => d.describe()).join('; ')}`)
    },
    { timeout, interval: 20 },
  )
}

async function storedState(server: ChildServer, token: string): Promise<ReturnType<typeof stateOf>> {
  return stateOf(await fetchDoc(server, SPACE, token))
}

/** fanout-redis REDIS-3, on /metrics. */
const GAP = /^converge_fanout_gap_seconds ([\d.e+-]+)$/m

const metric = async (server: ChildServer, line: RegExp): Promise<number> => {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const m = line.exec(text)
  return m ? Number(m[1]) : NaN
}

/** A seeded run on three instances with six devices, two per instance. */
async function spreadOverThree(): Promise<{
  random: () => number
  c: Cluster
  token: string
  devices: Device[]
}> {
  const random = prng(seedFromEnv())
  const c = await cluster(3)
  const token = await sign(SPACE, 'write')
  const devices = Array.from({ length: 6 }, (_, i) => new Device(`d${i}@${i % 3}`, c.urls, i % 3, token))
  return { random, c, token, devices }
}

// ---------------------------------------------------------------------------------------------
// one Automerge space (SCALE-6)

const AM_SPACE = 'scale-automerge-space'
/** The note every Automerge device writes into (created once, before the random edits). */
const AM_NOTE = 'shared'

/** What the random edits must leave: each line's quantity (1 + its increments) and each note tag. */
interface Expected {
  readonly quantities: Map<string, number>
  readonly tags: string[]
}

/**
 * A device on an Automerge space: the real sync-client session (merge's Automerge `Space`, the real
 * SyncConnection over real WebSockets, no device storage, no tabs), pinned to `home` until a socket fails.
 */
class AutomergeDevice {
  home: number
  session!: SpaceSession

  private constructor(
    readonly name: string,
    home: number,
  ) {
    this.home = home
  }

  static async open(
    name: string,
    urls: readonly string[],
    home: number,
    token: string,
  ): Promise<AutomergeDevice> {
    const d = new AutomergeDevice(name, home)
    d.session = await SpaceSession.open({
      spaceId: AM_SPACE,
      engine: 'automerge',
      token,
      readOnly: false,
      serverUrl: 'ws://balanced/sync',
      store: null,
      user: { name, color: '#c33' },
      BroadcastChannel: null,
      locks: null,
      window: null,
      page: null,
      navigator: null,
      WebSocket: balanced(urls, d),
      backoff: { initialMs: 50, maxMs: 400 },
    })
    onCleanup(() => d.session.destroy())
    return d
  }

  get space(): Space {
    return this.session.space
  }

  get connected(): boolean {
    return this.session.connectionState?.connected === true
  }

  /** Connected, and the server's durable ack covers every change this device holds (the client's own check). */
  get saved(): boolean {
    const c = this.session.connectionState
    return c !== null && c.connected && ackCovers(this.space, c.acked)
  }

  /** For failure messages: what it holds, whether it is connected, and which writers the server has not acked. */
  describe(): string {
    const c = this.session.connectionState
    const server = c?.acked ? codecOf('automerge').decodeVector(c.acked) : new Map<string, number>()
    const missing = [...this.space.versionVector()]
      .filter(([writer, clock]) => (server.get(writer) ?? 0) < clock)
      .map(([writer, clock]) => `${writer.slice(0, 6)}:${server.get(writer) ?? 0}<${clock}`)
    return `${this.name}@${this.home} items=${this.space.items().length} connected=${c?.connected ?? false}${c?.error ? ` error=${c.error.kind}` : ''} status=${this.session.status.kind} unacked=[${missing.join(',')}]`
  }

  /** One random edit through the domain: a new line, +1 on a line it sees, or a tag at either end of the note. */
  edit(random: () => number, tag: string, expected: Expected): void {
    const r = random()
    const lines = this.space.items()
    if (r < 0.35 || lines.length === 0) {
      expected.quantities.set(this.space.addItem(tag), 1)
    } else if (r < 0.65) {
      const key = lines[Math.floor(random() * lines.length)]!.key
      this.space.increment(key)
      expected.quantities.set(key, (expected.quantities.get(key) ?? 0) + 1)
    } else {
      const at = random() < 0.5 ? 0 : this.space.note(AM_NOTE)!.body.length
      this.space.editNote(AM_NOTE, at, 0, `<${tag}>`)
      expected.tags.push(tag)
    }
  }

  /** The whole state, canonically ordered (equal snapshots: converged replicas). */
  state(): string {
    return JSON.stringify(this.space.snapshot())
  }
}

async function convergedAutomerge(devices: AutomergeDevice[], what: string, timeout = 30_000): Promise<void> {
  await vi.waitFor(
    () => {
      const first = devices[0]!.state()
      if (!devices.every((d) => d.state() === first && d.saved))
        throw new Error(`not converged ${what}: ${devices.map((d) => d.describe()).join('; ')}`)
    },
    { timeout, interval: 50 },
  )
}

/** The space as PostgreSQL holds it: every stored record (snapshot and updates) into a fresh replica. */
async function storedAutomerge(schema: string): Promise<Space> {
  const pg = new PostgresPersistence({ connectionString: POSTGRES_URL, schema, poolSize: 1 })
  try {
    const stored = await pg.load(AM_SPACE)
    const records = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates
    expect(records.length).toBeGreaterThan(0)
    // all of it as one update, as a room loads it (the log of several instances need not be in causal
    // order: an instance may commit a change before the one it builds on commits elsewhere)
    const space = openSpace({ engine: 'automerge', spaceId: AM_SPACE })
    // (a snapshot is the saved document, server-core DOC-5: read back as its changes)
    const changes = records.flatMap((r) => decodeList(isSavedDocument(r) ? savedChanges(r) : r, 'update'))
    space.applyUpdate(encodeList(changes), Origin.Server)
    return space
  } finally {
    await pg.close()
  }
}

describe.skipIf(!ready)('several instances over PostgreSQL and Redis', () => {
  it(
    'SCALE-1 devices spread over three instances edit at random and converge; storage holds the same state',
    { timeout: 60_000 },
    async () => {
      const { random, c, token, devices } = await spreadOverThree()
      await until(() => devices.every((d) => d.conn.current.connected), 'every device connected', 10_000)
      const expectedTags: string[] = []
      for (let round = 0; round < 20; round++) {
        for (const d of devices) {
          const tag = `${d.name}-${round}`
          d.edit(random, tag)
          expectedTags.push(tag)
        }
        await new Promise((r) => setTimeout(r, Math.floor(random() * 30)))
      }
      await converged(devices, 'convergence across instances')
      // live across instances: every device holds every edit, and each is stored exactly as shown
      const state = devices[0]!.state()
      for (const tag of expectedTags)
        expect(state.text.includes(`<${tag}>`) || noteKey(tag) in state.notes).toBe(true)
      for (const server of c.instances) expect(await storedState(server!, token)).toEqual(state)
    },
  )

  it(
    'SCALE-2 Redis down: each instance keeps serving its own clients (and saving); when Redis is back the instances re-converge; [REDIS-3] the gap rises on /metrics meanwhile and is 0 after the repair',
    { timeout: 60_000 },
    async () => {
      const random = prng(seedFromEnv())
      const c = await cluster(2)
      const token = await sign(SPACE, 'write')
      const [a1, a2, b1] = [
        new Device('a1@0', c.urls, 0, token),
        new Device('a2@0', c.urls, 0, token),
        new Device('b1@1', c.urls, 1, token),
      ]
      await converged([a1, a2, b1], 'first sync')
      await c.redis.stop()
      const server0 = c.instances[0]!
      await until(
        () => server0.stdout.some((l) => l.includes('redis fan-out connection lost')),
        'loss logged',
      )
      expect(await metric(server0, /^converge_fanout_connected (\d+)/m)).toBe(0)
      for (let i = 0; i < 10; i++) {
        a1.edit(random, `a1-${i}`)
        b1.edit(random, `b1-${i}`)
      }
      // the same instance still relays and commits; across instances nothing flows
      await converged([a1, a2], 'same-instance clients while Redis is down')
      await until(() => b1.saved, 'b1 saved on its own instance while Redis is down')
      expect(b1.text).not.toBe(a1.text)
      // REDIS-3: both instances are out of step, and more so every second
      const gaps = await Promise.all(c.instances.map((i) => metric(i!, GAP)))
      for (const g of gaps) expect(g).toBeGreaterThan(0)
      await vi.waitFor(async () => expect(await metric(server0, GAP)).toBeGreaterThan(gaps[0]! + 0.1), {
        timeout: 5000,
      })
      await c.redis.start()
      await converged([a1, a2, b1], 'after Redis is back')
      for (const i of c.instances)
        await vi.waitFor(async () => expect(await metric(i!, GAP)).toBe(0), { timeout: 10_000 })
      expect(await metric(server0, /^converge_fanout_connected (\d+)/m)).toBe(1)
      expect(await metric(server0, /^converge_fanout_resyncs_total (\d+)/m)).toBeGreaterThan(0)
      expect(await storedState(c.instances[1]!, token)).toEqual(a1.state())
    },
  )

  it(
    'SCALE-3 an instance SIGKILLed: its clients move to another instance and nothing confirmed is lost',
    { timeout: 60_000 },
    async () => {
      const { random, c, token, devices } = await spreadOverThree()
      await converged(devices, 'first sync')
      for (let i = 0; i < 10; i++) for (const d of devices) d.edit(random, `${d.name}-pre${i}`)
      await converged(devices, 'before the kill')
      const confirmed = devices[0]!.state()
      // edits in flight while instance 0 dies
      for (const d of devices) d.edit(random, `${d.name}-inflight`)
      await c.kill(0)
      for (const d of devices) d.edit(random, `${d.name}-after`)
      await converged(devices, 'after instance 0 died')
      expect(devices.filter((d) => d.home === 0)).toEqual([]) // its clients moved on
      const stored = await storedState(c.live(), token)
      expect(stored).toEqual(devices[0]!.state())
      // everything confirmed before the kill is there
      const before = confirmed
      for (const [k, v] of Object.entries(before.notes))
        if (!k.includes('-inflight') && !k.includes('-after')) {
          // a later edit of the same key may replace the value; the key itself never disappears
          expect(k in stored.notes, `${k}=${v} confirmed before the kill`).toBe(true)
        }
      for (const tag of before.text.match(/<[^>]+>/g) ?? []) expect(stored.text).toContain(tag)
    },
  )

  it(
    'SCALE-5 a link reset on one instance closes the old link’s sockets on the others at once; the old link is refused everywhere, the new one works everywhere',
    { timeout: 60_000 },
    async () => {
      const c = await cluster(2)
      const token = await sign(SPACE, 'write')
      const [a, b] = [new Device('a@0', c.urls, 0, token), new Device('b@1', c.urls, 1, token)]
      a.doc.getText(TEXT).insert(0, 'before the reset')
      await converged([a, b], 'first sync')
      const res = await fetch(`${c.instances[0]!.url}/api/spaces/${SPACE}/links/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(res.status).toBe(200)
      const fresh = (await res.json()) as { writeToken: string; readToken: string }
      // b is on the other instance: told over Redis, its real sync connection stops for good
      await until(
        () => a.conn.current.error?.kind === 'LinkRevoked' && b.conn.current.error?.kind === 'LinkRevoked',
        'both devices stopped with LinkRevoked',
        10_000,
      )
      expect(b.conn.current.error?.next).toBe('reauthenticate')
      for (const server of c.instances) {
        const old = new WebSocket(`${server!.wsUrl}/${SPACE}?token=${encodeURIComponent(token)}`)
        old.on('error', () => {})
        const code = await new Promise<number>((resolve) => old.once('close', (n: number) => resolve(n)))
        expect(code).toBe(4410)
        expect((await fetchDoc(server!, SPACE, fresh.readToken)).getText(TEXT).toJSON()).toBe(
          'before the reset',
        )
      }
      const d = new Device('d@1', c.urls, 1, fresh.writeToken)
      await until(() => d.conn.current.connected, 'the new link connects on the other instance', 10_000)
      expect(d.text).toBe('before the reset')
    },
  )

  it(
    'SCALE-4 PostgreSQL unreachable: nothing is confirmed that is not committed; clients keep their changes; service resumes',
    { timeout: 60_000 },
    async () => {
      const random = prng(seedFromEnv())
      const proxy = await CuttableProxy.start(POSTGRES_URL, 5432)
      onCleanup(() => proxy.close())
      const c = await cluster(2, proxy.through(POSTGRES_URL))
      const token = await sign(SPACE, 'write')
      const [a, b] = [new Device('a@0', c.urls, 0, token), new Device('b@1', c.urls, 1, token)]
      await converged([a, b], 'first sync')
      proxy.sever()
      for (let i = 0; i < 5; i++) {
        a.edit(random, `a-${i}`)
        b.edit(random, `b-${i}`)
      }
      await until(
        () =>
          c.instances.every((s) =>
            s!.stdout.some((l) => l.includes('commit failed') || l.includes('loading the space failed')),
          ),
        'each instance logs the storage failure',
        15_000,
      )
      await new Promise((r) => setTimeout(r, 500))
      expect(a.saved || b.saved).toBe(false) // never confirmed while the database is away
      const failures =
        (await metric(c.instances[0]!, /^converge_commit_failures_total (\d+)/m)) +
        (await metric(c.instances[1]!, /^converge_commit_failures_total (\d+)/m))
      expect(failures).toBeGreaterThan(0)
      proxy.restore()
      await converged([a, b], 'after PostgreSQL is back', 30_000)
      proxy.sever() // nothing more is needed from it: reading back through a fresh connection
      proxy.restore()
      expect(await storedState(c.instances[0]!, token)).toEqual(a.state())
      for (let i = 0; i < 5; i++)
        expect(a.text.includes(`<a-${i}>`) || noteKey(`a-${i}`) in a.state().notes).toBe(true)
    },
  )

  it(
    'SCALE-6 one Automerge space over three instances: devices edit at random and converge through Redis; an instance SIGKILLed holding edits it relayed and never committed — its devices move on, every device ends saved and storage holds the same state',
    { timeout: 120_000 },
    async () => {
      const random = prng(seedFromEnv())
      const proxy = await HoldingProxy.start()
      onCleanup(() => proxy.close())
      // instance 0 reaches PostgreSQL through a proxy that can hold its commits
      const c = await cluster(3, (i) => (i === 0 ? proxy.through(POSTGRES_URL) : POSTGRES_URL))
      // created as Automerge through one instance: the register in PostgreSQL tells the other two
      const res = await fetch(`${c.instances[1]!.url}/api/spaces`, {
        method: 'POST',
        body: JSON.stringify({ id: AM_SPACE, engine: 'automerge' }),
      })
      expect(res.status).toBe(201)
      const { writeToken: token, engine } = (await res.json()) as { writeToken: string; engine: string }
      expect(engine).toBe('automerge')
      const devices = await Promise.all(
        Array.from({ length: 6 }, (_, i) => AutomergeDevice.open(`d${i}`, c.urls, i % 3, token)),
      )
      await vi.waitFor(
        () => {
          if (!devices.every((d) => d.connected))
            throw new Error(`not all connected: ${devices.map((d) => d.describe()).join('; ')}`)
        },
        { timeout: 15_000, interval: 50 },
      )
      devices[0]!.space.createNote({ id: AM_NOTE, title: 'shared' })
      await convergedAutomerge(devices, 'on the shared note')
      const expected: Expected = { quantities: new Map(), tags: [] }
      const rounds = async (from: number, to: number): Promise<void> => {
        for (let round = from; round < to; round++) {
          for (const d of devices) d.edit(random, `${d.name}-${round}`, expected)
          await new Promise((r) => setTimeout(r, Math.floor(random() * 30)))
        }
      }
      // three instances: each device's edits reach the devices of the other two only through Redis
      await rounds(0, 10)
      await convergedAutomerge(devices, 'across three instances')
      expect(new Set(devices.map((d) => d.home))).toEqual(new Set([0, 1, 2]))

      // in the middle of the burst instance 0 dies holding edits it relayed and never committed: its
      // commits hang, its devices edit, and once the devices of the other instances have those edits
      // (through Redis) — acknowledged to no one — it is SIGKILLed
      await rounds(10, 15)
      const onZero = devices.filter((d) => d.home === 0)
      const elsewhere = devices.filter((d) => d.home !== 0)
      proxy.hold()
      for (const d of onZero) d.edit(random, `${d.name}-held`, expected)
      await vi.waitFor(
        () => {
          for (const d of onZero) {
            const clock = d.space.versionVector().get(d.space.replicaId)!
            for (const e of elsewhere)
              if ((e.space.versionVector().get(d.space.replicaId) ?? 0) < clock)
                throw new Error(`${e.name} lacks ${d.name}'s held edit: ${e.describe()}`)
          }
        },
        { timeout: 15_000, interval: 10 },
      )
      expect(onZero.filter((d) => d.saved).map((d) => d.name)).toEqual([])
      await c.kill(0)
      proxy.drop() // what instance 0 was committing never reaches the database
      await rounds(15, 20)
      await convergedAutomerge(devices, 'after instance 0 died', 45_000)
      expect(devices.filter((d) => d.home === 0).map((d) => d.name)).toEqual([]) // its devices moved on
      expect(new Set(devices.map((d) => d.home))).toEqual(new Set([1, 2])) // still over two instances

      // every edit is there, as made: each line's quantity is 1 + its increments, each tag whole in the note
      const space = devices[0]!.space
      const shown = new Map(space.items().map((i) => [i.key, i.quantity]))
      expect(shown).toEqual(expected.quantities)
      const body = space.note(AM_NOTE)!.body
      for (const tag of expected.tags) expect(body).toContain(`<${tag}>`)
      expect(body.match(/<[^>]+>/g)?.length ?? 0).toBe(expected.tags.length)
      expect(devices.every((d) => d.session.status.kind === 'saved')).toBe(true)

      // storage holds the same: PostgreSQL read directly, and a fresh device through a restarted instance 0
      const state = devices[0]!.state()
      expect(JSON.stringify((await storedAutomerge(c.schema)).snapshot())).toBe(state)
      await c.start(0)
      const fresh = await AutomergeDevice.open('fresh', c.urls, 0, token)
      await vi.waitFor(
        () => {
          if (!(fresh.saved && fresh.state() === state)) throw new Error(`fresh: ${fresh.describe()}`)
        },
        { timeout: 15_000, interval: 50 },
      )
      expect(fresh.home).toBe(0)
    },
  )

  it(
    'SCALE-7 two phones on two instances press “Done shopping” at once: PostgreSQL records one trip, the list is cleared once everywhere',
    { timeout: 60_000 },
    async () => {
      const c = await cluster(2)
      const [one, two] = [c.instances[0]!, c.instances[1]!]
      const res = await fetch(`${one.url}/api/spaces`, {
        method: 'POST',
        body: JSON.stringify({ name: 'Home' }),
      })
      expect(res.status).toBe(201)
      const { id, writeToken } = (await res.json()) as { id: string; writeToken: string }
      const a = await SpaceDevice.open(
        one,
        createMergeSpace({ engine: 'yjs', spaceId: id, name: 'Home' }),
        writeToken,
      )
      a.space.addItem('Milk', { quantity: 2, fields: { priceCents: 129 } })
      a.space.addItem('Bread')
      a.space.addItem('Eggs')
      a.space.check('milk', 'Sam')
      a.space.check('bread', 'Alex')
      const b = await SpaceDevice.open(two, openSpace({ engine: 'yjs', spaceId: id }), writeToken)
      await until(
        () => a.saved && b.answered && b.space.items().length === 3 && b.saved,
        'both phones have the list',
      )
      // the version each phone saw, read from its own instance
      const versionAt = async (server: ChildServer): Promise<string> =>
        (
          (await (
            await fetch(`${server.url}/api/spaces/${id}`, {
              headers: { authorization: `Bearer ${writeToken}` },
            })
          ).json()) as { version: string }
        ).version
      const [va, vb] = await Promise.all([versionAt(one), versionAt(two)])
      const done = (server: ChildServer, version: string, by: string) =>
        fetch(`${server.url}/api/spaces/${id}/trips`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${writeToken}`,
            'idempotency-key': `scale7-${by}-${Date.now()}`,
            'if-match': `"${version}"`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ by }),
        })
      const answers = await Promise.all([done(one, va, 'Sam'), done(two, vb, 'Alex')])
      const statuses = answers.map((r) => r.status).sort()
      expect(statuses[0]).toBe(201)
      expect([409, 412]).toContain(statuses[1])
      for (const d of [a, b])
        await until(() => d.space.items().length === 1, 'the bought lines leave both phones', 15_000)
      expect(a.space.items().map((i) => i.name)).toEqual(['Eggs'])
      expect(b.space.items().map((i) => i.name)).toEqual(['Eggs'])
      // one trip, as both instances read it from PostgreSQL
      for (const server of [one, two]) {
        const list = (await (
          await fetch(`${server.url}/api/spaces/${id}/trips`, {
            headers: { authorization: `Bearer ${writeToken}` },
          })
        ).json()) as { trips: { status: string; totalCents: number }[] }
        expect(list.trips.map((t) => [t.status, t.totalCents])).toEqual([['complete', 258]])
      }
      a.close()
      b.close()
    },
  )
})
