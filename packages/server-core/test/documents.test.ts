/**
 * The document port's engines on their own (SPEC.md DOC-1…DOC-5): what a room reads of an update and
 * a vector, what a trusted update that arrives before what it builds on does, and how stored records
 * out of causal order load.
 */
import { type EngineKind, Origin, createSpace, loadEngine, openSpace } from '@converge/merge'
import { Origin as O } from '@converge/merge/validate'
import { beforeAll, describe, expect, it } from 'vitest'
import { AutomergeDocument, MAX_WAITING_UPDATES } from '../src/automerge-document.js'
import { type SpaceDocument, openDocument } from '../src/document.js'
import { YjsDocument } from '../src/yjs-document.js'

beforeAll(() => loadEngine('automerge'))

const SPACE = 'space-1'

/** Three updates of one writer, each building on the one before. */
const chain = (engine: EngineKind): Uint8Array[] => {
  const s = createSpace({ engine, spaceId: SPACE })
  const out = [s.encodeStateAsUpdate()]
  for (const name of ['milk', 'eggs']) {
    const before = s.stateVector()
    s.addItem(name)
    out.push(s.encodeStateAsUpdate(before))
  }
  return out
}

/** The names of the cart's lines the document holds (Yjs: read from the Y.Doc, whose encoding also carries what waits). */
const names = (doc: SpaceDocument, engine: EngineKind): string[] => {
  if (doc instanceof YjsDocument)
    return [...doc.doc.getMap('items').entries()]
      .filter(([k]) => k.endsWith('\u001fname'))
      .map(([, v]) => String(v))
  const s = openSpace({ engine, spaceId: SPACE })
  s.applyUpdate(doc.diff(), Origin.Server)
  return s.items().map((i) => i.name)
}

describe.each(['yjs', 'automerge'] as const)('%s document', (engine) => {
  it("[DOC-1] a writer's clock grows with its changes, and the ranges of an update say which it holds", async () => {
    const doc = await openDocument(engine, SPACE)
    const [first, second] = chain(engine)
    doc.load([first!], O.Load)
    const writer = [...doc.rangesOf(second!).to.keys()].find((w) => doc.clock(w) > 0)!
    const { from, to } = doc.rangesOf(second!)
    expect(from.get(writer)).toBe(doc.clock(writer))
    doc.applyTrusted(second!, O.FanOut)
    expect(doc.clock(writer)).toBe(to.get(writer))
    // the document's vector, read back, says the same
    expect(doc.decodeVector(doc.stateVector()).get(writer)).toBe(to.get(writer))
    expect(doc.isEmpty(doc.diff(doc.stateVector()))).toBe(true)
  })

  it('[DOC-3] stored records out of causal order load whole; one that does not decode is reported and skipped', async () => {
    const doc = await openDocument(engine, SPACE)
    const [a, b, c] = chain(engine)
    const corrupt = doc.load([c!, new Uint8Array([0xff, 0xff, 0xff]), b!, a!], O.Load)
    expect(corrupt.map((x) => x.index)).toEqual([1])
    expect(names(doc, engine).sort()).toEqual(['eggs', 'milk'])
  })

  it('[DOC-3] records that load only together (each holds a change the other builds on) load whole', async () => {
    // two writers, each adding a line, then each another on top of both: a change of each writer goes
    // in each record, as when a device that failed over sends what a dead instance never committed
    const a = createSpace({ engine, spaceId: SPACE })
    const created = a.encodeStateAsUpdate()
    const b = openSpace({ engine, spaceId: SPACE, state: created })
    const edit = (s: typeof a, name: string): Uint8Array => {
      const before = s.stateVector()
      s.addItem(name)
      return s.encodeStateAsUpdate(before)
    }
    const [a1, b1] = [edit(a, 'milk'), edit(b, 'eggs')]
    a.applyUpdate(b1, Origin.Server)
    b.applyUpdate(a1, Origin.Server)
    const [a2, b2] = [edit(a, 'tea'), edit(b, 'jam')]
    const doc = await openDocument(engine, SPACE)
    const join = await openDocument(engine, SPACE)
    const corrupt = doc.load([created, join.merge([b1, a2]), join.merge([a1, b2])], O.Load)
    expect(corrupt).toEqual([])
    expect(names(doc, engine).sort()).toEqual(['eggs', 'jam', 'milk', 'tea'])
  })

  it('[DOC-3] a trusted update that arrives before what it builds on is applied once that arrives', async () => {
    const doc = await openDocument(engine, SPACE)
    const [a, b, c] = chain(engine)
    const seen: unknown[] = []
    doc.onChange((_change, origin) => seen.push(origin))
    doc.applyTrusted(a!, O.FanOut)
    doc.applyTrusted(c!, O.FanOut)
    expect(names(doc, engine)).toEqual([])
    doc.applyTrusted(b!, O.FanOut)
    expect(names(doc, engine).sort()).toEqual(['eggs', 'milk'])
    expect(seen.every((o) => o === O.FanOut)).toBe(true)
  })

  it("[DOC-4] a turn's updates joined into one hold all of them", async () => {
    const doc = await openDocument(engine, SPACE)
    const joined = doc.merge(chain(engine))
    doc.applyTrusted(joined, O.FanOut)
    expect(names(doc, engine).sort()).toEqual(['eggs', 'milk'])
  })
})

describe.each(['yjs', 'automerge'] as const)('%s snapshot', (engine) => {
  it('[DOC-5] a snapshot loads back the same document, alone or with the log after it, and as a trusted update', async () => {
    const doc = await openDocument(engine, SPACE)
    const [a, b, c] = chain(engine)
    doc.load([a!, b!], O.Load)
    const snapshot = doc.snapshot()
    for (const records of [[snapshot], [snapshot, c!]]) {
      const again = await openDocument(engine, SPACE)
      expect(again.load(records, O.Load)).toEqual([])
      expect(names(again, engine).sort()).toEqual(records.length === 1 ? ['milk'] : ['eggs', 'milk'])
    }
    const trusted = await openDocument(engine, SPACE)
    trusted.applyTrusted(snapshot, O.CatchUp)
    expect(trusted.stateVector()).toEqual(doc.stateVector())
  })
})

describe('Automerge document', () => {
  it('[DOC-5] its snapshot is the saved document: a note typed key by key takes a fraction of its change list', async () => {
    const doc = await openDocument('automerge', SPACE)
    const s = createSpace({ engine: 'automerge', spaceId: SPACE })
    const note = s.createNote({ title: 'Paper' })
    const text = 'the quick brown fox jumps over the lazy dog '.repeat(25)
    for (let i = 0; i < text.length; i++) s.editNote(note, i, 0, text[i]!)
    doc.load([s.encodeStateAsUpdate()], O.Load)
    const changes = doc.diff().length
    const snapshot = doc.snapshot()
    // 1,100 keystrokes: about 100 bytes each as changes, a few as a saved document
    expect(snapshot.length).toBeLessThan(changes / 10)
    const again = await openDocument('automerge', SPACE)
    expect(again.load([snapshot], O.Load)).toEqual([])
    const back = openSpace({ engine: 'automerge', spaceId: SPACE })
    back.applyUpdate(again.diff(), Origin.Server)
    expect(back.note(note)?.body).toBe(text)
  })

  it('[DOC-5] a snapshot that does not load is reported as corrupt, and the rest of the records load', async () => {
    const doc = await openDocument('automerge', SPACE)
    const [a, b, c] = chain('automerge')
    const good = await openDocument('automerge', SPACE)
    good.load([a!, b!], O.Load)
    const damaged = good.snapshot().slice()
    damaged[damaged.length - 3]! ^= 0xff
    const corrupt = doc.load([damaged, a!, b!, c!], O.Load)
    expect(corrupt.map((x) => x.index)).toEqual([0])
    expect(names(doc, 'automerge').sort()).toEqual(['eggs', 'milk'])
  })

  it(`[DOC-3] at most so many trusted updates wait (${MAX_WAITING_UPDATES} on a server); past that the oldest is dropped`, () => {
    const max = 8
    const doc = new AutomergeDocument(SPACE, max)
    const s = createSpace({ engine: 'automerge', spaceId: SPACE })
    const first = s.encodeStateAsUpdate()
    const later: Uint8Array[] = []
    for (let i = 0; i <= max; i++) {
      const before = s.stateVector()
      s.addItem(`item ${i}`)
      later.push(s.encodeStateAsUpdate(before))
    }
    for (const u of later) doc.applyTrusted(u, O.FanOut) // all wait: the first change is missing
    doc.applyTrusted(first, O.FanOut)
    // the oldest waiting one was dropped, so nothing after it could apply: the link's resync repairs
    expect(names(doc, 'automerge')).toEqual([])
    doc.applyTrusted(later[0]!, O.FanOut)
    expect(names(doc, 'automerge').length).toBe(max + 1)
  })
})
