/**
 * Which engines this process can open spaces on. Yjs is always there; Automerge (its wasm is
 * 3.6 MB) is loaded only when something asks for it — `await loadEngine('automerge')`, or an
 * import of `@converge/merge/automerge` — so an app on Yjs spaces alone never downloads it.
 */
import type { Engine, EngineKind } from './engine.js'
import { MergeError } from './errors.js'

/** Makes the engine of one replica of one space. */
export type EngineFactory = (spaceId: string, replicaId: string) => Engine

const factories = new Map<EngineKind, EngineFactory>()

/** Makes `kind` available to `openSpace` / `createSpace` (the engine modules call it when loaded). */
export const registerEngine = (kind: EngineKind, factory: EngineFactory): void => {
  factories.set(kind, factory)
}

/** Whether spaces on `kind` can be opened now, without `await loadEngine(kind)` first. */
export const isEngineLoaded = (kind: EngineKind): boolean => factories.has(kind)

export const engineFactory = (kind: EngineKind): EngineFactory => {
  const factory = factories.get(kind)
  if (factory) return factory
  if (kind === 'automerge')
    throw new MergeError(
      'InvalidArgument',
      'the automerge engine is not loaded: `await loadEngine("automerge")` before opening its spaces',
    )
  throw new MergeError('InvalidArgument', `unknown engine "${String(kind)}"`)
}
