import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  cleanup,
  connectClient,
  connectSynced,
  createSpace,
  fetchDoc,
  startTestServer,
  synced,
  until,
} from './helpers.js'

afterEach(cleanup)

describe('sync with stock y-websocket clients', () => {
  it('two clients converge', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken)
    const b = await connectSynced(server, space.id, space.writeToken)
    a.text.insert(0, 'hello')
    await until(() => b.text.toJSON() === 'hello', 'b to see a')
    b.text.insert(5, ' world')
    b.map.set('n1\u001ftitle', 'shopping')
    await until(
      () => a.text.toJSON() === 'hello world' && a.map.get('n1\u001ftitle') === 'shopping',
      'a to see b',
    )
    // concurrent edits
    a.text.insert(0, 'A')
    b.text.insert(0, 'B')
    await until(() => a.text.toJSON() === b.text.toJSON() && a.text.length === 13, 'convergence')
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc))
    // and it is stored
    await server.core.flushAll()
    const stored = await fetchDoc(server, space.id, space.readToken)
    expect(stored.getText('body:n1').toJSON()).toBe(a.text.toJSON())
  })

  it('an offline client edits, reconnects and merges', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken)
    const b = await connectSynced(server, space.id, space.writeToken)
    a.text.insert(0, 'milk')
    await until(() => b.text.toJSON() === 'milk', 'b to see milk')

    b.provider.disconnect()
    b.text.insert(4, ', eggs') // offline
    b.map.set('n2\u001ftitle', 'offline')
    a.text.insert(0, 'bread, ') // online, concurrently
    await until(() => a.text.toJSON() === 'bread, milk', 'a local edit')
    await new Promise((r) => setTimeout(r, 50))
    expect(b.text.toJSON()).toBe('milk, eggs')

    b.provider.connect()
    await synced(b)
    await until(() => a.text.toJSON() === 'bread, milk, eggs', 'a to merge the offline edit')
    await until(() => b.text.toJSON() === 'bread, milk, eggs', 'b to merge the online edit')
    expect(a.map.get('n2\u001ftitle')).toBe('offline')
  })

  it('relays awareness, and removes it when a socket closes', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken)
    const b = await connectSynced(server, space.id, space.writeToken)
    a.provider.awareness.setLocalStateField('user', { name: 'Ann' })
    b.provider.awareness.setLocalStateField('user', { name: 'Bob' })
    const bId = b.doc.clientID
    await until(() => a.provider.awareness.getStates().get(bId)?.user?.name === 'Bob', 'a to see Bob')
    await until(
      () => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'Ann',
      'b to see Ann',
    )
    // a third client that joins later is told the current presence
    const c = connectClient(server, space.id, space.readToken)
    await until(() => c.provider.awareness.getStates().size === 3, 'c to see everyone')

    // b's socket closes without b saying goodbye: the server removes b's presence
    b.provider.shouldConnect = false
    b.provider.ws?.close()
    await until(() => !a.provider.awareness.getStates().has(bId), 'a to see Bob leave')
    await until(() => !c.provider.awareness.getStates().has(bId), 'c to see Bob leave')
    expect(a.provider.awareness.getStates().has(a.doc.clientID)).toBe(true)
  })
})
