/**
 * The HTTP read model over the real server (SPEC.md READ-4…READ-8, PROTOCOL.md §P9): GET
 * /api/spaces/<id> returns the cart, notes and totals with an ETag; `?after=<version>` reads one's
 * own write; every bad input gets its status and a log line. Devices are merge `Space`s on real
 * WebSockets, on both engines.
 */
import { type EngineKind, createSpace, loadEngine, openSpace } from '@converge/merge'
import { decodeVersionVector, encodeVersionVector } from '@converge/merge/validate'
import { versionToken } from '@converge/sync-client'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SpaceDevice, cleanup, startTestServer, until } from './helpers.js'

afterEach(cleanup)
beforeAll(() => loadEngine('automerge'))

interface View {
  id: string
  engine: string
  name: string
  version: string
  cart: { key: string; name: string; quantity: number; priceCents: number | null; checked: boolean }[]
  totals: { lines: number; units: number; checkedLines: number; priceCents: number; unpricedLines: number }
  notes: { id: string; title: string; body: string; pinned: boolean }[]
}

const get = (
  server: { url: string },
  id: string,
  token: string | null,
  headers: Record<string, string> = {},
  query = '',
) =>
  fetch(`${server.url}/api/spaces/${id}${query}`, {
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
  })

const created = async (server: { url: string }, engine: EngineKind) => {
  const res = await fetch(`${server.url}/api/spaces`, { method: 'POST', body: JSON.stringify({ engine }) })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; writeToken: string; readToken: string }
}

describe.each(['yjs', 'automerge'] as const)('reading a %s space over HTTP', (engine) => {
  it('[READ-4] the cart, notes and totals as JSON for a read or a write token; [READ-5] its ETag answers 304 until the space changes', async () => {
    const server = await startTestServer()
    const s = await created(server, engine)
    const a = await SpaceDevice.open(
      server,
      createSpace({ engine, spaceId: s.id, name: 'Kitchen' }),
      s.writeToken,
    )
    a.space.addItem('Milk', { quantity: 2, fields: { priceCents: 129 } })
    a.space.addItem('Bread')
    a.space.check(a.space.item('bread')!.key, 'Sam')
    const note = a.space.createNote({ title: 'Party', body: 'crisps' })
    await until(() => a.saved, 'saved')

    for (const token of [s.readToken, s.writeToken]) {
      const res = await get(server, s.id, token)
      expect(res.status).toBe(200)
      const view = (await res.json()) as View
      expect(view).toMatchObject({ id: s.id, engine, name: 'Kitchen' })
      expect(view.cart.map((l) => [l.name, l.quantity, l.priceCents, l.checked])).toEqual([
        ['Milk', 2, 129, false],
        ['Bread', 1, null, true],
      ])
      expect(view.totals).toEqual({ lines: 2, units: 3, checkedLines: 1, priceCents: 258, unpricedLines: 1 })
      expect(view.notes).toEqual([expect.objectContaining({ id: note, title: 'Party', body: 'crisps' })])
      expect(res.headers.get('converge-version')).toBe(view.version)
      expect(view.version).toBe(versionToken(a.ack!))
    }

    const first = await get(server, s.id, s.readToken)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    const again = await get(server, s.id, s.readToken, { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    a.space.increment(a.space.item('milk')!.key)
    await until(() => a.saved, 'saved again')
    const changed = await get(server, s.id, s.readToken, { 'if-none-match': etag })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(etag)
    expect(((await changed.json()) as View).totals.units).toBe(4)
  })

  it('[READ-6] ?after=<the writer’s version>, sent right after a write, reads that write, under a stream of others’ writes', async () => {
    const server = await startTestServer()
    const s = await created(server, engine)
    const a = await SpaceDevice.open(server, createSpace({ engine, spaceId: s.id }), s.writeToken)
    const b = await SpaceDevice.open(server, openSpace({ engine, spaceId: s.id }), s.writeToken)
    await until(() => a.saved && b.saved, 'both joined')
    let typing = true
    const other = (async () => {
      for (let i = 0; typing; i++) {
        b.space.addItem(`b-${i}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    try {
      for (let i = 0; i < 10; i++) {
        // read at once, the write still on its way: `after` is the writer's own version vector
        a.space.addItem(`mine-${i}`)
        const res = await get(server, s.id, s.readToken, {}, `?after=${versionToken(a.space.stateVector())}`)
        expect(res.status).toBe(200)
        const view = (await res.json()) as View
        expect(view.cart.map((l) => l.name)).toContain(`mine-${i}`)
      }
    } finally {
      typing = false
      await other
    }
  })
})

describe('reading over HTTP: refusals', () => {
  it('[READ-7] no token 401, a token of another space 403, a forged one 401, a write on the read path 405 — each logged; a burst past READS_PER_MINUTE_PER_IP 429 with Retry-After', async () => {
    const server = await startTestServer({ perIp: { readsPerMinute: 60, readsBurst: 8 } })
    const s = await created(server, 'yjs')
    const other = await created(server, 'yjs')
    expect((await get(server, s.id, null)).status).toBe(401)
    expect((await get(server, s.id, other.readToken)).status).toBe(403)
    expect((await get(server, s.id, `${s.readToken.slice(0, -4)}AAAA`)).status).toBe(401)
    const post = await fetch(`${server.url}/api/spaces/${s.id}`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(server.logs.join('')).toMatch(/"kind":"Forbidden".*read refused/)
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) statuses.push((await get(server, s.id, s.readToken)).status)
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThan(0)
    const limited = await get(server, s.id, s.readToken)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(server.logs.join('')).toMatch(/read refused: too many from this address/)
  })

  it('[READ-8] an after= that is not a version is 400 at once; one never committed waits READ_AFTER_MAX_MS and is 503 with Retry-After and the version committed', async () => {
    const server = await startTestServer({ readAfterMaxMs: 300 })
    const s = await created(server, 'automerge')
    const a = await SpaceDevice.open(
      server,
      createSpace({ engine: 'automerge', spaceId: s.id }),
      s.writeToken,
    )
    a.space.addItem('tea')
    await until(() => a.saved, 'saved')
    expect((await get(server, s.id, s.readToken, {}, '?after=not%20a%20token')).status).toBe(400)
    expect((await get(server, s.id, s.readToken, {}, '?after=__8')).status).toBe(400)
    // a version ahead of anything committed: an actor of the space at a number it never reached
    const ahead = a.space.stateVector()
    const started = Date.now()
    const bumped = decodeVersionVector(ahead)
    for (const [actor, seq] of bumped) bumped.set(actor, seq + 100)
    const res = await get(
      server,
      s.id,
      s.readToken,
      {},
      `?after=${versionToken(encodeVersionVector(bumped))}`,
    )
    expect(res.status).toBe(503)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(((await res.json()) as { version: string }).version).toBe(versionToken(a.ack!))
  })
})
