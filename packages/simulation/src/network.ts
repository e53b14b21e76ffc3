import type { ConnectionHandle, SocketLike } from '@converge/server-core'

/** What the server sends down a socket: a frame, or the close that ends it (after what came before). */
type Down =
  { readonly frame: Uint8Array } | { readonly close: { readonly code: number; readonly reason: string } }
/** What the client sends up: a frame, or the close it initiated (the server learns of it in order). */
type Up = { readonly frame: Uint8Array } | { readonly close: true }

/**
 * One simulated WebSocket connection between a client and a server instance. Like TCP it is
 * ordered and reliable while it lasts; the simulation decides *when* each side receives what the
 * other sent (`deliverUp`, `deliverDown`), and when the connection is cut (both sides learn at
 * once, with what was in flight lost).
 */
export class Link {
  state: 'dialing' | 'open' | 'closed' = 'dialing'
  readonly up: Up[] = []
  readonly down: Down[] = []
  handle: ConnectionHandle | null = null
  /** The server side has closed (or been told of the close): it sends and hears nothing more. */
  private serverClosed = false

  constructor(
    readonly client: number,
    readonly instance: number,
    readonly spaceId: string,
    readonly token: string | null,
    readonly socket: SimWebSocket,
  ) {}

  /** The server's side of this connection, as the core sees it. */
  readonly server: SocketLike = {
    send: (data) => {
      if (!this.serverClosed && this.state !== 'closed') this.down.push({ frame: data.slice() })
    },
    close: (code, reason) => {
      if (this.serverClosed) return
      this.serverClosed = true
      if (this.state !== 'closed') this.down.push({ close: { code, reason } })
    },
  }

  /** The connection is established: the server takes the socket, the client hears `open`. */
  open(connect: (link: Link) => ConnectionHandle | null): void {
    if (this.state !== 'dialing') return
    const handle = connect(this)
    if (!handle) return this.fail()
    this.handle = handle
    this.state = 'open'
    this.socket.opened()
  }

  /** The connection could not be made (nobody listens): the client hears `close` 1006. */
  fail(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.socket.closed(1006, 'connection failed')
  }

  /** @internal the client sent a frame */
  sendUp(frame: Uint8Array): void {
    if (this.state === 'open') this.up.push({ frame: frame.slice() })
  }

  /** @internal the client closed its end: it hears nothing more; the server learns in order */
  closeUp(): void {
    if (this.state === 'dialing') {
      this.state = 'closed'
      return
    }
    if (this.state !== 'open') return
    this.up.push({ close: true })
    this.socket.detached = true
  }

  /** Delivers up to `n` of what the client sent, in order. Returns how many. */
  deliverUp(n: number): number {
    let done = 0
    while (done < n && this.up.length > 0) {
      const item = this.up.shift()!
      done++
      if (this.serverClosed) continue
      if ('close' in item) {
        this.serverClosed = true
        this.handle?.handleClose()
      } else this.handle?.handleMessage(item.frame)
    }
    this.maybeDone()
    return done
  }

  /** Delivers up to `n` of what the server sent, in order. Returns how many. */
  deliverDown(n: number): number {
    let done = 0
    while (done < n && this.down.length > 0) {
      const item = this.down.shift()!
      done++
      if ('close' in item) {
        this.state = 'closed'
        this.up.length = 0
        this.socket.closed(item.close.code, item.close.reason)
        return done
      }
      this.socket.received(item.frame)
    }
    this.maybeDone()
    return done
  }

  /** The network fails: both sides learn at once; what was in flight is lost. */
  cut(): void {
    if (this.state === 'dialing') return this.fail()
    if (this.state === 'closed') return
    this.state = 'closed'
    this.up.length = 0
    this.down.length = 0
    if (!this.serverClosed) {
      this.serverClosed = true
      this.handle?.handleClose()
    }
    this.socket.closed(1006, 'connection lost')
  }

  private maybeDone(): void {
    if (this.state === 'open' && this.serverClosed && this.socket.detached && this.down.length === 0)
      this.state = 'closed'
  }

  get busy(): boolean {
    return this.state === 'dialing' || this.up.length > 0 || this.down.length > 0
  }
}

/**
 * The WebSocket a client's `SyncConnection` opens, on a simulated `Link`. It implements the part of
 * the browser's WebSocket the connection uses (constructor(url), binaryType, readyState/OPEN, send,
 * close, onopen/onmessage/onclose).
 */
export class SimWebSocket {
  static dial: ((socket: SimWebSocket, url: string) => Link) | null = null
  readonly OPEN = 1
  readyState = 0
  binaryType = 'arraybuffer'
  onopen: (() => void) | null = null
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  /** The client closed this socket itself: it delivers nothing to it any more. */
  detached = false
  readonly link: Link

  constructor(url: string, dial: (socket: SimWebSocket, url: string) => Link) {
    this.link = dial(this, url)
  }

  send(data: Uint8Array): void {
    if (this.readyState === 1 && !this.detached) this.link.sendUp(data)
  }

  close(): void {
    if (this.detached) return
    this.link.closeUp()
    this.detached = true
    this.readyState = 3
  }

  /** @internal */
  opened(): void {
    this.readyState = 1
    if (!this.detached) this.onopen?.()
  }

  /** @internal */
  received(frame: Uint8Array): void {
    if (this.detached) return
    const data = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer
    this.onmessage?.({ data })
  }

  /** @internal */
  closed(code: number, reason: string): void {
    const was = this.detached
    this.readyState = 3
    this.detached = true
    if (!was) this.onclose?.({ code, reason })
  }
}
