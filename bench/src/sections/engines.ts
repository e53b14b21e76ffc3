import type { Config } from '../config.js'
import type { Results } from '../lib/results.js'

export async function runEngines(_cfg: Config, results: Results): Promise<void> {
  results.note('engines: not built yet')
  await Promise.resolve()
}
