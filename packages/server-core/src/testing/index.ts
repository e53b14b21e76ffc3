export { MemoryPersistence, createMemoryStore, type MemoryStore } from '../memory-persistence.js'
export { runPersistenceSuite, testBytes, type PersistenceFixture } from './persistence-suite.js'
