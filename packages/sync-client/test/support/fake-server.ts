/**
 * The real server core (`SyncCore`, the one apps/server runs under real sockets) in process, behind
 * a WebSocket stand-in. The test decides when the "network" goes down, when a socket the client
 * closed reaches the server, and what the next socket is closed with.
 */
import { type Message, MessageType, decodeMessage, encodeMessage } from '@converge/protocol'
import {
  type AuthDecision,
  type Persistence,
  type StoredSpace,
  SyncCore,
  type SyncCoreOptions,
} from '@converge/server-core'

export class ServerStore implements Persistence {
  data = new Map<string, Uint8Array[]>()
  hold = false
  private held: (() => void)[] = []
  release(): void {
    for (const f of this.held.splice(0)) f()
  }
  registerSpace(): Promise<boolean> {
    return Promise.resolve(true)
  }
  load(id: string): Promise<StoredSpace> {
    const updates = this.data.get(id) ?? []
    return Promise.resolve({ snapshot: null, updates, lastSeq: updates.length, bytes: 0 })
  }
  async append(id: string, updates: readonly Uint8Array[]): Promise<number> {
    if (this.hold) await new Promise<void>((r) => this.held.push(r))
    const list = this.data.get(id) ?? []
    list.push(...updates)
    this.data.set(id, list)
    return list.length
  }
  compact(): Promise<void> {
    return Promise.resolve()
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** Token `w` (or `w.<anything>`, a token long enough to look for) writes; anything else is refused as Unauthorized (close 4401). */
const auth = (_space: string, token: string | null): Promise<AuthDecision> =>
  Promise.resolve(
    token === 'w' || token?.startsWith('w.')
      ? { ok: true, access: 'write' }
      : { ok: false, kind: 'Unauthorized', reason: 'bad token' },
  )

export type FakeServer = ReturnType<typeof makeServer>

export const makeServer = (
  store = new ServerStore(),
  /**
   * The core's limits, its clock (a stepped one, to rate what a stepped client sends) and its
   * scheduler (a `ManualScheduler`, to run the server's turns — relays, commits — when a test says),
   * and each space's engine (default Yjs).
   */
  options: Pick<SyncCoreOptions, 'limits' | 'clock' | 'scheduler' | 'spaceEngine'> = {},
) => {
  const core = new SyncCore({ persistence: store, authenticate: auth, ...options })
  let up = true
  let lingerCloses = false
  const lingering: (() => void)[] = []
  let closeNext: number | null = null
  const open = new Set<FakeSocket>()
  let connects = 0
  /** The server process is stopped (SIGSTOP): nothing it sends or is sent moves until `thaw`. */
  let frozen = false
  const held: (() => void)[] = []
  /** The URLs of every socket opened (to check what they carry). */
  const urls: string[] = []
  /** As a server from before protocol 3: a `token` first frame is undecodable (4400). */
  let refuseToken = false
  /** PROBE-2, PROBE-3: the reports and digests clients sent, in order (they reach the core too). */
  const probes: Extract<Message, { type: 'report' | 'digest' }>[] = []
  /** The version the server's hello names (null: the core's own). */
  let helloVersion: number | null = null
  /** Frames the server sent that have not reached their client yet (delivered in a microtask). */
  let inFlight = 0
  const whenDelivered: (() => void)[] = []

  class FakeSocket {
    readonly OPEN = 1
    readyState = 0
    sentAny = false
    binaryType = 'arraybuffer'
    onopen: (() => void) | null = null
    onmessage: ((e: { data: ArrayBuffer }) => void) | null = null
    onclose: ((e: { code: number; reason: string }) => void) | null = null
    private handle: ReturnType<SyncCore['connect']> | null = null
    constructor(url: string) {
      connects++
      urls.push(url)
      const u = new URL(url)
      const space = decodeURIComponent(u.pathname.split('/').pop() ?? '')
      // a socket opens (or fails) after its handlers are set, as in a browser
      queueMicrotask(() => {
        if (!up) return this.drop(1006)
        if (closeNext !== null) {
          const code = closeNext
          closeNext = null
          this.readyState = 1
          this.onopen?.()
          return this.drop(code)
        }
        this.readyState = 1
        open.add(this)
        this.handle = core.connect(
          {
            send: (d) => {
              if (helloVersion !== null && d[0] === MessageType.Hello)
                d = encodeMessage({ type: 'hello', version: helloVersion })
              const copy = d.slice().buffer
              const deliver = (): void => void (this.readyState === 1 && this.onmessage?.({ data: copy }))
              if (frozen) {
                held.push(deliver)
                return
              }
              inFlight++
              queueMicrotask(() => {
                try {
                  deliver()
                } finally {
                  if (--inFlight === 0) for (const f of whenDelivered.splice(0)) f()
                }
              })
            },
            close: (code, reason) => this.drop(code, reason),
          },
          space,
          u.searchParams.get('token'),
        )
        this.onopen?.()
      })
    }
    send(d: Uint8Array): void {
      if (this.readyState !== 1) return
      const frame = new Uint8Array(d)
      if (refuseToken && !this.sentAny) {
        let type = ''
        try {
          type = decodeMessage(frame).type
        } catch {
          // not ours to judge here
        }
        if (type === 'token') return this.drop(4400, 'MalformedFrame')
      }
      this.sentAny = true
      if (frame[0] === MessageType.Report || frame[0] === MessageType.Digest) {
        const m = decodeMessage(frame)
        if (m.type === 'report' || m.type === 'digest') probes.push(m)
      }
      if (frozen) held.push(() => this.handle?.handleMessage(frame))
      else this.handle?.handleMessage(frame)
    }
    /** The client closes: the server hears of it now, or — lingering — only at `deliverCloses`. */
    close(): void {
      if (!lingerCloses) return this.drop(1000)
      this.readyState = 3
      open.delete(this)
      lingering.push(() => this.handle?.handleClose())
    }
    drop(code: number, reason = ''): void {
      if (this.readyState === 3) return
      this.readyState = 3
      open.delete(this)
      this.handle?.handleClose()
      queueMicrotask(() => this.onclose?.({ code, reason }))
    }
  }

  return {
    core,
    store,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    /** Resolves once every frame the server sent so far has reached its client (and was handled there). */
    delivered(): Promise<void> {
      return inFlight === 0 ? Promise.resolve() : new Promise((r) => whenDelivered.push(r))
    },
    /** PROBE-2, PROBE-3: every report and digest a client sent, in order. */
    get probes(): readonly Extract<Message, { type: 'report' | 'digest' }>[] {
      return probes
    },
    /** From now on the server's hello names `version` (a server of an earlier version, as far as a client can tell). */
    sayVersion(version: number) {
      helloVersion = version
    },
    /** Sockets opened so far (successful or not). */
    get connects() {
      return connects
    },
    /** New sockets fail, open ones are dropped (1006). */
    down() {
      up = false
      for (const s of [...open]) s.drop(1006)
    },
    up() {
      up = true
    },
    /** Behaves as a server from before protocol 3: a `token` first frame closes with 4400. */
    refuseTokenFrame() {
      refuseToken = true
    },
    /** Every open socket is told `retry-after` (if given), then closed with `code`. */
    closeAllWith(code: number, { retryAfterMs }: { retryAfterMs?: number } = {}) {
      for (const s of [...open]) {
        if (retryAfterMs !== undefined) {
          const frame = encodeMessage({ type: 'retry-after', ms: retryAfterMs }).slice().buffer
          s.onmessage?.({ data: frame })
        }
        s.drop(code)
      }
    },
    /** Every open socket receives `frame` as if the server had sent it (a server of another build). */
    sendToAll(frame: Uint8Array) {
      for (const s of [...open]) s.onmessage?.({ data: frame.slice().buffer })
    },
    /** The server stops answering without closing anything (SIGSTOP). */
    freeze() {
      frozen = true
    },
    /** …and goes on (SIGCONT): what was held moves, in order. */
    thaw() {
      frozen = false
      for (const f of held.splice(0)) f()
    },
    /** The URL of every socket opened so far. */
    get urls(): readonly string[] {
      return urls
    },
    /** The next socket opens and is closed at once with `code` (before anything is exchanged). */
    closeNextWith(code: number) {
      closeNext = code
    },
    /** From now on, a socket the client closes stays open on the server until `deliverCloses`. */
    lingerCloses() {
      lingerCloses = true
    },
    /** The server hears now of every socket the client closed meanwhile. */
    deliverCloses() {
      lingerCloses = false
      for (const f of lingering.splice(0)) f()
    },
  }
}
