/**
 * Engines are loaded on demand: Yjs is always there; Automerge only after `loadEngine('automerge')`
 * (or an import of `@converge/merge/automerge`), so a bundled app on Yjs spaces never holds it.
 */
import { describe, expect, it, vi } from 'vitest'
import type * as Merge from '../src/index.js'

/** packages/merge as a fresh process sees it: no engine loaded but Yjs (test/setup.ts loads Automerge). */
const fresh = async (): Promise<typeof Merge> => {
  vi.resetModules()
  return import('../src/index.js')
}

describe('engine loading', () => {
  it('Yjs is loaded; Automerge refuses to open until loaded, then opens', async () => {
    const m = await fresh()
    expect(m.isEngineLoaded('yjs')).toBe(true)
    expect(m.isEngineLoaded('automerge')).toBe(false)
    expect(m.createSpace({ engine: 'yjs', name: 'a' }).name).toBe('a')
    expect(() => m.createSpace({ engine: 'automerge' })).toThrow(/loadEngine\("automerge"\)/)
    try {
      m.createSpace({ engine: 'automerge' })
    } catch (e) {
      expect(m.isMergeError(e, 'InvalidArgument')).toBe(true)
    }
    await m.loadEngine('automerge')
    expect(m.isEngineLoaded('automerge')).toBe(true)
    const space = m.createSpace({ engine: 'automerge', name: 'b' })
    expect(space.name).toBe('b')
    const copy = m.openSpace({ engine: 'automerge', spaceId: space.id, state: space.encodeStateAsUpdate() })
    expect(copy.name).toBe('b')
  })

  it('an unknown engine is refused, also by loadEngine', async () => {
    const m = await fresh()
    expect(() => m.createSpace({ engine: 'nope' as 'yjs' })).toThrow(/unknown engine "nope"/)
    await expect(m.loadEngine('nope' as 'yjs')).rejects.toThrow(/unknown engine/)
  })
})
