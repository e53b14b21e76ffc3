/**
 * Test-only helpers for the scale-out tests, which run against real PostgreSQL and Redis. On this
 * project's machines both run on 127.0.0.1 (scripts/test.sh starts them when it can). A missing
 * service skips its tests with a loud message — except under CI=true, where it fails them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import pg from 'pg'

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) }
}

/** Whether something accepts TCP connections at host:port within `ms`. */
export function reachable(host: string, port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(ms, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Says why tests cannot run: fails under CI=true, else prints a loud skip notice and returns false. */
function missing(what: string): false {
  const message = `${what} — the tests that need it are SKIPPED.`
  if (process.env.CI === 'true')
    throw new Error(`${message.replace('SKIPPED', 'required')} (CI=true: they must run)`)
  console.warn(
    `\n${'!'.repeat(100)}\n!!! ${message}\n!!! Start it (see README, "Tests") to run them.\n${'!'.repeat(100)}\n`,
  )
  return false
}

/** Whether PostgreSQL answers at POSTGRES_URL (TEST_POSTGRES_URL). */
export async function havePostgres(): Promise<boolean> {
  const { host, port } = hostPort(POSTGRES_URL, 5432)
  return (await reachable(host, port)) || missing(`PostgreSQL is not reachable at ${POSTGRES_URL}`)
}

/** Whether Redis answers at REDIS_URL (TEST_REDIS_URL). */
export async function haveRedis(): Promise<boolean> {
  const { host, port } = hostPort(REDIS_URL, 6379)
  return (await reachable(host, port)) || missing(`Redis is not reachable at ${REDIS_URL}`)
}

/** Whether a `redis-server` binary is here, to start private servers that a test may stop. */
export function haveRedisServerBinary(): boolean {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
  return found || missing('no redis-server binary on PATH (apt-get install redis-server)')
}

/** A schema of its own in the test database, dropped by `drop()`. */
export function freshSchema(): { schema: string; drop: () => Promise<void> } {
  const schema = `converge_t_${randomBytes(6).toString('hex')}`
  return {
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      } finally {
        await client.end()
      }
    },
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** A private redis-server on a free 127.0.0.1 port, which a test may stop and start again (same port). */
export class PrivateRedis {
  private child: ChildProcess | null = null
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort())
    await r.start()
    return r
  }

  async start(): Promise<void> {
    if (this.child) return
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    this.child = child
    child.once('exit', () => {
      if (this.child === child) this.child = null
    })
    await until(() => reachable('127.0.0.1', this.port, 200), 10_000, `redis-server on ${this.port}`)
  }

  /** SIGKILL, like a crash; resolves once the port is closed. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = null
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
    await until(async () => !(await reachable('127.0.0.1', this.port, 200)), 5000, 'redis to stop')
  }
}

/**
 * A TCP proxy to `target` that a test can cut (every connection through it dropped, new ones
 * refused at once) and restore: a database that becomes unreachable and comes back.
 */
export class CuttableProxy {
  private cut = false
  private readonly sockets = new Set<net.Socket>()
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetUrl: string, defaultPort: number): Promise<CuttableProxy> {
    const target = hostPort(targetUrl, defaultPort)
    let proxy: CuttableProxy | null = null
    const server = net.createServer((inbound) => {
      if (!proxy || proxy.cut) return void inbound.destroy()
      const outbound = net.connect(target)
      for (const s of [inbound, outbound]) {
        proxy.sockets.add(s)
        s.once('close', () => proxy?.sockets.delete(s))
        s.on('error', () => {
          inbound.destroy()
          outbound.destroy()
        })
      }
      inbound.pipe(outbound).pipe(inbound)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    proxy = new CuttableProxy(server, (server.address() as net.AddressInfo).port)
    return proxy
  }

  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  sever(): void {
    this.cut = true
    for (const s of this.sockets) s.destroy()
  }

  restore(): void {
    this.cut = false
  }

  close(): Promise<void> {
    this.sever()
    return new Promise((r) => this.server.close(() => r()))
  }
}

/** mulberry32: a small seeded PRNG with a full 32-bit period, so a failing random run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
