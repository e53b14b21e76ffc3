export {
  IdbStore,
  upgrade,
  DB_VERSION,
  DEFAULT_DB_NAME,
  type IdbStoreOptions,
  type LoadResult,
  type ChangeOrigin,
  type ConvergeDB,
  type ConvergeDBSchema,
} from './idb-store.js'
export { StoreError, isStoreError, isQuotaError, type StoreErrorKind } from './errors.js'
export type {
  SpaceRecord,
  UpdateRecord,
  SnapshotRecord,
  StoredSnapshot,
  MetaRecord,
  PendingChange,
  PendingClocks,
  Unconfirmed,
} from './records.js'
export { parseSnapshotRecord } from './records.js'
