/** A room's link to the same room on other instances (SPEC.md LINK-1; CORE-6, CORE-9…CORE-13). */
import { encodeMessage } from '@converge/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { LogFields, Logger } from '../src/index.js'
import { Client, ControlledStore, world } from './harness.js'

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
