import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * The message table (PROTOCOL.md §P2). Types 0–3 are y-websocket's, byte for byte; 10–12 are
 * Converge's extensions, sent by the server only to clients that said hello (type 10), so a stock
 * y-websocket client never sees a type it does not know.
 */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  Hello: 10,
  DurableAck: 11,
  Error: 12,
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
  | { type: 'hello'; version: number }
  | { type: 'durable-ack'; stateVector: Uint8Array }
  | { type: 'error'; kind: string; message: string }

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
      break
    case MessageType.DurableAck:
      m = { type: 'durable-ack', stateVector: decoding.readVarUint8Array(d) }
      break
    case MessageType.Error:
      m = { type: 'error', kind: decoding.readVarString(d), message: decoding.readVarString(d) }
      break
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
