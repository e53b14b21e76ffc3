/**
 * WebSocket transport (ws): upgrades on /sync/<spaceId>?token=…, each socket handed to the sync core
 * as a SocketLike. The token is read from the query string and never logged.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { CloseCode, ErrorKind } from '@converge/protocol'
import type { SyncCore } from '@converge/server-core'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import type { Logger } from './log.js'
import type { Metrics } from './metrics.js'

export interface SyncTransportOptions {
  readonly server: Server
  readonly core: SyncCore
  readonly maxFrameBytes: number
  readonly metrics: Metrics
  readonly log: Logger
  readonly isShuttingDown: () => boolean
  /** How often idle sockets are pinged; a socket that missed the previous pong is dropped. */
  readonly heartbeatMs?: number
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

/** A client that reads slower than the room writes is dropped once this much is buffered for it. */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024

const SYNC_PATH = /^\/sync\/([^/]+)$/

function refuse(socket: Duplex, status: number, text: string): void {
  socket.on('error', () => {})
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n`,
    )
  socket.destroy()
}

export function attachSyncTransport(options: SyncTransportOptions): SyncTransport {
  const { server, core, metrics, log } = options
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, clientTracking: true })
  const alive = new WeakMap<WebSocket, boolean>()

  const onConnection = (ws: WebSocket, spaceId: string, token: string | null): void => {
    ws.binaryType = 'nodebuffer'
    alive.set(ws, true)
    const handle = core.connect(
      {
        send: (data) => {
          if (ws.readyState !== WebSocket.OPEN) return
          if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
            log.warn({ spaceId, buffered: ws.bufferedAmount }, 'dropping a client that does not read')
            ws.terminate()
            return
          }
          ws.send(data)
        },
        close: (code, reason) => ws.close(code, reason),
      },
      spaceId,
      token,
    )
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        metrics.rejected(ErrorKind.MalformedFrame)
        log.warn({ spaceId, code: CloseCode.MalformedFrame }, 'closing connection: a text frame')
        ws.close(CloseCode.MalformedFrame, ErrorKind.MalformedFrame)
        handle.handleClose()
        return
      }
      // binaryType 'nodebuffer': a Buffer, which is a Uint8Array
      handle.handleMessage(data as Buffer)
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
      refuse(socket, 400, 'Bad Request')
      return
    }
    const match = SYNC_PATH.exec(url.pathname)
    if (!match) {
      log.debug({ path: url.pathname }, 'upgrade refused: not a sync path')
      refuse(socket, 404, 'Not Found')
      return
    }
    if (options.isShuttingDown()) {
      refuse(socket, 503, 'Service Unavailable')
      return
    }
    const spaceId = match[1]!
    const token = url.searchParams.get('token')
    wss.handleUpgrade(req, socket, head, (ws) => {
      log.debug({ path: url.pathname, spaceId }, 'socket opened') // path only: the query holds the token
      onConnection(ws, spaceId, token || null)
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
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolveTimeout) => setTimeout(resolveTimeout, ms).unref()),
    ])
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
