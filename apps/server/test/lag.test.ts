/**
 * Lag and divergence on the real server's /metrics (server-core LAG-1…5, PROBE-4…6; PROTOCOL.md
 * §P12): the series reflect a delay injected into storage, a device's report, and a divergence
 * injected on a device — which the probe then heals in storage.
 */
import { join } from 'node:path'
import { SqlitePersistence } from '@converge/persistence-sqlite'
import { PROTOCOL_VERSION } from '@converge/protocol'
import { yjsStateDigest } from '@converge/merge/validate'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { RawClient, TEXT, cleanup, covers, fetchDoc, sign, startTestServer, tempDir } from './helpers.js'

afterEach(cleanup)

/** SQLite whose appends take `delayMs` longer (a slow disk). */
class SlowPersistence extends SqlitePersistence {
  delayMs = 0
  override async append(spaceId: string, updates: readonly Uint8Array[]): Promise<number> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    return super.append(spaceId, updates)
  }
}

/** The value of one series on /metrics (`name` with its labels, as printed), NaN when absent. */
async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** Waits until an asynchronous check holds. */
const until = (check: () => Promise<boolean>, what: string): Promise<void> =>
  vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out waiting for ${what}`)
    },
    { timeout: 10_000, interval: 50 },
  )

/** A raw client that said hello with this version, and wrote `text`, saved. */
async function writer(server: { wsUrl: string }, space: string, text: string) {
  const token = await sign(space, 'write')
  const c = await RawClient.open(server, space, token)
  c.send({ type: 'hello', version: PROTOCOL_VERSION })
  const doc = new Y.Doc()
  doc.getText(TEXT).insert(0, text)
  c.send({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
  await c.waitFor('durable-ack', (m) => covers(m.stateVector, doc))
  return { c, doc, token }
}

describe('lag and divergence on /metrics', () => {
  it('[LAG-1][LAG-2] a slow disk shows in the commit lag; the writer’s ack follows its commit', async () => {
    const dir = tempDir()
    const storage = new SlowPersistence({ file: join(dir, 'converge.sqlite') })
    const server = await startTestServer({ dataDir: dir }, { persistence: storage })
    storage.delayMs = 300
    await writer(server, 'lag-space', 'milk')
    expect(await metric(server.url, 'converge_commit_lag_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(await metric(server.url, 'converge_commit_lag_seconds_sum')).toBeGreaterThanOrEqual(0.3)
    expect(await metric(server.url, 'converge_commit_lag_seconds_bucket{le="0.25"}')).toBe(0) // none was faster than the disk
    expect(await metric(server.url, 'converge_ack_lag_seconds_count{to="writer"}')).toBeGreaterThanOrEqual(1)
  })

  it('[LAG-5] a device reporting an old unconfirmed change counts as lagging until it says otherwise', async () => {
    const server = await startTestServer({ limits: { laggingAfterMs: 10_000 } })
    const { c } = await writer(server, 'report-space', 'milk')
    c.send({ type: 'report', unconfirmedAgeMs: 25_000, sinceAckMs: 30_000 })
    await until(async () => (await metric(server.url, 'converge_connections_lagging')) === 1, 'lagging 1')
    expect(await metric(server.url, 'converge_client_unconfirmed_age_seconds_count')).toBe(1)
    expect(await metric(server.url, 'converge_client_unconfirmed_age_seconds_sum')).toBe(25)
    expect(await metric(server.url, 'converge_client_ack_age_seconds_sum')).toBe(30)
    c.send({ type: 'report', unconfirmedAgeMs: null, sinceAckMs: 100 })
    await until(async () => (await metric(server.url, 'converge_connections_lagging')) === 0, 'lagging 0')
  })

  it('[PROBE-4][PROBE-5] a device at the server’s version with another state is counted and healed in storage', async () => {
    const server = await startTestServer()
    const space = 'probe-space'
    const { c, doc, token } = await writer(server, space, 'oat milk')
    expect(await metric(server.url, 'converge_divergence_total{scope="client"}')).toBe(0)
    // the device deletes "oat " and its update never reaches the server
    doc.getText(TEXT).delete(0, 4)
    c.send({ type: 'digest', vector: Y.encodeStateVector(doc), hash: yjsStateDigest(doc) })
    // the server answers with a full exchange: its whole state, and a request for the device's
    const ask = await c.waitFor('sync-step1', (m) => Y.decodeStateVector(m.stateVector).size === 0)
    expect(ask).toBeDefined()
    c.send({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc) })
    await until(
      async () => (await metric(server.url, 'converge_divergence_total{scope="client"}')) === 1,
      '1',
    )
    await until(
      async () => (await fetchDoc(server, space, token)).getText(TEXT).toJSON() === 'milk',
      'the deletion is stored',
    )
    expect(server.logs.some((l) => l.includes('divergence: a device at this version'))).toBe(true)
  })
})
