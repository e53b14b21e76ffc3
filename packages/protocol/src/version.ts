import { CloseCode, ErrorKind } from './codes.js'
import { AuthType, MessageType, SyncType } from './messages.js'

/**
 * The protocol version a client and server exchange in `hello` (PROTOCOL.md §P1).
 *
 * History — add a line, bump the version and record the new table hash whenever the table changes:
 *   1 (2026-11-23): y-websocket types 0–3; extensions hello (10), durable-ack (11), error (12);
 *                   close codes and error kinds as in PROTOCOL.md.
 */
export const PROTOCOL_VERSION = 1

/** Everything a peer depends on: changing any of it is a protocol change. */
export const PROTOCOL_TABLE = { MessageType, SyncType, AuthType, CloseCode, ErrorKind } as const

/** The table hash recorded for each version (checked by protocol-version.test.ts). */
export const PROTOCOL_HISTORY: readonly { version: number; tableHash: string }[] = [
  { version: 1, tableHash: '8104a77811665847' },
]
