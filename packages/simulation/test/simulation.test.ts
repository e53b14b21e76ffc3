/**
 * SIM-1 … SIM-4: the whole sync system under a seeded schedule of faults (SPEC.md).
 *
 * Each run draws a world (1–3 server instances, 2–4 devices) and a list of events: commands on the
 * devices (checked against the merge model as they run), deliveries of what each socket carries,
 * commits and failures of storage, socket cuts, instance crashes (SIGKILL: what was not committed
 * is lost) and restarts, page reloads, the load balancer moving a device, time passing. After every
 * event — and fan-out gaps (an instance cut off from the others and back) — the world is checked: no durable ack claims more than the disk holds (SIM-1); a device that
 * says "saved" has every change it holds on the disk (SIM-2); every device shows what the contract
 * implies for what it has integrated (SIM-3). Then every fault heals and every device must hold one
 * state, the disk's (SIM-4).
 *
 * A run prints its seed; `SIM_SEED=<seed>` replays it (with the `path` fast-check prints on a
 * failure, straight to the shrunk list of events); `SIM_RUNS=<n>` runs longer.
 */
import * as fc from 'fast-check'
import { describe, it } from 'vitest'
import { eventArb, runScenario } from '../src/index.js'

const RUNS = Number(process.env.SIM_RUNS ?? 2_000)

const seedEnv = process.env.SIM_SEED
const seed = seedEnv ? Number(seedEnv) : (Math.random() * 2 ** 31) | 0

describe('whole-system simulation', () => {
  it(
    '[SIM-1][SIM-2][SIM-3][SIM-4] acks never outrun the disk, "saved" is true, every device is right, and all converge once faults heal',
    async () => {
      console.log(`[SIM] seed ${seed}, ${RUNS} runs (replay: SIM_SEED=${seed})`)
      const started = Date.now()
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 2, max: 4 }),
          fc.nat(),
          fc.array(eventArb, { minLength: 1, maxLength: 50, size: 'max' }),
          (instances, devices, worldSeed, events) => runScenario(instances, devices, worldSeed, events),
        ),
        { numRuns: RUNS, seed, ...(process.env.SIM_PATH ? { path: process.env.SIM_PATH } : {}) },
      )
      console.log(`[SIM] ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    },
    Math.max(120_000, RUNS * 2_000),
  )
})
