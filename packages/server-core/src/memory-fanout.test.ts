import { type MemoryFanOut, MemoryFanOutHub } from './memory-fanout.js'
import { runFanOutSuite } from './testing/index.js'

runFanOutSuite('memory', (count) => {
  const hub = new MemoryFanOutHub()
  const instances = Array.from({ length: count }, () => hub.instance())
  return Promise.resolve({
    instances,
    interrupt: (f) => {
      const m = f as MemoryFanOut
      m.cut()
      m.restore()
      return Promise.resolve()
    },
    cleanup: () => Promise.resolve(),
  })
})
