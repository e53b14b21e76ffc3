export { CloseCode, ErrorKind, isPermanentClose } from './codes.js'
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
