// y-indexeddb is installed with the peers (bench/peers), not in the workspace: the part the bench uses.
declare module 'y-indexeddb' {
  import type * as Y from 'yjs'
  export class IndexeddbPersistence {
    constructor(name: string, doc: Y.Doc)
    readonly whenSynced: Promise<IndexeddbPersistence>
    destroy(): Promise<void>
  }
}
