import { MemoryTripLedger, createMemoryTripStore, runTripLedgerSuite } from '../src/testing/index.js'

runTripLedgerSuite('memory', () => {
  const store = createMemoryTripStore()
  let current = new MemoryTripLedger(store)
  return Promise.resolve({
    ledger: current,
    reopen: async () => {
      await current.close()
      current = new MemoryTripLedger(store)
      return current
    },
    cleanup: () => current.close(),
  })
})
