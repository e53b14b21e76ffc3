import { MemoryHistory, createMemoryHistoryStore, runSpaceHistorySuite } from '../src/testing/index.js'

runSpaceHistorySuite('memory', () => {
  const store = createMemoryHistoryStore()
  let current = new MemoryHistory(store)
  return Promise.resolve({
    history: current,
    reopen: async () => {
      await current.close()
      current = new MemoryHistory(store)
      return current
    },
    close: () => current.close(),
    cleanup: () => current.close(),
  })
})
