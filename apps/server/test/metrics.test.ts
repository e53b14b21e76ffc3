import { afterEach, describe, expect, it } from 'vitest'
import { RawClient, cleanup, connectSynced, createSpace, startTestServer, until } from './helpers.js'

afterEach(cleanup)

/** Every sample of the scrape as "name{labels}" → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

describe('metrics', () => {
  it('reflect connections, messages, commits and rejections', async () => {
    const server = await startTestServer()
    const space = await createSpace(server)
    const a = await connectSynced(server, space.id, space.writeToken)
    const b = await connectSynced(server, space.id, space.writeToken)
    let m = await scrape(server.url)
    expect(m.get('converge_connections')).toBe(2)
    expect(m.get('converge_spaces_loaded')).toBe(1)
    expect(m.get('converge_messages_in_total{type="sync-step1"}')).toBeGreaterThanOrEqual(2)

    for (let i = 0; i < 10; i++) a.text.insert(0, String(i))
    await until(() => b.text.length === 10, 'b to see the edits')
    await server.core.flushAll()
    m = await scrape(server.url)
    expect(m.get('converge_updates_committed_total')).toBeGreaterThanOrEqual(10)
    expect(m.get('converge_commit_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(m.get('converge_messages_in_total{type="sync-update"}')).toBeGreaterThanOrEqual(10)
    expect(m.get('converge_bytes_in_total')).toBeGreaterThan(0)
    // relays of one turn are merged into one frame, so fewer frames than updates may go out
    expect(m.get('converge_messages_out_total')).toBeGreaterThanOrEqual(2)
    expect(m.get('converge_bytes_out_total')).toBeGreaterThan(0)
    expect(m.get('converge_rejections_total{reason="MalformedFrame"}') ?? 0).toBe(0)

    const bad = await RawClient.open(server, space.id, space.writeToken)
    await bad.waitFor('sync-step1')
    bad.send(new Uint8Array([42, 42]))
    await bad.waitClosed()
    const denied = await RawClient.open(server, space.id, null)
    denied.send({ type: 'sync-step1', stateVector: new Uint8Array([0]) }) // a stock client's first frame, no token
    await denied.waitClosed()
    m = await scrape(server.url)
    expect(m.get('converge_rejections_total{reason="MalformedFrame"}')).toBe(1)
    expect(m.get('converge_auth_failures_total{reason="Unauthorized"}')).toBe(1)
    await until(() => server.core.connectionCount === 2, 'the bad sockets to be gone')
    expect((await scrape(server.url)).get('converge_connections')).toBe(2)

    a.provider.disconnect()
    b.provider.disconnect()
    await until(() => server.core.connectionCount === 0, 'everyone to leave')
    expect((await scrape(server.url)).get('converge_connections')).toBe(0)
  })
})
