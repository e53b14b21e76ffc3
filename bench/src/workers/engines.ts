/**
 * An engine benchmark process (forked by sections/engines.ts). `run`: every workload on one variant —
 * raw Yjs, raw Automerge, or packages/merge on either engine — reporting time, bytes of the updates a
 * peer would be sent, document size, encode time and heap; the encoded documents go to files.
 * `load`: in a fresh process, the time to load each of those files.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as A from '@automerge/automerge'
import { type Space, createSpace, openSpace } from '@converge/merge'
// merge/automerge opens Automerge spaces: registers the engine (loaded on demand elsewhere)
import '@converge/merge/automerge'
import * as Y from 'yjs'
import { loadTrace } from '../lib/trace.js'

export type Variant = 'raw yjs' | 'merge/yjs' | 'raw automerge' | 'merge/automerge'

export interface Measured {
  readonly workload: string
  readonly ms: number[]
  readonly updateBytes: number
  readonly docBytes: number
  readonly encodeMs: number
  readonly heapMB: number
}

interface Replica {
  /** Starts from another replica's whole state (a fresh replica joining the document). */
  init(state: Uint8Array): void
  /** Sets one shared value (a map entry every replica writes: last writer wins). */
  setShared(i: number): void
  splice(pos: number, del: number, ins: string): void
  length(): number
  cart(i: number): void
  encode(): Uint8Array
  apply(update: Uint8Array): void
  /** The updates (Automerge: changes) this replica made since the last call, as a peer receives them. */
  drain(): Uint8Array[]
  /** Applies one incremental update from `drain()` of another replica. */
  applyIncremental(update: Uint8Array): void
  updateBytes: number
  /** When set, the time of the part under test, in place of the whole workload's. */
  measuredMs?: number
}

let rng = 1
const random = (): number => {
  rng ^= rng << 13
  rng ^= rng >>> 17
  rng ^= rng << 5
  return (rng >>> 0) / 2 ** 32
}
const hex = (n: number): string => n.toString(16).padStart(16, '0')

type AmDoc = { text: string; cart: Record<string, { qty: number; checked: boolean; note: string }> }

function replica(v: Variant, index: number): Replica {
  const names = Array.from({ length: 50 }, (_, i) => `item ${i}`)
  if (v === 'raw yjs') {
    const doc = new Y.Doc()
    const text = doc.getText('body:n')
    const cart = doc.getMap<Y.Map<unknown>>('cart')
    const r: Replica = {
      updateBytes: 0,
      splice: (pos, del, ins) => {
        if (del) text.delete(pos, del)
        if (ins) text.insert(pos, ins)
      },
      length: () => text.length,
      cart: (i) => {
        const name = names[i % names.length]!
        doc.transact(() => {
          let it = cart.get(name)
          if (!it) {
            it = new Y.Map()
            cart.set(name, it)
            it.set('qty', 1)
          } else if (i % 5 === 0) it.set('checked', true)
          else if (i % 3 === 0) it.set('note', `note ${i}`)
          else it.set('qty', ((it.get('qty') as number) ?? 0) + 1)
        })
      },
      encode: () => Y.encodeStateAsUpdate(doc),
      apply: (u) => Y.applyUpdate(doc, u),
      init: (u) => Y.applyUpdate(doc, u),
      setShared: (i) => doc.getMap('shared').set('value', i),
      drain: () => made.splice(0),
      applyIncremental: (u) => Y.applyUpdate(doc, u),
    }
    const made: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => {
      r.updateBytes += u.length
      made.push(u)
    })
    return r
  }
  if (v === 'raw automerge') {
    let doc = A.from<AmDoc>({ text: '', cart: {} }, { actor: hex(index + 1) })
    const made: Uint8Array[] = []
    const r: Replica = {
      updateBytes: 0,
      splice: (pos, del, ins) => {
        doc = A.change(doc, (d) => A.splice(d, ['text'], pos, del, ins))
        const change = A.getLastLocalChange(doc)
        r.updateBytes += change?.length ?? 0
        if (change) made.push(change)
      },
      drain: () => made.splice(0),
      applyIncremental: (u) => {
        ;[doc] = A.applyChanges(doc, [u])
      },
      length: () => doc.text.length,
      cart: (i) => {
        const name = names[i % names.length]!
        doc = A.change(doc, (d) => {
          const it = d.cart[name]
          if (!it) d.cart[name] = { qty: 1, checked: false, note: '' }
          else if (i % 5 === 0) it.checked = true
          else if (i % 3 === 0) it.note = `note ${i}`
          else it.qty += 1
        })
        r.updateBytes += A.getLastLocalChange(doc)?.length ?? 0
      },
      encode: () => A.save(doc),
      apply: (u) => {
        doc = A.merge(doc, A.load<AmDoc>(u))
      },
      init: (u) => {
        doc = A.load<AmDoc>(u, { actor: hex(index + 1) })
      },
      setShared: (i) => {
        doc = A.change(doc, (d) => {
          d.cart.shared = { qty: i, checked: false, note: '' }
        })
        r.updateBytes += A.getLastLocalChange(doc)?.length ?? 0
      },
    }
    return r
  }
  const engine = v === 'merge/yjs' ? 'yjs' : 'automerge'
  const space: Space =
    index === 0
      ? createSpace({ engine, spaceId: 'bench', replicaId: hex(index + 1), name: 'bench', random })
      : openSpace({ engine, spaceId: 'bench', replicaId: hex(index + 1), random })
  const note = 'n'
  if (index === 0) space.createNote({ id: note, title: 'bench' })
  // the body length is tracked here rather than read with space.note(), which builds the whole note:
  // that would charge the benchmark's own bookkeeping to packages/merge
  let length = 0
  const r: Replica = {
    updateBytes: 0,
    splice: (pos, del, ins) => {
      space.editNote(note, pos, del, ins)
      length += ins.length - del
    },
    length: () => length,
    cart: (i) => {
      const name = names[i % names.length]!
      const it = space.item(name)
      if (!it) space.addItem(name)
      else if (i % 5 === 0) space.check(it.key, 'bench')
      else if (i % 3 === 0) space.setField(it.key, 'note', `note ${i}`)
      else space.increment(it.key)
    },
    encode: () => space.encodeStateAsUpdate(),
    apply: (u) => {
      space.applyUpdate(u, 'remote')
      length = space.note(note)?.body.length ?? 0
    },
    init: (u) => r.apply(u),
    drain: () => made.splice(0),
    applyIncremental: (u) => space.applyUpdate(u, 'remote'),
    setShared: (i) => {
      const it = space.item('shared') ?? (space.addItem('shared'), space.item('shared')!)
      space.setField(it.key, 'note', `value ${i}`)
    },
  }
  const made: Uint8Array[] = []
  space.onUpdate((u) => {
    r.updateBytes += u.length
    made.push(u)
  })
  return r
}

type Workload = (v: Variant) => Replica

/** B6's note length (characters) and remote keystrokes. */
const REMOTE_NOTE = { chars: 200_000, keystrokes: 20 }

function workloads(n: number, b4: number): Record<string, Workload> {
  // crdt-benchmarks' B3 uses 20·√N clients for map writes and √N for text; √N for both here (the time budget)
  const clients = Math.round(Math.sqrt(n))
  return {
    [`B1.1 append ${n} chars`]: (v) => {
      const r = replica(v, 0)
      for (let i = 0; i < n; i++) r.splice(i, 0, 'a')
      return r
    },
    [`B1.3 prepend ${n} chars`]: (v) => {
      const r = replica(v, 0)
      for (let i = 0; i < n; i++) r.splice(0, 0, 'a')
      return r
    },
    [`B1.4 insert ${n} chars at random positions`]: (v) => {
      rng = 7
      const r = replica(v, 0)
      for (let i = 0; i < n; i++) r.splice(Math.floor(random() * (i + 1)), 0, 'a')
      return r
    },
    [`B2.1 two users insert ${n} chars at random positions, then sync`]: (v) => {
      rng = 11
      const a = replica(v, 0)
      const b = replica(v, 1)
      b.init(a.encode()) // both start from the same document
      for (let i = 0; i < n / 2; i++) {
        a.splice(Math.floor(random() * (a.length() + 1)), 0, 'a')
        b.splice(Math.floor(random() * (b.length() + 1)), 0, 'b')
      }
      const ua = a.encode()
      a.apply(b.encode())
      b.apply(ua)
      return a
    },
    [`B3.1 ${clients} clients set one value concurrently, then sync`]: (v) => {
      const base = replica(v, 0)
      base.setShared(-1) // the value (and, on packages/merge, its cart item) exists before the others join
      const start = base.encode()
      const others = Array.from({ length: clients - 1 }, (_, i) => {
        const r = replica(v, i + 1)
        r.init(start)
        r.setShared(i)
        return r
      })
      for (const r of others) base.apply(r.encode())
      return base
    },
    [`B3.4 ${clients} clients insert text concurrently, then sync`]: (v) => {
      rng = 13
      const base = replica(v, 0)
      base.splice(0, 0, 'shared text')
      const start = base.encode()
      const others = Array.from({ length: clients - 1 }, (_, i) => {
        const r = replica(v, i + 1)
        r.init(start)
        r.splice(Math.floor(random() * 12), 0, String.fromCharCode(97 + (i % 26)))
        return r
      })
      for (const r of others) base.apply(r.encode())
      return base
    },
    [`B4 automerge-paper, ${b4.toLocaleString('en')} edits`]: (v) => {
      const r = replica(v, 0)
      const { patches } = loadTrace()
      for (let i = 0; i < b4; i++) {
        const p = patches[i]!
        r.splice(p[0], p[1], p[2])
      }
      return r
    },
    // the cost of one remote keystroke in a long note: does applying it grow with the document?
    [`B6 ${REMOTE_NOTE.keystrokes} remote keystrokes into a ${REMOTE_NOTE.chars.toLocaleString('en')}-character note (time of the applies)`]:
      (v) => {
        const a = replica(v, 0)
        a.splice(0, 0, 'x'.repeat(REMOTE_NOTE.chars))
        const b = replica(v, 1)
        b.init(a.encode())
        a.drain()
        let ms = 0
        for (let i = 0; i < REMOTE_NOTE.keystrokes; i++) {
          a.splice(REMOTE_NOTE.chars / 2 + i, 0, 'y')
          for (const u of a.drain()) {
            const t0 = performance.now()
            b.applyIncremental(u)
            ms += performance.now() - t0
          }
        }
        b.measuredMs = ms
        return b
      },
    'cart: 2,000 commands on 50 items': (v) => {
      const r = replica(v, 0)
      for (let i = 0; i < 2000; i++) r.cart(i)
      return r
    },
  }
}

function load(v: Variant, bytes: Uint8Array): void {
  if (v === 'raw yjs') Y.applyUpdate(new Y.Doc(), bytes)
  else if (v === 'raw automerge') A.load(bytes)
  else openSpace({ engine: v === 'merge/yjs' ? 'yjs' : 'automerge', spaceId: 'bench', state: bytes })
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

const [mode, variant, dir, nArg, b4Arg, repsArg, onlyArg] = process.argv.slice(2) as [
  string,
  Variant,
  string,
  string,
  string,
  string,
  string | undefined,
]
const n = Number(nArg)
const all = workloads(n, Number(b4Arg))
if (mode === 'list') process.stdout.write(`${JSON.stringify(Object.keys(all))}\n`)
else if (mode === 'run') {
  const out: Measured[] = []
  for (const [k, [name, w]] of Object.entries(all).entries()) {
    // one workload per process when asked: a long sequence in one process once hit a V8 deoptimizer
    // crash (Node 20, raw Automerge) that no workload shows on its own
    if (onlyArg !== undefined && k !== Number(onlyArg)) continue
    w(variant) // warm-up
    const ms: number[] = []
    let last: Replica | null = null
    let heap = 0
    for (let i = 0; i < Number(repsArg); i++) {
      gc()
      const h0 = process.memoryUsage().heapUsed
      const t0 = performance.now()
      last = w(variant)
      ms.push(last.measuredMs ?? performance.now() - t0)
      heap = (process.memoryUsage().heapUsed - h0) / 1e6
    }
    const t0 = performance.now()
    const doc = last!.encode()
    const encodeMs = performance.now() - t0
    writeFileSync(join(dir, `${variant.replace(/\W/g, '_')}-${k}.bin`), doc)
    out.push({
      workload: name,
      ms,
      updateBytes: last!.updateBytes,
      docBytes: doc.length,
      encodeMs,
      heapMB: heap,
    })
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
} else {
  const times: number[] = []
  for (const k of Object.keys(all).keys()) {
    const bytes = new Uint8Array(readFileSync(join(dir, `${variant.replace(/\W/g, '_')}-${k}.bin`)))
    const t0 = performance.now()
    load(variant, bytes)
    times.push(performance.now() - t0)
  }
  process.stdout.write(`${JSON.stringify(times)}\n`)
}
