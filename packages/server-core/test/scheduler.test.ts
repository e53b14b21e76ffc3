/** Injected time and turns (SPEC.md TIME-1…TIME-4). */
import { describe, expect, it, vi } from 'vitest'
import { systemScheduler } from '../src/index.js'
import { ManualScheduler } from '../src/testing/index.js'
import { Client, ControlledStore, world } from './harness.js'

describe('ManualScheduler', () => {
  it('[TIME-1] turns run in the order queued; a turn queued by a turn runs in a later one; promise jobs settle after each', async () => {
    const time = new ManualScheduler()
    const log: string[] = []
    time.nextTurn(() => {
      log.push('a')
      time.nextTurn(() => log.push('c'))
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => log.push('a-job'))
    })
    time.nextTurn(() => log.push('b'))
    expect(log).toEqual([]) // nothing runs by itself
    expect(await time.runTurn()).toBe(2)
    expect(log).toEqual(['a', 'a-job', 'b'])
    expect(time.pendingTurns).toBe(1)
    expect(await time.runTurns()).toBe(1)
    expect(log).toEqual(['a', 'a-job', 'b', 'c'])
  })

  it('[TIME-2] timers fire in time order (ties in the order set) as time advances; cancelled ones never; runAll jumps to each', async () => {
    const time = new ManualScheduler({ start: 1000 })
    const log: string[] = []
    time.setTimeout(() => log.push(`30@${time.now()}`), 30)
    time.setTimeout(() => log.push(`10@${time.now()}`), 10)
    const cancelled = time.setTimeout(() => log.push('never'), 20)
    time.setTimeout(() => {
      log.push(`10b@${time.now()}`)
      time.nextTurn(() => log.push('turn after 10b'))
    }, 10)
    cancelled.cancel()
    await time.advance(9)
    expect(log).toEqual([])
    expect(time.now()).toBe(1009)
    await time.advance(1)
    expect(log).toEqual(['10@1010', '10b@1010', 'turn after 10b'])
    expect(time.pendingTimers).toBe(1)
    await time.runAll()
    expect(log).toEqual(['10@1010', '10b@1010', 'turn after 10b', '30@1030'])
    expect(time.pendingTimers).toBe(0)
  })

  it('[TIME-3] nothing in the core runs by itself: relay, commit, fan-out delivery and timers wait for a step', async () => {
    const store = new ControlledStore()
    const { time, hub, core } = world()
    const one = core(store, { fanOut: hub.instance(), limits: { idleUnloadMs: 50 } })
    const two = core(store, { fanOut: hub.instance() })
    const a = new Client(one, 's1', 'w')
    const b = new Client(one, 's1', 'w')
    const c = new Client(two, 's1', 'w')
    await time.runAll()
    a.type('x')
    await time.settle() // promise jobs only: no turn runs
    expect(b.text).toBe('')
    expect(store.appends).toBe(0)
    await time.runTurn() // the end of the turn: relay and commit
    expect(b.text).toBe('x')
    expect(store.appends).toBe(1)
    expect(c.text).toBe('') // the fan-out delivers in a turn of its own
    await time.runTurns()
    expect(c.text).toBe('x')
    expect(b.saved).toBe(false) // the periodic ack is a timer
    await time.advance(100)
    expect(b.saved).toBe(true)
    a.drop()
    b.drop()
    await time.runTurns()
    expect(one.loadedSpaces).toBe(1) // the idle unload is a timer too
    await time.advance(50)
    expect(one.loadedSpaces).toBe(0)
  })
})

describe('systemScheduler', () => {
  it('[TIME-4] nextTurn runs after the promise jobs of this turn (setImmediate); setTimeout fires, and a cancelled one never does', async () => {
    const log: string[] = []
    systemScheduler.nextTurn(() => log.push('turn'))
    void Promise.resolve().then(() => log.push('job'))
    const cancelled = systemScheduler.setTimeout(() => log.push('cancelled'), 1)
    systemScheduler.setTimeout(() => log.push('timer'), 5)
    cancelled.cancel()
    await vi.waitFor(() => expect(log).toContain('timer'))
    expect(log).toEqual(['job', 'turn', 'timer'])
  })
})
