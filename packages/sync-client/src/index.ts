// One set of origin names for the whole system (merge EVT-1); the one backoff (protocol).
export { Origin } from '@converge/merge'
export { type Backoff, backoffDelay, defaultBackoff } from '@converge/protocol'
export { parseVersionToken, versionToken } from '@converge/protocol'

export {
  type NavigatorLike,
  type NetworkEvent,
  type PageEvent,
  type PageEvents,
  type Timers,
  type WindowEvents,
} from './browser.js'
export {
  CLIENT_BACKOFF,
  type ConnectionFacts,
  type ConnectionOptions,
  type ConnectionState,
  DIGEST_MS,
  HEARTBEAT_MS,
  LIVENESS_MISSES,
  type LinkState,
  REPORT_MS,
  SERVER_ORIGIN,
  SyncConnection,
} from './connection.js'
export {
  type CopyableDiagnostics,
  DIAGNOSTICS_TICK_MS,
  SessionDiagnostics,
  type SyncDiagnostics,
  TABS_REFRESH_MS,
  type VectorRecord,
} from './diagnostics.js'
export { MESSAGE_LOG_SIZE, type MessageEntry } from './message-log.js'
export { TAB_ANSWER_MS, type TabEntry } from './tab-roster.js'
export { type LocalStore } from './local-store.js'
export {
  type EngineCodec,
  type SyncDocument,
  ackCovers,
  codecOf,
  spaceDocument,
  yjsDocument,
} from './engine-codec.js'
export { type Presence } from './presence.js'
export { type SessionOptions, SpaceSession } from './session.js'
export {
  DEFAULT_MAX_SPACE_BYTES,
  SpaceSize,
  SpaceTooLarge,
  formatBytes,
  spaceSizeOf,
  utf8Length,
} from './space-size.js'
export {
  type CreateResult,
  type CreatedSpace,
  type HttpSpaceApiOptions,
  type ResetResult,
  type SpaceApi,
  type SpaceTokens,
  httpSpaceApi,
} from './space-api.js'
export {
  type HistoryApi,
  type HistoryResult,
  type VersionInfo,
  type VersionState,
  httpHistoryApi,
} from './history-api.js'
export {
  type Failure as TripFailure,
  type HttpTripsApiOptions,
  type Result as TripResult,
  type ServerLine,
  type ServerView,
  type Trip,
  type TripLine,
  type TripsApi,
  httpTripsApi,
} from './trips-api.js'
export {
  type CreateSpaceOptions,
  REGISTRATION_BACKOFF,
  type RegistrationCatalog,
  SpaceRegistrar,
  type SpaceRegistrarOptions,
  type UnregisteredSpace,
  createSpaceRecord,
  randomSpaceId,
} from './space-registrar.js'
export {
  CALM_MS,
  CalmStatus,
  REVOKED_TEXT,
  type SyncStatus,
  deriveStatus,
  isCovered,
  statusText,
} from './status.js'
export * from './store/index.js'
