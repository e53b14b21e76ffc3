import type { Config } from '../config.js'
import type { Results } from '../lib/results.js'

export async function runIdb(_cfg: Config, results: Results): Promise<void> {
  results.note('idb: not built yet')
  await Promise.resolve()
}
