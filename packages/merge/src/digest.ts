/**
 * PROBE-1 (sync-client and server-core's convergence probe, PROTOCOL.md §P12.2): a hash of a
 * replica's whole state, equal on two replicas exactly when they hold the same state. Compared only
 * at an equal version vector, where it tells what the vector cannot: on Yjs a deletion travels with
 * no clock of its own, so two replicas at one state vector can still differ — by their delete sets.
 */
import { digest } from 'lib0/hash/sha256'
import { encodeUtf8 } from 'lib0/string'
import * as Y from 'yjs'

/** Yjs: the state vector and the delete set, as Yjs encodes a snapshot (clients sorted, ranges merged). */
export const yjsStateDigest = (doc: Y.Doc): Uint8Array => digest(Y.encodeSnapshot(Y.snapshot(doc)))

/** Automerge: the heads — hashes of the whole history — sorted. */
export const automergeStateDigest = (heads: readonly string[]): Uint8Array =>
  digest(encodeUtf8([...heads].sort().join(',')))
