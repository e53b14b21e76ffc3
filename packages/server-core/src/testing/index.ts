export { MemoryPersistence, createMemoryStore, type MemoryStore } from '../memory-persistence.js'
export { runFanOutSuite, type FanOutFixture } from './fanout-suite.js'
export { runPersistenceSuite, testBytes, type PersistenceFixture } from './persistence-suite.js'
