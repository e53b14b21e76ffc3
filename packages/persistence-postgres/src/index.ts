export {
  MIGRATIONS,
  PostgresPersistence,
  type PostgresPersistenceOptions,
  SCHEMA_VERSION,
} from './postgres-persistence.js'
