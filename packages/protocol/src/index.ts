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
  AuthType,
  type Message,
  MessageType,
  ProtocolError,
  SyncType,
  decodeMessage,
  encodeMessage,
} from './messages.js'
export { PROTOCOL_HISTORY, PROTOCOL_TABLE, PROTOCOL_VERSION } from './version.js'
