import { afterEach, describe, expect, it } from 'vitest'
import { encodeMessage } from '@converge/protocol'
import * as Y from 'yjs'
import {
  RawClient,
  cleanup,
  serverCloses,
  connectSynced,
  covers,
  fetchDoc,
  freePort,
  sign,
  spawnServer,
  tempDir,
  until,
} from './helpers.js'

afterEach(cleanup)

const SPACE = 'durability-space'

describe('durability of a server in a child process', () => {
  it('never loses an update acknowledged as durable, across 20 SIGKILLs', { timeout: 60_000 }, async () => {
    const dataDir = tempDir()
    const port = await freePort()
    const token = await sign(SPACE, 'write')
    const ITERATIONS = 20
    const PER_ITERATION = 5
    let server = await spawnServer(dataDir, port)
    const expected = new Map<string, number>()
    let losses = 0
    for (let i = 0; i < ITERATIONS; i++) {
      const client = await RawClient.open(server, SPACE, token)
      client.send({ type: 'hello', version: 1 })
      const doc = new Y.Doc()
      const notes = doc.getMap('notes')
      for (let j = 0; j < PER_ITERATION; j++) {
        const before = Y.encodeStateVector(doc)
        notes.set(`k${i}-${j}\u001fupdatedAt`, i * 100 + j)
        expected.set(`k${i}-${j}\u001fupdatedAt`, i * 100 + j)
        client.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
      }
      await client.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
      // the instant the ack arrives: kill -9
      server.child.kill('SIGKILL')
      await server.exited
      server = await spawnServer(dataDir, port)
      const stored = (await fetchDoc(server, SPACE, token)).getMap('notes')
      for (const [key, value] of expected) if (stored.get(key) !== value) losses++
    }
    expect(losses).toBe(0)
    expect(expected.size).toBe(ITERATIONS * PER_ITERATION)
  })

  it(
    '[COMMIT-5] an edit a joiner was shown survives a SIGKILL though its author is gone: 0 lost in 20 rounds',
    { timeout: 90_000 },
    async () => {
      const dataDir = tempDir()
      const port = await freePort()
      const writeToken = await sign(SPACE, 'write')
      const readToken = await sign(SPACE, 'read')
      const ROUNDS = 20
      let server = await spawnServer(dataDir, port)
      const shown = new Set<string>()
      let lost = 0
      for (let round = 0; round < ROUNDS; round++) {
        // the joiner is in, but has not asked yet; the author types and is gone for good
        const joiner = await RawClient.open(server, SPACE, readToken)
        await joiner.waitFor('sync-step1')
        const author = await RawClient.open(server, SPACE, writeToken)
        await author.waitFor('sync-step1')
        const doc = new Y.Doc()
        doc.getMap('notes').set(`r${round}\u001fupdatedAt`, round)
        author.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
        author.ws.terminate()
        // the joiner asks at once; whatever it is shown, it is shown — then the server dies
        joiner.send({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) })
        const answer = await joiner.waitFor('sync-step2')
        server.child.kill('SIGKILL')
        await server.exited
        const seen = new Y.Doc()
        Y.applyUpdate(seen, answer.update)
        for (const key of seen.getMap('notes').keys()) shown.add(key)
        server = await spawnServer(dataDir, port)
        const stored = (await fetchDoc(server, SPACE, writeToken)).getMap('notes')
        for (const key of shown) if (!stored.has(key)) lost++
      }
      expect(lost).toBe(0)
      expect(shown.size).toBeGreaterThan(0)
    },
  )

  it('SIGTERM commits everything, closes clients with 1001 and exits 0', { timeout: 30_000 }, async () => {
    const dataDir = tempDir()
    const port = await freePort()
    const token = await sign(SPACE, 'write')
    let server = await spawnServer(dataDir, port)
    const watcher = await connectSynced(server, SPACE, token)
    const closes = serverCloses(watcher)
    const raw = await RawClient.open(server, SPACE, token)
    await raw.waitFor('sync-step1')
    const doc = new Y.Doc()
    const text = doc.getText('body:n1')
    let written: Promise<void> = Promise.resolve()
    for (let i = 0; i < 200; i++) {
      const before = Y.encodeStateVector(doc)
      text.insert(text.length, `${i % 10}`)
      const frame = encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
      written = new Promise<void>((resolve) => raw.ws.send(frame, () => resolve()))
    }
    // terminate as soon as the frames are on the wire, without waiting for any ack
    await written
    server.child.kill('SIGTERM')
    const exit = await server.exited
    expect(exit.code).toBe(0)
    expect((await raw.closed).code).toBe(1001)
    await until(() => closes.includes(1001), 'the y-websocket client to be closed with 1001')
    watcher.provider.disconnect()

    server = await spawnServer(dataDir, port)
    const stored = await fetchDoc(server, SPACE, token)
    expect(stored.getText('body:n1').toJSON()).toBe(text.toJSON())
    expect(text.length).toBe(200)
  })
})
