import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Origin, type Space } from '@converge/merge'
import { type Message, decodeMessage, encodeMessage } from '@converge/protocol'
import { ackCovers } from '@converge/sync-client'
import type { Limits } from '@converge/server-core'
import { vi } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { signToken } from '../src/auth.js'
import { type Config, type PerIpLimits, parseConfig } from '../src/config.js'
import { type RunningServer, type StartOptions, startServer } from '../src/server.js'

export const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
export const SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz'

/** Everything a test started, stopped in reverse order by `cleanup()` (call it in afterEach). */
const cleanups: (() => unknown)[] = []
export const onCleanup = (fn: () => unknown): void => {
  cleanups.push(fn)
}
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!
    try {
      await fn()
    } catch (e) {
      console.error('cleanup failed', e)
    }
  }
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'converge-server-test-'))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function testConfig(
  overrides: Partial<Omit<Config, 'limits' | 'perIp'>> & {
    limits?: Partial<Limits>
    perIp?: Partial<PerIpLimits>
  } = {},
): Config {
  const base = parseConfig([], {})
  const dataDir = overrides.dataDir ?? tempDir()
  return {
    ...base,
    port: 0,
    host: '127.0.0.1',
    dataDir,
    storage: { kind: 'sqlite', file: join(dataDir, 'converge.sqlite') },
    logLevel: 'silent',
    secret: SECRET,
    webDist: join(tmpdir(), 'converge-no-web-dist'),
    ...overrides,
    limits: { ...base.limits, ...overrides.limits },
    perIp: { ...base.perIp, ...overrides.perIp },
  }
}

export interface TestServer extends RunningServer {
  readonly wsUrl: string
  readonly config: Config
  /** Log lines written so far (JSON strings). */
  readonly logs: string[]
}

/** Starts an in-process server on a free port with a fresh data dir; stopped by cleanup(). */
export async function startTestServer(
  overrides: Parameters<typeof testConfig>[0] = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const config = testConfig({ logLevel: 'debug', ...overrides })
  const logs: string[] = []
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString())
      done()
    },
  })
  const server = await startServer(config, { logDestination, ...options })
  onCleanup(() => server.close())
  return { ...server, config, logs, wsUrl: `ws://127.0.0.1:${server.port}/sync` }
}

export async function createSpace(
  server: { url: string },
  headers: Record<string, string> = {},
): Promise<{ id: string; writeToken: string; readToken: string }> {
  const res = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers })
  if (res.status !== 201) throw new Error(`POST /api/spaces: ${res.status}`)
  return (await res.json()) as { id: string; writeToken: string; readToken: string }
}

export const sign = (
  spaceId: string,
  scope: 'read' | 'write',
  options: { expiresAt?: number; secret?: string; generation?: number } = {},
) => signToken(options.secret ?? SECRET, spaceId, scope, options)

// ---------------------------------------------------------------------------------------------
// stock y-websocket clients

export interface Client {
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  /** The note body text, a valid root of a Converge space. */
  readonly text: Y.Text
  /** The 'notes' map, a valid root of a Converge space (scalar values only). */
  readonly map: Y.Map<unknown>
}

export const TEXT = 'body:n1'

/** A `ws` WebSocket class that sends these headers on the upgrade (e.g. X-Forwarded-For, Origin). */
export function webSocketWith(headers: Record<string, string>): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers })
    }
  } as typeof WebSocket
}

export function connectClient(
  server: { wsUrl: string },
  spaceId: string,
  token: string | null,
  headers: Record<string, string> = {},
): Client {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.wsUrl, spaceId, doc, {
    WebSocketPolyfill: webSocketWith(headers) as never,
    params: token === null ? {} : { token },
    disableBc: true,
    maxBackoffTime: 200,
  })
  onCleanup(() => {
    provider.destroy()
    doc.destroy()
  })
  return { doc, provider, text: doc.getText(TEXT), map: doc.getMap('notes') }
}

/** Records the close codes the server sent to a stock client. */
export function serverCloses(client: Client): number[] {
  const codes: number[] = []
  client.provider.on('connection-close', (event) => {
    if (event) codes.push((event as unknown as { code: number }).code)
  })
  return codes
}

export async function synced(client: Client, timeout = 5000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!client.provider.synced) throw new Error('not synced yet')
    },
    { timeout, interval: 10 },
  )
}

export async function connectSynced(
  server: { wsUrl: string },
  spaceId: string,
  token: string | null,
  headers: Record<string, string> = {},
): Promise<Client> {
  const c = connectClient(server, spaceId, token, headers)
  await synced(c)
  return c
}

export async function until(check: () => boolean, what: string, timeout = 5000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(`timed out waiting for ${what}`)
    },
    { timeout, interval: 10 },
  )
}

// ---------------------------------------------------------------------------------------------
// a raw protocol client: sends any bytes, records everything it receives

export interface Closed {
  readonly code: number
  readonly reason: string
}

export class RawClient {
  readonly ws: WebSocket
  /** Every frame received, in order, as raw bytes. */
  readonly frames: Uint8Array[] = []
  /** Every event in order: a frame or the close. */
  readonly events: ({ kind: 'frame'; frame: Uint8Array } | { kind: 'close'; code: number })[] = []
  readonly opened: Promise<void>
  readonly closed: Promise<Closed>
  closeInfo: Closed | null = null

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers })
    this.ws.binaryType = 'nodebuffer'
    this.ws.on('error', () => {})
    this.ws.on('message', (data: Buffer) => {
      const frame = new Uint8Array(data)
      this.frames.push(frame)
      this.events.push({ kind: 'frame', frame })
    })
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    })
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() }
        this.events.push({ kind: 'close', code })
        resolve(this.closeInfo)
      })
    })
    this.opened.catch(() => {})
    onCleanup(() => this.ws.terminate())
  }

  static async open(
    server: { wsUrl: string },
    spaceId: string,
    token: string | null,
    headers: Record<string, string> = {},
  ): Promise<RawClient> {
    const q = token === null ? '' : `?token=${encodeURIComponent(token)}`
    const c = new RawClient(`${server.wsUrl}/${spaceId}${q}`, headers)
    await c.opened
    return c
  }

  get messages(): Message[] {
    return this.frames.map((f) => decodeMessage(f))
  }

  send(m: Message | Uint8Array): void {
    this.ws.send(m instanceof Uint8Array ? m : encodeMessage(m))
  }

  sendText(text: string): void {
    this.ws.send(text)
  }

  async waitFor<T extends Message['type']>(
    type: T,
    pred: (m: Extract<Message, { type: T }>) => boolean = () => true,
    timeout = 5000,
  ): Promise<Extract<Message, { type: T }>> {
    let found: Extract<Message, { type: T }> | undefined
    await vi.waitFor(
      () => {
        found = this.messages.find(
          (m): m is Extract<Message, { type: T }> =>
            m.type === type && pred(m as Extract<Message, { type: T }>),
        )
        if (!found) throw new Error(`no ${type} message yet`)
      },
      { timeout, interval: 5 },
    )
    return found!
  }

  async waitClosed(timeout = 5000): Promise<Closed> {
    let t: NodeJS.Timeout | undefined
    const timer = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error('socket not closed in time')), timeout)
    })
    try {
      return await Promise.race([this.closed, timer])
    } finally {
      clearTimeout(t)
    }
  }

  /** Applies every sync message received to a fresh doc and returns it. */
  doc(): Y.Doc {
    const doc = new Y.Doc()
    for (const m of this.messages)
      if (m.type === 'sync-step2' || m.type === 'sync-update') Y.applyUpdate(doc, m.update)
    return doc
  }
}

/** Whether `stateVector` covers every clock of `doc` (the server has durably stored all of it). */
export function covers(stateVector: Uint8Array, doc: Y.Doc): boolean {
  const acked = Y.decodeStateVector(stateVector)
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc)))
    if ((acked.get(client) ?? 0) < clock) return false
  return true
}

/** Reads the whole stored document through a fresh raw client (sync-step1 with an empty vector). */
export async function fetchDoc(server: { wsUrl: string }, spaceId: string, token: string): Promise<Y.Doc> {
  const c = await RawClient.open(server, spaceId, token)
  c.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
  await c.waitFor('sync-step2')
  const doc = c.doc()
  c.ws.close()
  return doc
}

// ---------------------------------------------------------------------------------------------
// a server in a child process

export { freePort } from '@converge/test-services'

export interface ChildServer {
  readonly child: ChildProcess
  readonly port: number
  readonly wsUrl: string
  readonly url: string
  readonly stdout: string[]
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Spawns `node --import tsx src/main.ts` — or, with `bundle`, `node <bundle>/main.mjs`, a bundle
 * build.ts wrote there — and waits for its ready line. Killed by cleanup().
 */
export async function spawnServer(
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
  o: { bundle?: string } = {},
): Promise<ChildServer> {
  const args = o.bundle ? [join(o.bundle, 'main.mjs')] : ['--import', 'tsx', 'src/main.ts']
  const child = spawn(process.execPath, args, {
    cwd: PACKAGE_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      SECRET,
      LOG_LEVEL: 'info',
      WEB_DIST: join(tmpdir(), 'converge-no-web-dist'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const stdout: string[] = []
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  let buffer = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time: ${stderr}`)), 15_000)
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString()
      let nl: number
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        stdout.push(line)
        if (line.includes('"converge server ready"')) {
          clearTimeout(timer)
          resolve()
        }
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code ?? signal}) before ready: ${stderr}`))
    })
  })
  return {
    child,
    port,
    stdout,
    exited,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/sync`,
  }
}

// ---------------------------------------------------------------------------------------------
// a WebSocket spoken by hand over TCP, to put frames in the same packet as the upgrade request

/** A masked client frame (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Uint8Array): Buffer {
  const mask = Buffer.from([1, 2, 3, 4])
  const len = payload.length
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))
  return Buffer.concat([head, mask, body])
}

export interface ServerFrame {
  readonly opcode: number
  readonly payload: Buffer
}

/**
 * Sends an upgrade request for `path` and, in the same write, `after` (frames); resolves with the
 * HTTP status and the frames the server sent until it closed the connection.
 */
export async function upgradeWithFrames(
  port: number,
  path: string,
  after: Buffer,
): Promise<{ status: number; frames: ServerFrame[] }> {
  const { connect } = await import('node:net')
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no close from the server'))
    }, 5000)
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('close', () => {
      clearTimeout(timer)
      const all = Buffer.concat(chunks)
      const end = all.indexOf('\r\n\r\n')
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(all.subarray(0, end).toString())?.[1])
      const frames: ServerFrame[] = []
      let i = end + 4
      while (i + 2 <= all.length) {
        const opcode = all[i]! & 0x0f
        let len = all[i + 1]! & 0x7f
        i += 2
        if (len === 126) {
          len = all.readUInt16BE(i)
          i += 2
        } else if (len === 127) {
          len = Number(all.readBigUInt64BE(i))
          i += 8
        }
        frames.push({ opcode, payload: all.subarray(i, i + len) })
        i += len
      }
      resolve({ status, frames })
    })
    socket.on('connect', () => {
      const request = [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n')
      socket.write(Buffer.concat([Buffer.from(request), after]))
    })
    socket.on('data', () => {
      // answer the server's close so it finishes the handshake and ends the connection
      const all = Buffer.concat(chunks)
      if (all.includes(Buffer.from([0x88]))) socket.end()
    })
  })
}

// ---------------------------------------------------------------------------------------------
// a merge `Space` on a raw socket

/**
 * A device: a merge `Space` (either engine) on a raw WebSocket, saying hello with protocol version 4
 * and its engine, and answering the server as the sync client does.
 */
export class SpaceDevice {
  private seen = 0
  private stop: () => void = () => {}
  private constructor(
    readonly space: Space,
    readonly client: RawClient,
  ) {}

  static async open(server: { wsUrl: string }, space: Space, token: string): Promise<SpaceDevice> {
    const d = new SpaceDevice(space, await RawClient.open(server, space.id, token))
    d.client.send({ type: 'hello', version: 4, engine: space.engineKind })
    d.client.send({ type: 'sync-step1', stateVector: space.stateVector() })
    d.stop = space.onUpdate((update, e) => {
      if (e.origin !== Origin.Server) d.client.send({ type: 'sync-update', update })
    })
    d.client.ws.on('message', () => d.pump())
    return d
  }

  private pump(): void {
    const messages = this.client.messages
    for (; this.seen < messages.length; this.seen++) {
      const m: Message = messages[this.seen]!
      if (m.type === 'sync-step1')
        this.client.send({ type: 'sync-step2', update: this.space.encodeStateAsUpdate(m.stateVector) })
      else if (m.type === 'sync-step2' || m.type === 'sync-update')
        this.space.applyUpdate(m.update, Origin.Server)
    }
  }

  /** Whether the server answered this device's sync-step1 (and the answer is applied). */
  get answered(): boolean {
    return this.seen > 0 && this.client.messages.slice(0, this.seen).some((m) => m.type === 'sync-step2')
  }

  /** The last durable ack received (null: none yet). */
  get ack(): Uint8Array | null {
    const last = this.client.messages.filter((m) => m.type === 'durable-ack').at(-1)
    return last?.type === 'durable-ack' ? last.stateVector : null
  }

  /** Whether a durable ack covers everything this device holds (the sync client's own check). */
  get saved(): boolean {
    return ackCovers(this.space, this.ack)
  }

  close(): void {
    this.stop()
    this.client.ws.close()
  }
}
