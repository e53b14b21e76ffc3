import type { Config } from '../config.js'
import type { Results } from '../lib/results.js'

export async function runMemory(_cfg: Config, results: Results): Promise<void> {
  results.note('memory: not built yet')
  await Promise.resolve()
}
