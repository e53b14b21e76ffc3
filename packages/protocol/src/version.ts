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
 *   3 (2026-12-01): `chunk` (13) for messages over the frame limit and `limits` (14) after hello
 *                   (§P7), error kind IncompleteMessage (4408); `token` (20) as a socket's first
 *                   frame instead of `?token=`; `heartbeat` (21) both ways; `retry-after` (22)
 *                   before a close that sheds load (§P5.11–13). Each is sent only to a peer whose
 *                   hello names version 3 or later (`token`: with a fallback to the query string
 *                   when a server refuses it).
 *   4 (2026-12-02): spaces of another engine (§P8): `hello` may name the engine the client opened
 *                   the space with (absent: Yjs); an Automerge space's vectors are version vectors
 *                   and its updates lists of changes; close code 4415 / error kind
 *                   UnsupportedEngine for a hello naming another engine than the space's — on an
 *                   Automerge space nothing is sent before a hello naming it. Yjs spaces are served
 *                   as before to every version.
 *   5 (2026-12-03): consistency you can watch (§P12): `report` (23), client → server, how far
 *                   behind the device is; `digest` (24), both ways, a hash of the whole state at a
 *                   version, a mismatch at an equal version answered by a full exchange. Sent only
 *                   to a peer whose hello names version 5 or later.
 */
export const PROTOCOL_VERSION = 5

/** The first protocol version that sends and takes `report` and `digest` (§P12). */
export const PROBE_SINCE_VERSION = 5

/** The first protocol version whose hello may name an engine (§P8, ENGINE-1). */
export const ENGINES_SINCE_VERSION = 4

/** Everything a peer depends on: changing any of it is a protocol change. */
export const PROTOCOL_TABLE = { MessageType, SyncType, AuthType, CloseCode, ErrorKind } as const

/** The table hash recorded for each version (checked by protocol-version.test.ts). */
export const PROTOCOL_HISTORY: readonly { version: number; tableHash: string }[] = [
  { version: 1, tableHash: '8104a77811665847' },
  { version: 2, tableHash: '6213ffe1f1d3fce9' },
  { version: 3, tableHash: 'ca912d6d250ff65c' },
  { version: 4, tableHash: 'bee0541dad2085d0' },
  { version: 5, tableHash: 'e69daacf079891c2' },
]
