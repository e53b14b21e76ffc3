import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * The message table (PROTOCOL.md §P2). Types 0–3 are y-websocket's, byte for byte; 10 and up are
 * Converge's extensions, sent by the server only to clients that said hello (type 10), so a stock
 * y-websocket client never sees a type it does not know; 13–14 (§P7) and 21–22 (§P5.12–13) only
 * between peers whose hello names version 3 or later (`CHUNKS_SINCE_VERSION`); 20 (`token`, §P5.11)
 * is a client's first frame, before it knows the server's version.
 */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  Hello: 10,
  DurableAck: 11,
  Error: 12,
  /** §P7.1: a piece of a message larger than the receiver's frame limit. */
  Chunk: 13,
  /** §P7.3: server → client, after hello: the limits this socket and its space are held to. */
  Limits: 14,
  /** Client → server, the first frame when the URL carries no `?token=` (PROTOCOL.md §P5.11). */
  Token: 20,
  /** Both ways between hello'd peers of version ≥ 3: "are you there?" and its answer (§P5.12). */
  Heartbeat: 21,
  /** Server → hello'd client before a close it should retry: wait at least this long (§P5.13). */
  RetryAfter: 22,
  /** §P12.1, client → server of version ≥ 5: how far behind the device is (its unconfirmed changes, its last ack). */
  Report: 23,
  /** §P12.2, both ways between peers of version ≥ 5: a digest of the whole state at a version. */
  Digest: 24,
} as const

export const SyncType = { Step1: 0, Step2: 1, Update: 2 } as const
export const AuthType = { PermissionDenied: 0 } as const

export type Message =
  | { type: 'sync-step1'; stateVector: Uint8Array }
  | { type: 'sync-step2'; update: Uint8Array }
  | { type: 'sync-update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'auth-denied'; reason: string }
  | { type: 'query-awareness' }
  /** `engine` (version ≥ 4, §P8): the engine the client opened the space with; absent means Yjs. */
  | { type: 'hello'; version: number; engine?: string }
  | { type: 'durable-ack'; stateVector: Uint8Array }
  | { type: 'error'; kind: string; message: string }
  /** §P7.1: bytes `offset … offset + part.length` of message `id`, whose whole frame is `total` bytes. */
  | { type: 'chunk'; id: number; total: number; offset: number; part: Uint8Array }
  /** §P7.3: what the server holds this socket and its space to. */
  | ({ type: 'limits' } & ServerLimits)
  | { type: 'token'; token: string }
  | { type: 'heartbeat' }
  | { type: 'retry-after'; ms: number }
  /** §P12.1: ms since the oldest change the server has not confirmed, and since the last durable ack (null: none). */
  | { type: 'report'; unconfirmedAgeMs: number | null; sinceAckMs: number | null }
  /** §P12.2: the sender's version vector and a hash of its whole state at it (merge `stateDigest`). */
  | { type: 'digest'; vector: Uint8Array; hash: Uint8Array }

/** §P7.3: the `limits` message's fields. */
export interface ServerLimits {
  /** Largest frame the server takes (a larger message goes in chunks). */
  readonly maxFrameBytes: number
  /** Largest stored size of the space (past it an update is refused with 4413). */
  readonly maxDocumentBytes: number
  /** What the space holds in storage now (and has queued for it), by the server's count. */
  readonly storedBytes: number
  /** Bytes per second a client should send at most: the lowest of the server's per-connection and per-address rates. */
  readonly bytesPerSecond: number
  /** …and at once (the smallest of those buckets' capacities). */
  readonly burstBytes: number
}

/** §P12.1: the longest duration a report carries (a day, in ms); longer ones are sent as this. */
export const MAX_REPORT_MS = 86_400_000
/** §P12.2: the longest hash a digest carries. */
export const MAX_DIGEST_HASH_BYTES = 64

const reportMs = (ms: number): number => Math.min(MAX_REPORT_MS, Math.max(0, Math.round(ms)))

/** A frame that does not decode. Carries the reason for the log line; never the frame's bytes. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
}

export const encodeMessage = (m: Message): Uint8Array => {
  const e = encoding.createEncoder()
  switch (m.type) {
    case 'sync-step1':
      encoding.writeVarUint(e, MessageType.Sync)
      encoding.writeVarUint(e, SyncType.Step1)
      encoding.writeVarUint8Array(e, m.stateVector)
      break
    case 'sync-step2':
    case 'sync-update':
      encoding.writeVarUint(e, MessageType.Sync)
      encoding.writeVarUint(e, m.type === 'sync-step2' ? SyncType.Step2 : SyncType.Update)
      encoding.writeVarUint8Array(e, m.update)
      break
    case 'awareness':
      encoding.writeVarUint(e, MessageType.Awareness)
      encoding.writeVarUint8Array(e, m.update)
      break
    case 'auth-denied':
      encoding.writeVarUint(e, MessageType.Auth)
      encoding.writeVarUint(e, AuthType.PermissionDenied)
      encoding.writeVarString(e, m.reason)
      break
    case 'query-awareness':
      encoding.writeVarUint(e, MessageType.QueryAwareness)
      break
    case 'hello':
      encoding.writeVarUint(e, MessageType.Hello)
      encoding.writeVarUint(e, m.version)
      // written only when it is not Yjs: a Yjs client's hello stays what servers of version ≤ 3 read
      if (m.engine !== undefined && m.engine !== 'yjs') encoding.writeVarString(e, m.engine)
      break
    case 'durable-ack':
      encoding.writeVarUint(e, MessageType.DurableAck)
      encoding.writeVarUint8Array(e, m.stateVector)
      break
    case 'error':
      encoding.writeVarUint(e, MessageType.Error)
      encoding.writeVarString(e, m.kind)
      encoding.writeVarString(e, m.message)
      break
    case 'chunk':
      encoding.writeVarUint(e, MessageType.Chunk)
      encoding.writeVarUint(e, m.id)
      encoding.writeVarUint(e, m.total)
      encoding.writeVarUint(e, m.offset)
      encoding.writeVarUint8Array(e, m.part)
      break
    case 'limits':
      encoding.writeVarUint(e, MessageType.Limits)
      encoding.writeVarUint(e, m.maxFrameBytes)
      encoding.writeVarUint(e, m.maxDocumentBytes)
      encoding.writeVarUint(e, m.storedBytes)
      encoding.writeVarUint(e, m.bytesPerSecond)
      encoding.writeVarUint(e, m.burstBytes)
      break
    case 'token':
      encoding.writeVarUint(e, MessageType.Token)
      encoding.writeVarString(e, m.token)
      break
    case 'heartbeat':
      encoding.writeVarUint(e, MessageType.Heartbeat)
      break
    case 'retry-after':
      encoding.writeVarUint(e, MessageType.RetryAfter)
      encoding.writeVarUint(e, m.ms)
      break
    case 'report':
      encoding.writeVarUint(e, MessageType.Report)
      // null is 0, a duration d is d + 1 (whole ms, at most MAX_REPORT_MS)
      encoding.writeVarUint(e, m.unconfirmedAgeMs === null ? 0 : reportMs(m.unconfirmedAgeMs) + 1)
      encoding.writeVarUint(e, m.sinceAckMs === null ? 0 : reportMs(m.sinceAckMs) + 1)
      break
    case 'digest':
      encoding.writeVarUint(e, MessageType.Digest)
      encoding.writeVarUint8Array(e, m.vector)
      encoding.writeVarUint8Array(e, m.hash)
      break
  }
  return encoding.toUint8Array(e)
}

const read = (frame: Uint8Array): Message => {
  const d = decoding.createDecoder(frame)
  const type = decoding.readVarUint(d)
  let m: Message
  switch (type) {
    case MessageType.Sync: {
      const sub = decoding.readVarUint(d)
      const payload = decoding.readVarUint8Array(d)
      if (sub === SyncType.Step1) m = { type: 'sync-step1', stateVector: payload }
      else if (sub === SyncType.Step2) m = { type: 'sync-step2', update: payload }
      else if (sub === SyncType.Update) m = { type: 'sync-update', update: payload }
      else throw new ProtocolError(`unknown sync message type ${sub}`)
      break
    }
    case MessageType.Awareness:
      m = { type: 'awareness', update: decoding.readVarUint8Array(d) }
      break
    case MessageType.Auth: {
      const sub = decoding.readVarUint(d)
      if (sub !== AuthType.PermissionDenied) throw new ProtocolError(`unknown auth message type ${sub}`)
      m = { type: 'auth-denied', reason: decoding.readVarString(d) }
      break
    }
    case MessageType.QueryAwareness:
      m = { type: 'query-awareness' }
      break
    case MessageType.Hello:
      m = { type: 'hello', version: decoding.readVarUint(d) }
      if (decoding.hasContent(d)) m.engine = decoding.readVarString(d)
      break
    case MessageType.DurableAck:
      m = { type: 'durable-ack', stateVector: decoding.readVarUint8Array(d) }
      break
    case MessageType.Error:
      m = { type: 'error', kind: decoding.readVarString(d), message: decoding.readVarString(d) }
      break
    case MessageType.Chunk:
      m = {
        type: 'chunk',
        id: decoding.readVarUint(d),
        total: decoding.readVarUint(d),
        offset: decoding.readVarUint(d),
        part: decoding.readVarUint8Array(d),
      }
      break
    case MessageType.Limits:
      m = {
        type: 'limits',
        maxFrameBytes: decoding.readVarUint(d),
        maxDocumentBytes: decoding.readVarUint(d),
        storedBytes: decoding.readVarUint(d),
        bytesPerSecond: decoding.readVarUint(d),
        burstBytes: decoding.readVarUint(d),
      }
      break
    case MessageType.Token:
      m = { type: 'token', token: decoding.readVarString(d) }
      break
    case MessageType.Heartbeat:
      m = { type: 'heartbeat' }
      break
    case MessageType.RetryAfter:
      m = { type: 'retry-after', ms: decoding.readVarUint(d) }
      break
    case MessageType.Report: {
      const duration = (): number | null => {
        const v = decoding.readVarUint(d)
        if (v > MAX_REPORT_MS + 1) throw new ProtocolError('a report duration past a day')
        return v === 0 ? null : v - 1
      }
      m = { type: 'report', unconfirmedAgeMs: duration(), sinceAckMs: duration() }
      break
    }
    case MessageType.Digest: {
      const vector = decoding.readVarUint8Array(d)
      const hash = decoding.readVarUint8Array(d)
      if (hash.length === 0 || hash.length > MAX_DIGEST_HASH_BYTES)
        throw new ProtocolError(`a digest hash of ${hash.length} bytes`)
      m = { type: 'digest', vector, hash }
      break
    }
    default:
      throw new ProtocolError(`unknown message type ${type}`)
  }
  if (decoding.hasContent(d)) throw new ProtocolError('trailing bytes after the message')
  return m
}

/** Decodes one frame; anything but exactly one well-formed message throws ProtocolError. */
export const decodeMessage = (frame: Uint8Array): Message => {
  try {
    return read(frame)
  } catch (e) {
    if (e instanceof ProtocolError) throw e
    throw new ProtocolError(`undecodable frame: ${e instanceof Error ? e.message : String(e)}`)
  }
}
