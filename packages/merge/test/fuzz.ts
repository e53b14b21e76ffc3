import type * as fc from 'fast-check'
import { isMergeError } from '../src/index.js'

/**
 * Shared fast-check settings of the property tests (convergence, differential, decoder fuzz).
 *
 *   MERGE_FUZZ_RUNS=500            more runs (each file has its own default)
 *   MERGE_FUZZ_SEED=-123456 MERGE_FUZZ_PATH="7:2:0"   replay a failure printed by fast-check
 *
 * On failure fast-check prints `{ seed: …, path: "…", endOnFailure: true }` and the shrunk counterexample
 * in the error message; pass that seed (and path, to skip straight to the shrunk case) back in.
 */
export const fuzzParams = <T>(defaultRuns: number, label: string): fc.Parameters<T> => {
  const numRuns = Number(process.env.MERGE_FUZZ_RUNS ?? defaultRuns)
  const seedEnv = process.env.MERGE_FUZZ_SEED
  const path = process.env.MERGE_FUZZ_PATH
  // MERGE_FUZZ_VERBOSE=1 lists every failure met while shrinking, 2 every value tried
  const params: fc.Parameters<T> = { numRuns, verbose: Number(process.env.MERGE_FUZZ_VERBOSE ?? 0) }
  if (seedEnv !== undefined && seedEnv !== '') {
    const seed = Number(seedEnv)
    console.log(`[${label}] replaying seed ${seed}${path ? ` path ${path}` : ''} (${numRuns} runs)`)
    return { ...params, seed, ...(path ? { path } : {}) }
  }
  // a fresh seed every run, printed before it starts: a failure (or a hang) can always be replayed
  const seed = (Math.random() * 2 ** 31) | 0
  console.log(`[${label}] seed ${seed}, ${numRuns} runs (replay: MERGE_FUZZ_SEED=${seed})`)
  return { ...params, seed }
}

/** Runs a command; a MergeError saying the target is not there (here, now) is a skipped command. */
export const tolerant = (fn: () => void): boolean => {
  try {
    fn()
    return true
  } catch (e) {
    if (isMergeError(e, 'NotFound') || isMergeError(e, 'InvalidArgument')) return false
    throw e
  }
}

/** A test timeout that grows with MERGE_FUZZ_RUNS: long runs are for finding bugs, not for timing out. */
export const fuzzTimeout = Math.max(120_000, Number(process.env.MERGE_FUZZ_RUNS ?? 0) * 1_000)
