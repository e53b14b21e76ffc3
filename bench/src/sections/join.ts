import type { Config } from '../config.js'
import type { Results } from '../lib/results.js'

export async function runJoin(_cfg: Config, results: Results): Promise<void> {
  results.note('join: not built yet')
  await Promise.resolve()
}
