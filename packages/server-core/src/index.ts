export {
  type Access,
  type AuthDecision,
  type Authenticate,
  type ConnectionHandle,
  SPACE_ID,
  type SocketLike,
} from './connection.js'
export { SyncCore, type SyncCoreOptions } from './core.js'
export type { CoreEvents } from './events.js'
export { type Limits, defaultLimits } from './limits.js'
export { MemoryFanOut, MemoryFanOutHub } from './memory-fanout.js'
export {
  type Clock,
  type FanOut,
  type FanOutListener,
  type LogFields,
  type Logger,
  type Persistence,
  type Scheduler,
  type SpaceRegistry,
  StorageError,
  type StoredSpace,
  type Timer,
  silentLogger,
  systemClock,
  systemScheduler,
} from './ports.js'
