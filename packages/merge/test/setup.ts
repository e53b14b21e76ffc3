import { loadEngine } from '../src/index.js'

await loadEngine('automerge')
