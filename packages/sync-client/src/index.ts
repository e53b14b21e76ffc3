export {
  type Backoff,
  type ConnectionState,
  SERVER_ORIGIN,
  SyncConnection,
  backoffDelay,
  isCovered,
} from './connection.js'
export { type LocalStore, Origin, type Presence, type SessionOptions, SpaceSession } from './session.js'
export { type SyncStatus, deriveStatus, statusText } from './status.js'
export * from './store/index.js'
