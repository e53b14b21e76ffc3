import {
  MemoryPersistence,
  createMemoryStore,
  runPersistenceSuite,
  runSpaceRegistrySuite,
} from './testing/index.js'

const setup = () => {
  const store = createMemoryStore()
  let current = new MemoryPersistence(store)
  return Promise.resolve({
    persistence: current,
    reopen: async () => {
      await current.close()
      current = new MemoryPersistence(store)
      return current
    },
    cleanup: () => current.close(),
  })
}

runPersistenceSuite('memory', setup)
runSpaceRegistrySuite('memory', setup)
