/**
 * The entry point for servers: what checks an incoming Yjs update, and the wire encodings of
 * Automerge spaces (change lists, version vectors), without the engines (and so without loading
 * Automerge's WebAssembly into a process that never uses it).
 */
export { MergeError, isMergeError, type MergeErrorKind } from './errors.js'
export { validateYjsUpdate, type YjsUpdateSummary } from './yjs/validate.js'
export { Origin } from './origins.js'
export { decodeVersionVector, encodeVersionVector, decodeList, encodeList } from './automerge/frame.js'

/** PROBE-1: the state digest, for the server's convergence probe without the domain layer. */
export { automergeStateDigest, yjsStateDigest } from './digest.js'
