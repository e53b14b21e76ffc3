/** A room's link to the same room on other instances (SPEC.md LINK-1; CORE-6, CORE-9…CORE-13). */
import { encodeMessage } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type LogFields, type Logger, SyncCore } from '../src/index.js'
import { Client, ControlledStore, authenticate, world } from './harness.js'

describe('fan-out link', () => {
  it('[LINK-1] an undecodable fan-out frame is dropped and logged; the room goes on', async () => {
    const store = new ControlledStore()
    const warnings: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (_f: LogFields, m) => void warnings.push(m),
      error() {},
    }
    const { time, hub, core } = world()
    const one = core(store, { fanOut: hub.instance(), logger })
    const two = core(store, { fanOut: hub.instance() })
    const a = new Client(one, 's1', 'w')
    const b = new Client(two, 's1', 'w')
    await time.runAll()
    const stranger = hub.instance()
    stranger.publish('s1', Uint8Array.of(0xff, 0xff, 0xff, 0xff))
    stranger.publish('s1', encodeMessage({ type: 'sync-update', update: Uint8Array.of(1, 2, 3) }))
    await time.runAll()
    expect(warnings.filter((w) => w === 'undecodable fan-out frame dropped')).toHaveLength(2)
    a.type('still fine')
    await time.runAll()
    expect(b.text).toBe('still fine')
    expect(a.saved && b.saved).toBe(true)
    expect(Y.encodeStateAsUpdate(a.doc)).toEqual(Y.encodeStateAsUpdate(b.doc))
  })
})

describe('fan-out link, what is committed', () => {
  it('[LINK-2] a room that loads tells the others what storage holds, also what its writer never announced', async () => {
    const store = new ControlledStore()
    const { time, hub, core } = world()
    const one = core(store, { fanOut: hub.instance() })
    // the writer's instance stores nothing itself and dies without a word (its append never returns)
    const writer = new SyncCore({
      persistence: Object.assign(Object.create(store) as ControlledStore, {
        append: () => new Promise<number>(() => {}),
      }),
      authenticate,
      fanOut: hub.instance(),
      clock: time,
      scheduler: time,
    })
    const a = new Client(one, 's1', 'w')
    const w = new Client(writer, 's1', 'w')
    await time.runAll()
    w.type('late')
    await time.runAll()
    expect(a.text).toBe('late') // relayed to instance one, not committed by anyone it knows of
    expect(a.saved).toBe(false)
    // the write reached storage after all (a commit that returned too late for its room to announce)
    await store.append('s1', [Y.encodeStateAsUpdate(w.doc)])
    const three = core(store, { fanOut: hub.instance() })
    new Client(three, 's1', 'w') // loads the space from storage, and says what it read there
    await time.runAll()
    expect(a.saved, 'instance one learns it is committed').toBe(true)
  })
})
