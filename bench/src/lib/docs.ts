/** The documents the server sections load: a ~1 KB cart, the automerge-paper text, a join document. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSpace } from '@converge/merge'
import * as Y from 'yjs'
import { BENCH_DIR } from './paths.js'
import { loadTrace } from './trace.js'

let seed = 1
const random = (): number => {
  // xorshift: reproducible documents
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 2 ** 32
}

const GROCERIES = [
  'Milk',
  'Bread',
  'Eggs',
  'Butter',
  'Apples',
  'Coffee',
  'Rice',
  'Pasta',
  'Tomatoes',
  'Cheese',
]

/** A small cart space as a Yjs update (about 1 KB), through packages/merge like the app writes it. */
export function smallCart(spaceId: string): Uint8Array {
  const space = createSpace({ engine: 'yjs', spaceId, name: 'Groceries', random })
  for (const [i, name] of GROCERIES.slice(0, 6).entries())
    space.addItem(name, { quantity: 1 + (i % 3), fields: { unit: 'pcs', category: 'food' } })
  const update = space.encodeStateAsUpdate()
  space.destroy()
  return update
}

/** The whole automerge-paper trace typed into a note body (`body:paper`) of a Yjs document. */
export function paperDoc(): Y.Doc {
  const doc = new Y.Doc()
  const text = doc.getText('body:paper')
  const { patches } = loadTrace()
  doc.transact(() => {
    for (const [pos, del, ins] of patches) {
      if (del > 0) text.delete(pos, del)
      if (ins) text.insert(pos, ins)
    }
  })
  return doc
}

/** 20,000 cart updates made through packages/merge (adds, increments, checks, removes), as one update. */
export function cartHistory(spaceId: string, updates: number): Uint8Array {
  const space = createSpace({ engine: 'yjs', spaceId, name: 'Big shop', random })
  let done = 0
  space.onUpdate(() => done++)
  const names = Array.from({ length: 200 }, (_, i) => `item ${i}`)
  for (let i = 0; done < updates; i++) {
    const name = names[i % names.length]!
    const it = space.item(name)
    if (!it) space.addItem(name)
    else if (i % 7 === 0) space.removeItem(it.key)
    else if (i % 5 === 0) space.check(it.key, 'bench')
    else if (i % 3 === 0) space.setField(it.key, 'note', `note ${i}`)
    else space.increment(it.key)
  }
  const update = space.encodeStateAsUpdate()
  space.destroy()
  return update
}

/** Cached across runs in bench/.cache (building the cart history takes seconds). */
export function cached(name: string, build: () => Uint8Array): Uint8Array {
  const dir = join(BENCH_DIR, '.cache')
  const file = join(dir, `${name}.bin`)
  if (existsSync(file)) return new Uint8Array(readFileSync(file))
  const bytes = build()
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, bytes)
  return bytes
}

/** The join section's document: automerge-paper in a note body plus 20,000 cart updates, as one update. */
export function cachedJoinDoc(): Uint8Array {
  return cached('join-v1', () => {
    const doc = paperDoc()
    Y.applyUpdate(doc, cartHistory('join-space', 20_000))
    return Y.encodeStateAsUpdate(doc)
  })
}
