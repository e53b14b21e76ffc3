/**
 * BAD-7 at the trust boundary: a writer with a valid token sends well-formed Yjs updates whose
 * *content* a space may not hold. Each is refused whole — a typed error to a client that said hello,
 * close 4400, a log line, a metric — and nothing of it is stored or relayed.
 */
import { CloseCode, ErrorKind, PROTOCOL_VERSION } from '@converge/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RawClient, cleanup, covers, createSpace, fetchDoc, startTestServer } from './helpers.js'

afterEach(cleanup)

const SEP = '\u001f'
/** Any replica's Yjs client id is FNV-1a of its replica id (what the validator checks counters against). */
const clientIdOf = (replicaId: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < replicaId.length; i++) h = Math.imul(h ^ replicaId.charCodeAt(i), 0x01000193)
  return h >>> 0
}
const ALICE = 'a11ce00000000001'
const MALLORY = '0a11041000000002'

describe('[BAD-7] nonsense values inside a valid update', () => {
  it('are refused whole with 4400 and a typed error; the stored space and other clients are untouched', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    // the creator's first change, as the app writes it: set-once meta, one line of milk
    const alice = await RawClient.open(server, space.id, space.writeToken)
    alice.send({ type: 'hello', version: PROTOCOL_VERSION })
    await alice.waitFor('sync-step1')
    const aliceDoc = new Y.Doc()
    aliceDoc.clientID = clientIdOf(ALICE)
    const write = (fn: () => void): void => {
      const before = Y.encodeStateVector(aliceDoc)
      aliceDoc.transact(fn)
      alice.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(aliceDoc, before) })
    }
    write(() => {
      const meta = aliceDoc.getMap('meta')
      meta.set('schema', 1)
      meta.set('id', space.id)
      meta.set('createdAt', 1_700_000_000_000)
      aliceDoc.getMap('items').set(`milk${SEP}name`, 'Milk')
      aliceDoc.getMap('qty').set(`milk${SEP}${ALICE}${SEP}1.${ALICE}`, '2:0')
    })
    await alice.waitFor('durable-ack', (m) => covers(m.stateVector, aliceDoc))
    const storedValue = async (map: string, key: string) =>
      (await fetchDoc(server, space.id, space.writeToken)).getMap(map).get(key)
    const stored = Y.encodeStateAsUpdate(await fetchDoc(server, space.id, space.writeToken))
    const framesBefore = alice.frames.length

    const life = `1.${ALICE}`
    const attacks: [string, (doc: Y.Doc) => void][] = [
      ['meta.schema raised (locks the space read-only)', (d) => d.getMap('meta').set('schema', 99)],
      ['meta.createdAt deleted', (d) => d.getMap('meta').delete('createdAt')],
      ['a note time of 1e300 (blanks the app)', (d) => d.getMap('notes').set(`n1${SEP}createdAt`, 1e300)],
      ['a negative price', (d) => d.getMap('items').set(`milk${SEP}priceCents`, -100)],
      ['a name of 5,000 characters', (d) => d.getMap('items').set(`milk${SEP}note`, 'x'.repeat(5000))],
      ["someone else's counter", (d) => d.getMap('qty').set(`milk${SEP}${ALICE}${SEP}${life}`, '0:2')],
      ['an unknown root key', (d) => d.getMap('items').set('milk', 'no field')],
    ]
    for (const [what, attack] of attacks) {
      const mallory = await RawClient.open(server, space.id, space.writeToken)
      mallory.send({ type: 'hello', version: PROTOCOL_VERSION })
      await mallory.waitFor('sync-step1')
      const doc = await fetchDoc(server, space.id, space.writeToken)
      doc.clientID = clientIdOf(MALLORY)
      const before = Y.encodeStateVector(doc)
      attack(doc)
      mallory.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
      const closed = await mallory.waitClosed()
      expect(closed.code, what).toBe(CloseCode.MalformedFrame)
      const error = await mallory.waitFor('error')
      expect(error.kind, what).toBe(ErrorKind.InvalidUpdate)
      expect(error.message, what).toMatch(/InvalidValue/)
    }

    // nothing was stored, and nothing reached the creator
    await server.core.flushAll()
    const after = await fetchDoc(server, space.id, space.writeToken)
    expect(Y.encodeStateAsUpdate(after)).toEqual(stored)
    expect(alice.messages.slice(framesBefore).filter((m) => m.type === 'sync-update')).toEqual([])
    // the creator's own writes still go through
    write(() => aliceDoc.getMap('items').set(`milk${SEP}note`, 'oat'))
    await alice.waitFor('durable-ack', (m) => covers(m.stateVector, aliceDoc))
    expect(await storedValue('items', `milk${SEP}note`)).toBe('oat')
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(
      new RegExp(`converge_rejections_total\\{reason="InvalidUpdate"\\} ${attacks.length}`),
    )
  })
})

describe('[BAD-7] a counter is never deleted, also in a room fresh from storage', () => {
  it("a writer that deletes someone else's counter beside a write of its own is refused, and the line stays", async () => {
    // the room's maps are not read before the first update is checked: the check must see them all the same
    const first = await startTestServer()
    const space = await createSpace(first)
    const alice = await RawClient.open(first, space.id, space.writeToken)
    alice.send({ type: 'hello', version: PROTOCOL_VERSION })
    await alice.waitFor('sync-step1')
    const aliceDoc = new Y.Doc()
    aliceDoc.clientID = clientIdOf(ALICE)
    const before = Y.encodeStateVector(aliceDoc)
    const life = `1.${ALICE}`
    const aliceCounter = `milk${SEP}${ALICE}${SEP}${life}`
    aliceDoc.transact(() => {
      const meta = aliceDoc.getMap('meta')
      meta.set('schema', 1)
      meta.set('id', space.id)
      meta.set('createdAt', 1_700_000_000_000)
      aliceDoc.getMap('items').set(`milk${SEP}name`, 'Milk')
      aliceDoc.getMap('qty').set(aliceCounter, '2:0')
    })
    alice.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(aliceDoc, before) })
    await alice.waitFor('durable-ack', (m) => covers(m.stateVector, aliceDoc))
    alice.ws.close()
    await first.close()

    const server = await startTestServer({ dataDir: first.config.dataDir })
    const mallory = await RawClient.open(server, space.id, space.writeToken)
    mallory.send({ type: 'hello', version: PROTOCOL_VERSION })
    await mallory.waitFor('sync-step1')
    const doc = await fetchDoc(server, space.id, space.writeToken)
    const stored = Y.encodeStateAsUpdate(doc)
    doc.clientID = clientIdOf(MALLORY)
    const sv = Y.encodeStateVector(doc)
    // a rename (placed after the stored name: the check looks up where that lives), a counter of its
    // own (a write the check reads the counters for) and the deletion of Alice's
    doc.transact(() => {
      doc.getMap('items').set(`milk${SEP}name`, 'Milk!')
      doc.getMap('qty').set(`milk${SEP}${MALLORY}${SEP}${life}`, '1:0')
      doc.getMap('qty').delete(aliceCounter)
    })
    mallory.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, sv) })
    expect((await mallory.waitClosed()).code).toBe(CloseCode.MalformedFrame)
    const error = await mallory.waitFor('error')
    expect(error.kind).toBe(ErrorKind.InvalidUpdate)
    expect(error.message).toMatch(/InvalidValue/)
    await server.core.flushAll()
    const after = await fetchDoc(server, space.id, space.writeToken)
    expect(Y.encodeStateAsUpdate(after)).toEqual(stored)
    expect(after.getMap('qty').get(aliceCounter)).toBe('2:0')
  })
})
