export {
  MIGRATIONS,
  SCHEMA_VERSION,
  SqlitePersistence,
  type SqlitePersistenceOptions,
  migrate,
} from './sqlite-persistence.js'
