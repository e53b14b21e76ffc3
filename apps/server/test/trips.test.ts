/**
 * Finishing a shopping trip over the real server (SPEC.md TRIPS-1…TRIPS-7, PROTOCOL.md §P10): the
 * saga records the trip once in SQLite and removes exactly its bought lines from the space, however
 * many phones press "Done", and a failure or a SIGKILL between its steps never leaves it half-done.
 * Devices are merge `Space`s on real WebSockets, on both engines.
 */
import { type EngineKind, createSpace, loadEngine, openSpace } from '@converge/merge'
import { versionToken } from '@converge/sync-client'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  SpaceDevice,
  cleanup,
  freePort,
  sign,
  spawnServer,
  startTestServer,
  tempDir,
  until,
} from './helpers.js'

afterEach(cleanup)
beforeAll(() => loadEngine('automerge'))

interface TripBody {
  id: string
  status: 'pending' | 'complete' | 'void'
  finishedBy: string
  lines: {
    key: string
    name: string
    quantity: number
    priceCents: number | null
    checkedBy: string | null
  }[]
  totalCents: number
  unpricedLines: number
  baseVersion: string
  completedVersion: string | null
  voidReason: string | null
}

let keys = 0
const newKey = (): string => `key-${process.pid}-${++keys}-${Math.random().toString(36).slice(2)}`

const finish = (
  server: { url: string },
  id: string,
  token: string | null,
  o: { key?: string | null; ifMatch?: string | null; by?: string } = {},
) =>
  fetch(`${server.url}/api/spaces/${id}/trips`, {
    method: 'POST',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(o.key === null ? {} : { 'idempotency-key': o.key ?? newKey() }),
      ...(o.ifMatch === null || o.ifMatch === undefined ? {} : { 'if-match': `"${o.ifMatch}"` }),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ by: o.by ?? 'Sam' }),
  })

const tripsOf = async (server: { url: string }, id: string, token: string): Promise<TripBody[]> => {
  const res = await fetch(`${server.url}/api/spaces/${id}/trips`, {
    headers: { authorization: `Bearer ${token}` },
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { trips: TripBody[] }).trips
}

const created = async (server: { url: string }, engine: EngineKind) => {
  const res = await fetch(`${server.url}/api/spaces`, { method: 'POST', body: JSON.stringify({ engine }) })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; writeToken: string; readToken: string }
}

/** A device with a list: milk ×2 at 1.29 and bread checked off, eggs not. */
async function shopping(server: { url: string; wsUrl: string }, engine: EngineKind) {
  const s = await created(server, engine)
  const a = await SpaceDevice.open(server, createSpace({ engine, spaceId: s.id, name: 'Home' }), s.writeToken)
  a.space.addItem('Milk', { quantity: 2, fields: { priceCents: 129 } })
  a.space.addItem('Bread')
  a.space.addItem('Eggs', { fields: { priceCents: 300 } })
  a.space.check('milk', 'Sam')
  a.space.check('bread', 'Alex')
  await until(() => a.saved, 'the list is saved')
  return { s, a, version: (): string => versionToken(a.ack!) }
}

describe.each(['yjs', 'automerge'] as const)('finishing a trip in a %s space', (engine) => {
  it('[TRIPS-1] records the bought lines with totals and who, and removes exactly them from every device', async () => {
    const server = await startTestServer()
    const { s, a, version } = await shopping(server, engine)
    const b = await SpaceDevice.open(server, openSpace({ engine, spaceId: s.id }), s.writeToken)
    await until(() => b.answered && b.space.items().length === 3, 'the second device has the list')

    const res = await finish(server, s.id, s.writeToken, { ifMatch: version(), by: 'Sam' })
    expect(res.status).toBe(201)
    const { trip } = (await res.json()) as { trip: TripBody }
    expect(trip.status).toBe('complete')
    expect(trip.finishedBy).toBe('Sam')
    expect(trip.lines.map((l) => [l.name, l.quantity, l.priceCents, l.checkedBy]).sort()).toEqual([
      ['Bread', 1, null, 'Alex'],
      ['Milk', 2, 129, 'Sam'],
    ])
    expect(trip.totalCents).toBe(258)
    expect(trip.unpricedLines).toBe(1)
    expect(trip.completedVersion).not.toBeNull()

    for (const d of [a, b])
      await until(() => d.space.items().length === 1, 'the bought lines leave every device')
    expect(a.space.items().map((i) => i.name)).toEqual(['Eggs'])
    expect(b.space.items().map((i) => i.name)).toEqual(['Eggs'])
    expect((await tripsOf(server, s.id, s.readToken)).map((t) => t.id)).toEqual([trip.id])
    // the removal is a stored change like any other: a fresh device sees the list without them
    const c = await SpaceDevice.open(server, openSpace({ engine, spaceId: s.id }), s.readToken)
    await until(() => c.answered, 'a fresh device is answered')
    expect(c.space.items().map((i) => i.name)).toEqual(['Eggs'])
  })

  it('[TRIPS-2] a retry with the same Idempotency-Key gets the same trip, and nothing is removed twice', async () => {
    const server = await startTestServer()
    const { s, a, version } = await shopping(server, engine)
    const key = newKey()
    const first = await finish(server, s.id, s.writeToken, { key, ifMatch: version() })
    expect(first.status).toBe(201)
    const trip = ((await first.json()) as { trip: TripBody }).trip
    await until(() => a.space.items().length === 1, 'the lines are removed')
    // Milk is bought again and checked: a retry must not take it off with the old trip
    a.space.addItem('Milk')
    a.space.check('milk', 'Sam')
    await until(() => a.saved, 'saved')
    const retry = await finish(server, s.id, s.writeToken, { key, ifMatch: version() })
    expect(retry.status).toBe(201)
    expect(((await retry.json()) as { trip: TripBody }).trip.id).toBe(trip.id)
    expect(
      a.space
        .items()
        .map((i) => i.name)
        .sort(),
    ).toEqual(['Eggs', 'Milk'])
    expect(await tripsOf(server, s.id, s.writeToken)).toHaveLength(1)
  })

  it('[TRIPS-3] two phones pressing "Done" at once record one trip and clear the list once', async () => {
    const server = await startTestServer()
    const { s, a, version } = await shopping(server, engine)
    const at = version()
    const answers = await Promise.all([
      finish(server, s.id, s.writeToken, { ifMatch: at, by: 'Sam' }),
      finish(server, s.id, s.writeToken, { ifMatch: at, by: 'Alex' }),
    ])
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { trip: TripBody | null }[]
    const statuses = answers.map((r) => r.status).sort()
    expect(statuses[0]).toBe(201)
    expect([409, 412]).toContain(statuses[1])
    const winner = bodies[answers.findIndex((r) => r.status === 201)]!.trip!
    const loser = bodies[answers.findIndex((r) => r.status !== 201)]!
    // the loser is told which trip won
    expect(loser.trip?.id).toBe(winner.id)
    const trips = await tripsOf(server, s.id, s.writeToken)
    expect(trips.map((t) => t.id)).toEqual([winner.id])
    await until(() => a.space.items().length === 1, 'cleared once')
    expect(a.space.items().map((i) => i.name)).toEqual(['Eggs'])
  })

  it('[TRIPS-4] a stale If-Match gets 412 and the current version; each bad request has its status', async () => {
    const server = await startTestServer()
    const { s, a, version } = await shopping(server, engine)
    const stale = version()
    a.space.addItem('Butter')
    await until(() => a.saved && version() !== stale, 'a newer version is saved')
    const res = await finish(server, s.id, s.writeToken, { ifMatch: stale })
    expect(res.status).toBe(412)
    const body = (await res.json()) as { version: string; trip: TripBody | null }
    expect(body.version).toBe(version())
    expect(res.headers.get('converge-version')).toBe(version())
    expect(body.trip).toBeNull()
    // with the current version it goes through
    expect((await finish(server, s.id, s.writeToken, { ifMatch: body.version })).status).toBe(201)

    expect((await finish(server, s.id, s.writeToken, { ifMatch: null })).status).toBe(428)
    expect((await finish(server, s.id, s.writeToken, { ifMatch: version(), key: null })).status).toBe(400)
    expect((await finish(server, s.id, s.writeToken, { ifMatch: version(), key: 'short' })).status).toBe(400)
    expect((await finish(server, s.id, s.writeToken, { ifMatch: 'not a token!' })).status).toBe(400)
    expect((await finish(server, s.id, s.readToken, { ifMatch: version() })).status).toBe(403)
    expect((await finish(server, s.id, null, { ifMatch: version() })).status).toBe(401)
    // everything bought is gone: nothing to finish
    await until(() => a.saved, 'saved')
    expect((await finish(server, s.id, s.writeToken, { ifMatch: version() })).status).toBe(422)
    const lines = server.logs.filter((l) => l.includes('"finishing a trip: refused"'))
    expect(lines.length).toBeGreaterThanOrEqual(2)
    expect(await tripsOf(server, s.id, s.writeToken)).toHaveLength(1)
  })
})

describe('a trip whose second step fails', () => {
  it('[TRIPS-5] is void, the client is told, and nothing is removed', async () => {
    const server = await startTestServer({}, { tripFault: 'fail-remove' })
    const { s, a, version } = await shopping(server, 'yjs')
    const res = await finish(server, s.id, s.writeToken, { ifMatch: version() })
    expect(res.status).toBe(503)
    const { trip } = (await res.json()) as { trip: TripBody }
    expect(trip.status).toBe('void')
    expect(trip.voidReason).toContain('fail-remove')
    expect(a.space.items()).toHaveLength(3)
    expect(server.logs.some((l) => l.includes('"trip void: its lines could not be removed"'))).toBe(true)
    const [listed] = await tripsOf(server, s.id, s.writeToken)
    expect(listed?.status).toBe('void')
    expect(a.space.items()).toHaveLength(3)
  })
})

describe('a server killed between the steps of a trip', () => {
  for (const fault of ['crash-after-record', 'crash-after-remove'] as const) {
    it(
      `[TRIPS-6] ${fault}: after a restart the trip is complete and its lines are gone — never half`,
      { timeout: 60_000 },
      async () => {
        const dataDir = tempDir()
        const port = await freePort()
        const spaceId = `trip-kill-${fault}`
        const token = await sign(spaceId, 'write')
        let server = await spawnServer(dataDir, port, { CONVERGE_TEST_TRIP_FAULT: fault })
        const { a, version } = await (async () => {
          const a = await SpaceDevice.open(
            server,
            createSpace({ engine: 'yjs', spaceId, name: 'Home' }),
            token,
          )
          a.space.addItem('Milk', { quantity: 2, fields: { priceCents: 129 } })
          a.space.addItem('Eggs')
          a.space.check('milk', 'Sam')
          await until(() => a.saved, 'saved')
          return { a, version: () => versionToken(a.ack!) }
        })()
        const key = newKey()
        const killed = await finish(server, spaceId, token, { key, ifMatch: version() }).then(
          (r) => r.status,
          () => 'connection lost',
        )
        expect(killed).toBe('connection lost')
        expect((await server.exited).signal).toBe('SIGKILL')
        a.close()

        server = await spawnServer(dataDir, port)
        expect(server.stdout.some((l) => l.includes('finished the trips a stop left pending'))).toBe(true)
        const trips = await tripsOf(server, spaceId, token)
        expect(trips.map((t) => t.status)).toEqual(['complete'])
        const b = await SpaceDevice.open(server, openSpace({ engine: 'yjs', spaceId }), token)
        await until(() => b.answered, 'answered')
        expect(b.space.items().map((i) => i.name)).toEqual(['Eggs'])
        // the retry the phone makes once it is back gets that trip
        const retry = await finish(server, spaceId, token, { key, ifMatch: version() })
        expect(retry.status).toBe(201)
        expect(((await retry.json()) as { trip: TripBody }).trip.id).toBe(trips[0]!.id)
      },
    )
  }
})
