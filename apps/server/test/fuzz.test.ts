import { encodeMessage } from '@converge/protocol'
import fc from 'fast-check'
import * as awarenessProtocol from 'y-protocols/awareness'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  RawClient,
  cleanup,
  connectSynced,
  createSpace,
  fetchDoc,
  startTestServer,
  until,
} from './helpers.js'

afterEach(cleanup)

/** Valid frames of every kind a client sends, to mutate. */
function validFrames(): Uint8Array[] {
  const doc = new Y.Doc()
  doc.getText('body:n1').insert(0, 'hello world')
  doc.getMap('notes').set('n1\u001ftitle', 'title')
  const sv = Y.encodeStateVector(doc)
  doc.getText('body:n1').delete(0, 5)
  const awareness = new awarenessProtocol.Awareness(doc)
  awareness.setLocalState({ user: { name: 'fuzz' } })
  const frames = [
    encodeMessage({ type: 'sync-step1', stateVector: sv }),
    encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc) }),
    encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, sv) }),
    encodeMessage({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]),
    }),
    encodeMessage({ type: 'query-awareness' }),
    encodeMessage({ type: 'hello', version: 1 }),
  ]
  awareness.destroy()
  return frames
}

const mutated = (frames: Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc
    .record({
      frame: fc.constantFrom(...frames),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      op: fc.constantFrom('flip', 'truncate', 'insert', 'append', 'drop'),
    })
    .map(({ frame, at, byte, op }) => {
      const i = frame.length === 0 ? 0 : at % frame.length
      const f = Array.from(frame)
      if (op === 'flip') f[i] = byte
      else if (op === 'truncate') f.length = i
      else if (op === 'insert') f.splice(i, 0, byte)
      else if (op === 'append') f.push(byte)
      else f.splice(i, 1)
      return new Uint8Array(f)
    })

describe('a hostile client', () => {
  it(
    'random and mutated frames never bring the server down or stop other clients',
    { timeout: 60_000 },
    async () => {
      // a hundred sockets from one address in seconds: the per-address connect rate (whose test is in
      // attacks.test.ts) would refuse them after its burst of 30, which is not what this test is about
      const server = await startTestServer({
        logLevel: 'silent',
        perIp: { connectsPerMinute: 0, connectBurst: 0 },
      })
      const space = await createSpace(server)
      const a = await connectSynced(server, space.id, space.writeToken)
      const b = await connectSynced(server, space.id, space.writeToken)
      const frames = validFrames()
      const frame = fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated(frames), fc.constantFrom(...frames))
      let expected = ''
      let run = 0

      await fc.assert(
        fc.asyncProperty(
          fc.array(frame, { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          async (hostile, early) => {
            const c = new RawClient(`${server.wsUrl}/${space.id}?token=${space.writeToken}`)
            await c.opened
            if (!early) await c.waitFor('sync-step1')
            for (const f of hostile) c.send(f)
            // a probe: answered if the socket survived, else the socket is closed
            c.send({ type: 'sync-step1', stateVector: new Uint8Array([0]) })
            await Promise.race([c.closed, c.waitFor('sync-step2').catch(() => undefined)])
            c.ws.terminate()
            // every few runs: the honest clients still sync
            if (++run % 10 === 0) {
              const marker = `<${run}>`
              a.text.insert(a.text.length, marker)
              expected = a.text.toJSON()
              await until(() => b.text.toJSON() === a.text.toJSON(), 'b to see a')
            }
          },
        ),
        { numRuns: 100, interruptAfterTimeLimit: 40_000 },
      )
      expect(a.provider.wsconnected && b.provider.wsconnected).toBe(true)
      expect(a.text.toJSON()).toContain(expected)
      const health = await fetch(`${server.url}/healthz`)
      expect(health.status).toBe(200)
      // what is stored still loads, after a restart too
      await server.close()
      const again = await startTestServer({ dataDir: server.config.dataDir })
      const stored = await fetchDoc(again, space.id, space.readToken)
      expect(stored.getText('body:n1').toJSON()).toContain(expected)
    },
  )
})
