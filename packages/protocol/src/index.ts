export {
  CLOSE_RULES,
  CloseCode,
  type CloseRule,
  ErrorKind,
  type NextStep,
  closeCodeOf,
  closeRule,
  isPermanentClose,
} from './codes.js'
export { type Backoff, backoffDelay, defaultBackoff } from './backoff.js'
export {
  CHUNKS_SINCE_VERSION,
  CHUNK_OVERHEAD,
  ChunkError,
  type ChunkMessage,
  type ChunkRefusal,
  MIN_CHUNK_PART,
  Reassembler,
  type ReassemblerOptions,
  knowsChunks,
  minChunkPart,
  splitFrame,
} from './chunks.js'
export {
  AuthType,
  MAX_DIGEST_HASH_BYTES,
  MAX_REPORT_MS,
  type Message,
  MessageType,
  ProtocolError,
  type ServerLimits,
  SyncType,
  decodeMessage,
  encodeMessage,
} from './messages.js'
export {
  ENGINES_SINCE_VERSION,
  PROBE_SINCE_VERSION,
  PROTOCOL_HISTORY,
  PROTOCOL_TABLE,
  PROTOCOL_VERSION,
} from './version.js'
export { MAX_VERSION_TOKEN, parseVersionToken, versionToken } from './version-token.js'
