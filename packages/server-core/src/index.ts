export {
  type Access,
  type AuthDecision,
  type Authenticate,
  type ConnectionHandle,
  SPACE_ID,
  type SocketLike,
} from './connection.js'
export { MalformedVersion, type SpaceRead, SyncCore, type SyncCoreOptions } from './core.js'
export type { CoreEvents } from './events.js'
export {
  HISTORY_BEFORE_WRITE_MAX_MS,
  HISTORY_MAX_AUTHORS,
  HISTORY_MAX_INTERVAL_MS,
  HISTORY_QUIET_MS,
  type HistoryOptions,
  type HistoryPolicy,
  defaultHistoryPolicy,
  versionsToDrop,
} from './history.js'
export { type Limits, defaultLimits } from './limits.js'
export { MemoryFanOut, MemoryFanOutHub } from './memory-fanout.js'
export {
  BYTES_PER_CLIENT,
  BYTES_PER_STRUCT,
  HEAP_PER_STORED_BYTE,
  MemoryBudgetExceeded,
  countStructs,
  estimateHeap,
} from './memory.js'
export {
  type Clock,
  type FanOut,
  type FanOutListener,
  type LogFields,
  type Logger,
  type Persistence,
  type Scheduler,
  SPACE_ENGINES,
  type SpaceEngine,
  type SpaceHistory,
  type SpaceRegistry,
  StorageError,
  type StorageQuota,
  type StoredSpace,
  type StoredVersion,
  type VersionInfo,
  type Timer,
  type NewTrip,
  type RecordOutcome,
  type Trip,
  type TripLedger,
  type TripLine,
  type TripStatus,
  knownEngine,
  silentLogger,
  systemClock,
  systemScheduler,
  unlimitedStorage,
} from './ports.js'
