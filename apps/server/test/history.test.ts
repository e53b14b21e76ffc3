/**
 * Version history over the real server (SPEC.md HISTORY-HTTP-1…3, PROTOCOL.md §P11): after a burst
 * of changes the server keeps a version, lists it, hands it out whole; a device restores it as a new
 * change (merge RESTORE-1…6) and a device that was offline meanwhile merges with it by the normal
 * rules. Devices are merge `Space`s on real WebSockets, on both engines.
 */
import { type EngineKind, type Space, createSpace, loadEngine, openSpace } from '@converge/merge'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { SpaceDevice, cleanup, startTestServer, until } from './helpers.js'

afterEach(cleanup)
beforeAll(() => loadEngine('automerge'))

interface Listed {
  id: number
  at: number
  changes: number
  authors: string[]
  bytes: number
}

const QUIET_MS = 300

const created = async (server: { url: string }, engine: EngineKind) => {
  const res = await fetch(`${server.url}/api/spaces`, { method: 'POST', body: JSON.stringify({ engine }) })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; writeToken: string; readToken: string }
}

const list = async (server: { url: string }, id: string, token: string | null): Promise<Response> =>
  fetch(`${server.url}/api/spaces/${id}/versions`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  })

const versions = async (server: { url: string }, id: string, token: string): Promise<Listed[]> => {
  const res = await list(server, id, token)
  expect(res.status).toBe(200)
  return ((await res.json()) as { versions: Listed[] }).versions
}

/** Waits until the server lists `n` versions of the space. */
async function untilVersions(
  server: { url: string },
  id: string,
  token: string,
  n: number,
): Promise<Listed[]> {
  let got: Listed[] = []
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    got = await versions(server, id, token)
    if (got.length >= n) return got
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the server listed ${got.length} versions, not ${n}`)
}

/** A version, opened read-only as the app opens it. */
async function opened(server: { url: string }, id: string, n: number, token: string): Promise<Space> {
  const res = await fetch(`${server.url}/api/spaces/${id}/versions/${n}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { engine: EngineKind; state: string }
  return openSpace({
    engine: body.engine,
    spaceId: id,
    state: Buffer.from(body.state, 'base64'),
    readOnly: true,
  })
}

/** Says who this device's person is, as the app's presence does (an awareness state of its own). */
function present(d: SpaceDevice, name: string): void {
  const awareness = new Awareness(new Y.Doc())
  awareness.setLocalState({ user: { name, color: '#4f46e5' } })
  d.client.send({ type: 'awareness', update: encodeAwarenessUpdate(awareness, [awareness.clientID]) })
}

const names = (s: Space): string[] => s.items().map((i) => i.name)

describe.each(['yjs', 'automerge'] as const)('version history of a %s space', (engine) => {
  it('[HISTORY-HTTP-1] a burst of changes becomes a version, listed with who and how many, and handed out whole', async () => {
    const server = await startTestServer({ history: { ...historyOn, quietMs: QUIET_MS } })
    const s = await created(server, engine)
    const a = await SpaceDevice.open(
      server,
      createSpace({ engine, spaceId: s.id, name: 'Home' }),
      s.writeToken,
    )
    present(a, 'Sam')
    a.space.addItem('Milk', { quantity: 2 })
    a.space.addItem('Bread')
    await until(() => a.saved, 'saved')
    const [v] = await untilVersions(server, s.id, s.readToken, 1)
    expect(v!.authors).toEqual(['Sam'])
    expect(v!.changes).toBeGreaterThanOrEqual(1)
    expect(v!.bytes).toBeGreaterThan(0)
    const old = await opened(server, s.id, v!.id, s.readToken)
    expect(names(old)).toEqual(['Milk', 'Bread'])
    expect(old.item('milk')?.quantity).toBe(2)
    old.destroy()
  })

  it('[HISTORY-HTTP-2] yesterday’s list restored as a new change; a device offline meanwhile keeps what it added', async () => {
    const server = await startTestServer({ history: { ...historyOn, quietMs: QUIET_MS } })
    const s = await created(server, engine)
    const a = await SpaceDevice.open(
      server,
      createSpace({ engine, spaceId: s.id, name: 'Home' }),
      s.writeToken,
    )
    present(a, 'Sam')
    a.space.addItem('Milk')
    a.space.addItem('Bread')
    await until(() => a.saved, 'saved')
    const [first] = await untilVersions(server, s.id, s.readToken, 1)

    // Bob has the list, then goes offline and adds Jam
    const bobSpace = openSpace({ engine, spaceId: s.id })
    const b = await SpaceDevice.open(server, bobSpace, s.writeToken)
    await until(() => b.answered && names(b.space).length === 2, 'Bob has the list')
    b.close()
    b.space.addItem('Jam')

    // the list changes: Milk goes, Eggs come — a second version
    a.space.removeItem('milk')
    a.space.addItem('Eggs')
    await until(() => a.saved, 'saved')
    await untilVersions(server, s.id, s.readToken, 2)
    expect(names(a.space)).toEqual(['Bread', 'Eggs'])

    // Sam brings back the first version: a change of his device, synced like any edit
    const old = await opened(server, s.id, first!.id, s.readToken)
    const summary = a.space.restoreFrom(old)
    old.destroy()
    expect(summary).toMatchObject({ added: 1, removed: 1 })
    expect(names(a.space)).toEqual(['Milk', 'Bread'])
    await until(() => a.saved, 'the restore is saved')

    // Bob comes back: his Jam stays, the restore reaches him
    const back = await SpaceDevice.open(server, b.space, s.writeToken)
    await until(() => back.saved && names(back.space).includes('Milk'), 'Bob is back in step')
    await until(() => names(a.space).includes('Jam'), 'Jam reaches Sam')
    expect(names(back.space).sort()).toEqual(['Bread', 'Jam', 'Milk'])
    expect(names(a.space).sort()).toEqual(['Bread', 'Jam', 'Milk'])
    // and undo on Sam's device takes back the restore alone
    a.space.undo()
    expect(names(a.space).sort()).toEqual(['Bread', 'Eggs', 'Jam'])
  })
})

const historyOn = {
  enabled: true,
  quietMs: 60_000,
  maxIntervalMs: 600_000,
  keepAllMs: 24 * 3_600_000,
  keepDays: 30,
  maxVersions: 200,
}

describe('reading versions: refusals', () => {
  it('[HISTORY-HTTP-3] no token 401, a read-only token reads, an unknown version 404, another space’s 404, history off lists none', async () => {
    const server = await startTestServer({ history: { ...historyOn, quietMs: QUIET_MS } })
    const s = await created(server, 'yjs')
    const other = await created(server, 'yjs')
    const a = await SpaceDevice.open(
      server,
      createSpace({ engine: 'yjs', spaceId: s.id, name: 'Home' }),
      s.writeToken,
    )
    a.space.addItem('Milk')
    await until(() => a.saved, 'saved')
    const [v] = await untilVersions(server, s.id, s.readToken, 1)
    expect((await list(server, s.id, null)).status).toBe(401)
    expect((await list(server, s.id, other.readToken)).status).toBe(403)
    const get = (id: string, n: number | string, token: string) =>
      fetch(`${server.url}/api/spaces/${id}/versions/${n}`, { headers: { authorization: `Bearer ${token}` } })
    expect((await get(s.id, v!.id, s.readToken)).status).toBe(200)
    expect((await get(s.id, v!.id + 1000, s.readToken)).status).toBe(404)
    expect((await get(other.id, v!.id, other.readToken)).status).toBe(404)
    expect((await get(s.id, 'x', s.readToken)).status).toBe(404)
    const post = await fetch(`${server.url}/api/spaces/${s.id}/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.writeToken}` },
    })
    expect(post.status).toBe(405)
    expect(server.logs.some((l) => l.includes('"reading versions: refused"'))).toBe(true)

    const off = await startTestServer({
      history: { ...historyOn, enabled: false },
      limits: { idleUnloadMs: 200 },
    })
    const t = await created(off, 'yjs')
    const c = await SpaceDevice.open(
      off,
      createSpace({ engine: 'yjs', spaceId: t.id, name: 'Off' }),
      t.writeToken,
    )
    c.space.addItem('Milk')
    await until(() => c.saved, 'saved')
    c.close()
    // nothing is kept even once the space is unloaded
    await until(() => off.core.loadedSpaces === 0, 'unloaded', 15_000)
    expect(await versions(off, t.id, t.readToken)).toEqual([])
  })
})
