/**
 * WebSocket transport (ws): upgrades on /sync/<spaceId>?token=… (stock clients) or /sync/<spaceId>
 * with the token as the socket's first frame (our client, PROTOCOL.md §P5.11; the core reads it), each
 * socket handed to the sync core as a SocketLike. The token is never logged. Before the core sees
 * anything, the transport applies the per-address rules: the upgrade's `Origin` (HTTP 403), open
 * sockets per address (close 1013), and a write budget per address shared by its sockets (close 4429).
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  CloseCode,
  ErrorKind,
  MessageType,
  closeCodeOf,
  decodeMessage,
  encodeMessage,
} from '@converge/protocol'
import type { SyncCore, Timer } from '@converge/server-core'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import type { Logger } from './log.js'
import type { Metrics } from './metrics.js'
import { KeyedBuckets } from './rate.js'
import type { OriginPolicy } from './security.js'

export interface SyncTransportOptions {
  readonly server: Server
  readonly core: SyncCore
  readonly maxFrameBytes: number
  readonly metrics: Metrics
  readonly log: Logger
  readonly isShuttingDown: () => boolean
  /** How often idle sockets are pinged; a socket that missed the previous pong is dropped. */
  readonly heartbeatMs?: number
  /** The client address of an upgrade request, the key of the per-address limits. */
  readonly clientAddress: (req: IncomingMessage) => string
  /** Which `Origin`s may open a WebSocket (none at all is allowed: non-browser clients). */
  readonly origins: OriginPolicy
  /** Security headers, also on refused upgrades. */
  readonly headers: Readonly<Record<string, string>>
  /** Per client address (0: off): open sockets, and the incoming bytes their shared bucket refills with per second, and holds. */
  readonly perIp: {
    readonly connections: number
    readonly connectsPerMinute: number
    readonly connectBurst: number
    readonly bytesPerSecond: number
    readonly burstBytes: number
  }
}

export interface SyncTransport {
  readonly wss: WebSocketServer
  /**
   * Starts the closing handshake on every socket with `code` and waits up to `ms` for each to finish
   * it, then terminates the rest. Frames a client sent before it saw the close still reach the core,
   * so everything a client sent before the shutdown is committed, not only what was already read.
   */
  closeAll(code: number, reason: string, ms: number): Promise<void>
  close(): Promise<void>
}

const SYNC_PATH = /^\/sync\/([^/]+)$/

function refuse(
  socket: Duplex,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  socket.on('error', () => {})
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n${extra}\r\n`,
    )
  socket.destroy()
}

/** An Origin header as logged: bounded. */
const shownOrigin = (origin: string): string => (origin.length > 200 ? `${origin.slice(0, 200)}…` : origin)

export function attachSyncTransport(options: SyncTransportOptions): SyncTransport {
  const { server, core, metrics, log } = options
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, clientTracking: true })
  const alive = new WeakMap<WebSocket, boolean>()
  const { perIp } = options
  /** Open sockets per client address. */
  const openPerIp = new Map<string, number>()
  /** New sockets per client address (a reconnect loop does not buy fresh per-connection budgets). */
  const connects =
    perIp.connectsPerMinute > 0
      ? new KeyedBuckets({ ratePerSecond: perIp.connectsPerMinute / 60, burst: perIp.connectBurst })
      : null
  /** The write budget: one bucket per client address, shared by its sockets, outliving them until refilled. */
  const budget =
    perIp.bytesPerSecond > 0
      ? new KeyedBuckets({ ratePerSecond: perIp.bytesPerSecond, burst: perIp.burstBytes })
      : null

  const onConnection = (ws: WebSocket, spaceId: string, token: string | null, ip: string): void => {
    ws.binaryType = 'nodebuffer'
    alive.set(ws, true)
    /** Whether the client said hello (it then gets an `error` before a close, like the core sends). */
    let saidHello = false
    /** Closed for its address's write budget: nothing more reaches the core. */
    let cut = false
    const handle = core.connect(
      {
        send: (data) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(data)
        },
        // the core closes a socket that does not read with 4429 before it queues more (ANSWER-3)
        get bufferedAmount() {
          return ws.bufferedAmount
        },
        close: (code, reason) => ws.close(code, reason),
      },
      spaceId,
      token,
    )
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (cut) return
      if (!isBinary) {
        metrics.rejected(ErrorKind.MalformedFrame)
        log.warn({ spaceId, code: CloseCode.MalformedFrame }, 'closing connection: a text frame')
        ws.close(CloseCode.MalformedFrame, ErrorKind.MalformedFrame)
        handle.handleClose()
        return
      }
      // binaryType 'nodebuffer': a Buffer, which is a Uint8Array
      const frame = data as Buffer
      if (!saidHello && frame[0] === MessageType.Hello)
        try {
          saidHello = decodeMessage(frame).type === 'hello'
        } catch {
          /* the core refuses it */
        }
      if (budget && !budget.take(ip, frame.length)) {
        cut = true
        const code = closeCodeOf(ErrorKind.RateLimited)!
        metrics.refused('bytes_per_ip')
        metrics.rejected(ErrorKind.RateLimited)
        log.warn(
          { ip, spaceId, code, bytes: frame.length },
          'closing connection: its address spent its write budget',
        )
        if (saidHello && ws.readyState === WebSocket.OPEN)
          ws.send(
            encodeMessage({
              type: 'error',
              kind: ErrorKind.RateLimited,
              message: 'too many bytes per second from this address',
            }),
          )
        ws.close(code, ErrorKind.RateLimited)
        handle.handleClose()
        return
      }
      handle.handleMessage(frame)
    })
    ws.on('pong', () => alive.set(ws, true))
    ws.on('close', () => handle.handleClose())
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws has already closed the socket with 1009
        metrics.rejected(ErrorKind.MessageTooBig)
        log.warn({ spaceId, code: CloseCode.MessageTooBig }, 'closing connection: frame over the size limit')
      } else log.warn({ spaceId, err: err.code ?? err.message }, 'socket error')
      handle.handleClose()
    })
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy())
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      refuse(socket, 400, 'Bad Request', options.headers)
      return
    }
    const match = SYNC_PATH.exec(url.pathname)
    if (!match) {
      log.debug({ path: url.pathname }, 'upgrade refused: not a sync path')
      refuse(socket, 404, 'Not Found', options.headers)
      return
    }
    if (options.isShuttingDown()) {
      refuse(socket, 503, 'Service Unavailable', options.headers)
      return
    }
    const spaceId = match[1]!
    const ip = options.clientAddress(req)
    const origin = req.headers.origin
    // no Origin: a non-browser client (y-websocket in Node, a server), which is allowed
    if (origin !== undefined && !options.origins.allows(origin, req.headers.host)) {
      metrics.refused('origin')
      log.warn({ ip, spaceId, origin: shownOrigin(origin) }, 'upgrade refused: origin not allowed')
      refuse(socket, 403, 'Forbidden', options.headers)
      return
    }
    const token = url.searchParams.get('token')
    wss.handleUpgrade(req, socket, head, (ws) => {
      // counted here, when the socket exists (ws calls back synchronously), so no upgrade slips past
      const open = openPerIp.get(ip) ?? 0
      const tooMany = perIp.connections > 0 && open >= perIp.connections
      if (tooMany || (connects && !connects.take(ip, 1))) {
        const code = closeCodeOf(ErrorKind.ServerFull)!
        ws.on('error', () => {})
        metrics.refused(tooMany ? 'connections_per_ip' : 'connects_per_ip')
        metrics.rejected(ErrorKind.ServerFull)
        log.warn(
          { ip, spaceId, open, code },
          tooMany
            ? 'connection refused: too many from this address'
            : 'connection refused: this address reconnects too often',
        )
        ws.close(code, ErrorKind.ServerFull)
        return
      }
      openPerIp.set(ip, open + 1)
      ws.once('close', () => {
        const left = (openPerIp.get(ip) ?? 1) - 1
        if (left > 0) openPerIp.set(ip, left)
        else openPerIp.delete(ip)
      })
      log.debug({ path: url.pathname, spaceId }, 'socket opened') // path only: the query holds the token
      onConnection(ws, spaceId, token || null, ip)
    })
  }
  server.on('upgrade', onUpgrade)

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate()
        continue
      }
      alive.set(ws, false)
      ws.ping()
    }
  }, options.heartbeatMs ?? 30_000)
  heartbeat.unref()

  const closeAll = async (code: number, reason: string, ms: number): Promise<void> => {
    const open = [...wss.clients]
    for (const ws of open) ws.close(code, reason)
    const closed = open
      .filter((ws) => ws.readyState !== WebSocket.CLOSED)
      .map((ws) => new Promise<void>((resolveClosed) => ws.once('close', () => resolveClosed())))
    let timer: Timer | undefined
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolveTimeout) => {
        timer = core.scheduler.setTimeout(resolveTimeout, ms)
      }),
    ])
    timer?.cancel() // all closed first: the wait must not hold the process
    for (const ws of wss.clients) ws.terminate()
  }

  return {
    wss,
    closeAll,
    close: () => {
      clearInterval(heartbeat)
      server.off('upgrade', onUpgrade)
      for (const ws of wss.clients) ws.terminate()
      return new Promise<void>((resolveClosed) => wss.close(() => resolveClosed()))
    },
  }
}
