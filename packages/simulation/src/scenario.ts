/**
 * One run of the simulation: a world and a list of events (SPEC.md). `runScenario` throws on the first
 * rule broken, with the events so far.
 */
import * as fc from 'fast-check'
import * as Y from 'yjs'
import { SPACE, World } from './world.js'

const expect = (ok: boolean, message: string): void => {
  if (!ok) throw new Error(message)
}

const NAMES = ['Milk', 'milk', 'Eggs', 'Bread', 'Tea'] as const

export type Event =
  | { t: 'add'; d: number; name: number; qty: number }
  | { t: 'inc' | 'dec' | 'remove' | 'check'; d: number; pick: number }
  | { t: 'type'; d: number; at: number; n: number }
  | { t: 'undo'; d: number }
  | { t: 'up' | 'down'; d: number; n: number }
  | { t: 'open' | 'cut' | 'reload'; d: number }
  | { t: 'retarget'; d: number; i: number }
  | { t: 'commit' | 'fail' | 'crash' | 'restart' | 'gap' | 'mend'; i: number; n: number }
  | { t: 'wait'; ms: number }

const d = fc.nat(3)
const i = fc.nat(2)
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary })
export const eventArb: fc.Arbitrary<Event> = fc.oneof(
  w(
    6,
    fc.record({
      t: fc.constant('add' as const),
      d,
      name: fc.nat(NAMES.length - 1),
      qty: fc.integer({ min: 1, max: 3 }),
    }),
  ),
  w(
    5,
    fc.record({
      t: fc.constantFrom('inc' as const, 'dec' as const, 'remove' as const, 'check' as const),
      d,
      pick: fc.nat(9),
    }),
  ),
  w(5, fc.record({ t: fc.constant('type' as const), d, at: fc.nat(20), n: fc.integer({ min: 1, max: 3 }) })),
  w(2, fc.record({ t: fc.constant('undo' as const), d })),
  w(
    14,
    fc.record({ t: fc.constantFrom('up' as const, 'down' as const), d, n: fc.integer({ min: 1, max: 4 }) }),
  ),
  w(4, fc.record({ t: fc.constant('open' as const), d })),
  w(2, fc.record({ t: fc.constantFrom('cut' as const, 'reload' as const), d })),
  w(1, fc.record({ t: fc.constant('retarget' as const), d, i })),
  w(7, fc.record({ t: fc.constant('commit' as const), i, n: fc.integer({ min: 1, max: 3 }) })),
  w(
    2,
    fc.record({
      t: fc.constantFrom(
        'fail' as const,
        'crash' as const,
        'restart' as const,
        'gap' as const,
        'mend' as const,
      ),
      i,
      n: fc.constant(1),
    }),
  ),
  w(4, fc.record({ t: fc.constant('wait' as const), ms: fc.constantFrom(20, 120, 600, 3_000) })),
)

/** A fresh code point per keystroke, so the model can tell every character apart. */
const charSource = (): (() => string) => {
  let n = 0
  return () => String.fromCodePoint(0x4e00 + ++n)
}

export const runScenario = async (
  instances: number,
  devices: number,
  seed: number,
  events: readonly Event[],
): Promise<void> => {
  const world = new World({ instances, devices, seed })
  const nextChar = charSource()
  const fail = (problems: string[]): void => {
    if (problems.length > 0)
      throw new Error(`${problems.join('\n')}\n--- events so far:\n${world.trace.join('\n')}`)
  }
  try {
    await world.start()
    for (const e of events) {
      world.trace.push(JSON.stringify(e))
      if ('d' in e) {
        const dev = world.devices[e.d % devices]!
        const items = () => dev.space.items()
        const key = (pick: number): string => {
          const list = items()
          return list.length > 0 ? list[pick % list.length]!.key : 'nothing'
        }
        switch (e.t) {
          case 'add': {
            const name = NAMES[e.name]!
            fail(
              world.command(dev.index, { t: 'add', name, quantity: e.qty }, (s) =>
                s.addItem(name, { quantity: e.qty }),
              ),
            )
            break
          }
          case 'inc':
          case 'dec':
          case 'remove':
          case 'check': {
            const k = key(e.pick)
            if (e.t === 'inc')
              fail(world.command(dev.index, { t: 'increment', key: k, by: 1 }, (s) => s.increment(k)))
            if (e.t === 'dec')
              fail(world.command(dev.index, { t: 'decrement', key: k, by: 1 }, (s) => s.decrement(k)))
            if (e.t === 'remove')
              fail(world.command(dev.index, { t: 'remove', key: k }, (s) => s.removeItem(k)))
            if (e.t === 'check')
              fail(
                world.command(dev.index, { t: 'check', key: k, by: `d${dev.index}` }, (s) =>
                  s.check(k, `d${dev.index}`),
                ),
              )
            break
          }
          case 'type': {
            let index = dev.space.engine.textLength('shared')
            index = Math.min(index, e.at)
            for (let k = 0; k < e.n; k++) {
              const ch = nextChar()
              const at = index
              fail(
                world.command(
                  dev.index,
                  { t: 'editNote', id: 'shared', index: at, deleteCount: 0, insert: ch },
                  (s) => s.editNote('shared', at, 0, ch),
                ),
              )
              index += ch.length
            }
            break
          }
          case 'undo':
            fail(world.command(dev.index, { t: 'undo' }, (s) => s.undo()))
            break
          case 'up':
          case 'down': {
            const link = world.linkOf(dev.index)
            if (link?.state === 'open') {
              if (e.t === 'up') link.deliverUp(e.n)
              else link.deliverDown(e.n)
            }
            break
          }
          case 'open':
            world.linkOf(dev.index)?.open((l) => world.connect(l))
            break
          case 'cut':
            world.linkOf(dev.index)?.cut()
            break
          case 'reload':
            await dev.reload()
            break
          case 'retarget':
            dev.target = e.i % instances
            break
        }
      } else if ('i' in e) {
        const inst = world.instances[e.i % instances]!
        switch (e.t) {
          case 'commit':
            for (let k = 0; k < e.n; k++) inst.storage?.commitNext()
            break
          case 'fail':
            inst.storage?.failNext()
            break
          case 'crash':
            inst.crash()
            break
          case 'restart':
            inst.start()
            break
          case 'gap':
            inst.fanOut?.cut() // the instance loses Redis: what is published meanwhile is lost both ways
            break
          case 'mend':
            inst.fanOut?.restore()
            break
        }
      } else await world.time.advance(e.ms)
      await world.time.runTurns()
      fail(world.check(`after ${e.t}`))
    }
    // every fault heals: one state everywhere, the disk's (SIM-4)
    const quiet = await world.heal()
    fail(world.check('after healing'))
    expect(
      quiet,
      `the world quiets down once every fault heals\n${world.describe()}\n${world.trace.join('\n')}`,
    )
    const snaps = world.snapshots()
    for (const [k, s] of snaps.entries()) expect(s === snaps[0], `device ${k} did not converge with device 0`)
    const disk = world.disk.document(SPACE)
    const want = Y.encodeStateVector(disk)
    for (const dev of world.devices)
      expect(
        Y.encodeStateVector(dev.session!.doc!).join() === want.join(),
        `device ${dev.index} does not hold what the disk holds`,
      )
  } finally {
    await world.stop()
  }
}
