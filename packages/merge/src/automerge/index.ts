/**
 * The Automerge engine, registered when this module is imported (`@converge/merge/automerge`, or
 * `loadEngine('automerge')`, which imports it on demand so that bundlers split it off).
 */
import { registerEngine } from '../registry.js'
import { AutomergeEngine } from './engine.js'

registerEngine('automerge', (spaceId, replicaId) => new AutomergeEngine(spaceId, replicaId))

export {
  AutomergeEngine,
  type PreparedUpdate,
  isSavedDocument,
  savedChangeList,
  savedChanges,
} from './engine.js'
