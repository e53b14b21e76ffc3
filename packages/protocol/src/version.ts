import { CloseCode, ErrorKind } from './codes.js'
import { AuthType, MessageType, SyncType } from './messages.js'

/**
 * The protocol version a client and server exchange in `hello` (PROTOCOL.md §P1).
 *
 * History — add a line, bump the version and record the new table hash whenever the table changes:
 *   1 (2026-11-23): y-websocket types 0–3; extensions hello (10), durable-ack (11), error (12);
 *                   close codes and error kinds as in PROTOCOL.md.
 *   2 (2026-12-01): close code 4410 / error kind LinkRevoked (a share link reset by someone in the
 *                   space); tokens carry a link generation `gen`; 4401 also closes an open socket
 *                   whose token reaches its `exp`. Version 1 clients treat 4410 as an unknown,
 *                   permanent 44xx close.
 */
export const PROTOCOL_VERSION = 2

/** Everything a peer depends on: changing any of it is a protocol change. */
export const PROTOCOL_TABLE = { MessageType, SyncType, AuthType, CloseCode, ErrorKind } as const

/** The table hash recorded for each version (checked by protocol-version.test.ts). */
export const PROTOCOL_HISTORY: readonly { version: number; tableHash: string }[] = [
  { version: 1, tableHash: '8104a77811665847' },
  { version: 2, tableHash: '6213ffe1f1d3fce9' },
]
