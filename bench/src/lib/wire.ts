/**
 * A minimal sync client for every server under test, without a Y.Doc unless asked for: y-websocket
 * framing (Converge, classic server; Converge's `hello` for durable acks) or Hocuspocus framing (the
 * document name before every message, an auth message first). On a Converge Automerge space
 * (`engine: 'automerge'`) it says hello with protocol version 4 and the engine, and sends and takes
 * messages over the frame limit in chunks (PROTOCOL.md §P7, §P8). Counts bytes on the wire both ways.
 */
import { encodeList, encodeVersionVector } from '@converge/merge/validate'
import { Reassembler, decodeMessage, splitFrame } from '@converge/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import type { Flavour } from './servers.js'

const SYNC = 0
const STEP1 = 0
const STEP2 = 1
const UPDATE = 2
const HELLO = 10
const DURABLE_ACK = 11
const HP_AUTH = 2
const HP_SYNC_REPLY = 4
const CHUNK = 13
const LIMITS = 14
/** Converge's default frame limit (server-core limits.ts): larger messages go in chunks. */
const MAX_FRAME_BYTES = 1024 * 1024

export interface ClientOptions {
  readonly url: string
  readonly space: string
  readonly flavour: Flavour
  /** Converge: say hello and receive durable acks */
  readonly hello: boolean
  /** Converge: the space's engine (Automerge: hello version 4 naming it; chunks both ways) */
  readonly engine?: 'yjs' | 'automerge'
  /** Converge, Yjs: the protocol version the hello names (default 1; from 3 the server sends `limits`) */
  readonly helloVersion?: number
  /** the state vector sent in our syncStep1 (empty: everything) */
  readonly stateVector?: Uint8Array
  /** a live update or a syncStep2 from the server */
  readonly onUpdate?: (update: Uint8Array, step2: boolean) => void
  readonly onAck?: (stateVector: Uint8Array) => void
  /** our answer to the server's syncStep1 (default: an empty update) */
  readonly answerStep1?: (stateVector: Uint8Array) => Uint8Array
}

const EMPTY_UPDATE = new Uint8Array([0, 0])
const EMPTY_SV = new Uint8Array([0])
const EMPTY_AUTOMERGE_UPDATE = encodeList([])
const EMPTY_VERSION_VECTOR = encodeVersionVector(new Map())

export class SyncClient {
  readonly ws: WebSocket
  bytesIn = 0
  bytesOut = 0
  closed = false
  /** Converge, hello version ≥ 3: the bytes the server stores for the space (its `limits` message) */
  storedBytes: number | null = null
  /** resolves when the server's syncStep2 (everything we lacked) has arrived */
  readonly synced: Promise<void>
  private resolveSynced!: () => void
  private rejectSynced!: (e: Error) => void
  private readonly prefix: Uint8Array
  private readonly automerge: boolean
  private readonly chunks = new Reassembler({ maxOpen: 4, maxFrameBytes: MAX_FRAME_BYTES })
  private chunkId = 0

  constructor(private readonly o: ClientOptions) {
    this.automerge = o.engine === 'automerge'
    const e = encoding.createEncoder()
    if (o.flavour === 'hocuspocus') encoding.writeVarString(e, o.space)
    this.prefix = encoding.toUint8Array(e)
    this.synced = new Promise((resolve, reject) => {
      this.resolveSynced = resolve
      this.rejectSynced = reject
    })
    this.synced.catch(() => {})
    this.ws = new WebSocket(o.url, { perMessageDeflate: false })
    this.ws.binaryType = 'nodebuffer'
    this.ws.on('open', () => this.onOpen())
    this.ws.on('message', (data: Buffer) => this.onMessage(data))
    this.ws.on('close', (code) => {
      this.closed = true
      this.rejectSynced(new Error(`closed ${code} before synced`))
    })
    this.ws.on('error', (err) => {
      this.closed = true
      this.rejectSynced(err)
    })
  }

  private frame(write: (e: encoding.Encoder) => void): Uint8Array {
    const e = encoding.createEncoder()
    encoding.writeUint8Array(e, this.prefix)
    write(e)
    return encoding.toUint8Array(e)
  }

  private sendRaw(b: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    for (const f of this.automerge ? splitFrame(b, MAX_FRAME_BYTES, this.chunkId++) : [b]) {
      this.bytesOut += f.length
      this.ws.send(f)
    }
  }

  private onOpen(): void {
    if (this.o.flavour === 'hocuspocus')
      this.sendRaw(
        this.frame((e) => {
          encoding.writeVarUint(e, HP_AUTH)
          encoding.writeVarUint(e, 0) // token
          encoding.writeVarString(e, '')
        }),
      )
    if (this.o.hello)
      this.sendRaw(
        this.frame((e) => {
          encoding.writeVarUint(e, HELLO)
          encoding.writeVarUint(e, this.automerge ? 4 : (this.o.helloVersion ?? 1))
          if (this.automerge) encoding.writeVarString(e, 'automerge')
        }),
      )
    this.sendRaw(
      this.frame((e) => {
        encoding.writeVarUint(e, SYNC)
        encoding.writeVarUint(e, STEP1)
        encoding.writeVarUint8Array(
          e,
          this.o.stateVector ?? (this.automerge ? EMPTY_VERSION_VECTOR : EMPTY_SV),
        )
      }),
    )
  }

  private onMessage(data: Buffer): void {
    this.bytesIn += data.length
    this.onFrame(data)
  }

  private onFrame(data: Uint8Array): void {
    const d = decoding.createDecoder(data)
    if (this.o.flavour === 'hocuspocus') decoding.readVarString(d)
    const type = decoding.readVarUint(d)
    if (type === SYNC || type === HP_SYNC_REPLY) {
      const sub = decoding.readVarUint(d)
      const payload = decoding.readVarUint8Array(d)
      if (sub === STEP1) {
        const answer =
          this.o.answerStep1?.(payload) ?? (this.automerge ? EMPTY_AUTOMERGE_UPDATE : EMPTY_UPDATE)
        this.sendRaw(
          this.frame((e) => {
            encoding.writeVarUint(e, SYNC)
            encoding.writeVarUint(e, STEP2)
            encoding.writeVarUint8Array(e, answer)
          }),
        )
      } else if (sub === STEP2) {
        this.o.onUpdate?.(payload, true)
        this.resolveSynced()
      } else if (sub === UPDATE) this.o.onUpdate?.(payload, false)
    } else if (type === DURABLE_ACK && this.o.flavour === 'yws') {
      this.o.onAck?.(decoding.readVarUint8Array(d))
    } else if (type === LIMITS && this.o.flavour === 'yws') {
      decoding.readVarUint(d) // maxFrameBytes
      decoding.readVarUint(d) // maxDocumentBytes
      this.storedBytes = decoding.readVarUint(d)
    } else if (type === CHUNK && this.automerge) {
      const m = decodeMessage(data)
      if (m.type !== 'chunk') return
      const whole = this.chunks.accept(m, performance.now(), Number.MAX_SAFE_INTEGER)
      if (whole) this.onFrame(whole)
    }
  }

  sendUpdate(update: Uint8Array): void {
    this.sendRaw(
      this.frame((e) => {
        encoding.writeVarUint(e, SYNC)
        encoding.writeVarUint(e, UPDATE)
        encoding.writeVarUint8Array(e, update)
      }),
    )
  }

  /** Resolves once the socket is open. */
  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
      this.ws.once('close', () => reject(new Error('closed before open')))
    })
  }

  close(): Promise<void> {
    if (this.closed || this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.ws.terminate()
        resolve()
      }, 2000)
      this.ws.once('close', () => {
        clearTimeout(t)
        resolve()
      })
      this.ws.close()
    })
  }
}

/** Opens clients with at most `concurrency` handshakes in flight; rejects if any fails. */
export async function openAll(
  make: (i: number) => SyncClient,
  n: number,
  concurrency = 50,
): Promise<SyncClient[]> {
  const out: SyncClient[] = new Array<SyncClient>(n)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++
      const c = make(i)
      out[i] = c
      await c.synced
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
  return out
}
