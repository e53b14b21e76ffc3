/**
 * An Automerge space on the real server (SPEC.md ENGINE-1…ENGINE-3): created over HTTP, recorded in
 * SQLite, synced over real WebSockets by merge's Automerge `Space` speaking protocol version 4 — and
 * every acknowledged change survives a SIGKILL of the server process.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { createSpace as createLocal, loadEngine, openSpace } from '@converge/merge'
import { CloseCode } from '@converge/protocol'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  PACKAGE_DIR,
  RawClient,
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

const post = (server: { url: string }, body: unknown) =>
  fetch(`${server.url}/api/spaces`, { method: 'POST', body: JSON.stringify(body) })

describe('an Automerge space on the server', () => {
  it('[ENGINE-2] POST /api/spaces {"engine":"automerge"} records it; two devices over WebSockets converge and are told saved; a Yjs client is closed with 4415', async () => {
    const server = await startTestServer()
    const res = await post(server, { id: 'am-space-12345', engine: 'automerge' })
    expect(res.status).toBe(201)
    const created = (await res.json()) as { id: string; engine: string; writeToken: string }
    expect(created.engine).toBe('automerge')
    expect(server.logs.join('')).toMatch(/"engine":"automerge".*space created/)

    const a = await SpaceDevice.open(
      server,
      createLocal({ engine: 'automerge', spaceId: created.id, name: 'Home' }),
      created.writeToken,
    )
    const b = await SpaceDevice.open(
      server,
      openSpace({ engine: 'automerge', spaceId: created.id }),
      created.writeToken,
    )
    a.space.addItem('milk')
    const note = a.space.createNote({ title: 'List', body: 'remember' })
    await until(() => b.space.note(note)?.body === 'remember', 'b sees a note')
    b.space.increment(b.space.item('milk')!.key)
    b.space.editNote(note, 8, 0, ' the bags')
    await until(() => a.space.note(note)?.body === 'remember the bags', 'a sees b')
    await until(() => a.saved && b.saved, 'both saved')
    expect(a.space.snapshot()).toEqual(b.space.snapshot())
    expect(a.space.item('milk')?.quantity).toBe(2)

    // the web app of today opens every space as Yjs: it is refused before any byte of the space
    const yjs = await RawClient.open(server, created.id, created.writeToken)
    yjs.send({ type: 'hello', version: 4 })
    expect((await yjs.waitClosed()).code).toBe(CloseCode.UnsupportedEngine)
    expect(yjs.messages.map((m) => m.type)).toEqual(['error'])
    expect(server.logs.join('')).toMatch(/"kind":"UnsupportedEngine".*this is a automerge space/)

    // a device starting afresh gets everything
    const c = await SpaceDevice.open(
      server,
      openSpace({ engine: 'automerge', spaceId: created.id }),
      created.writeToken,
    )
    await until(() => c.space.note(note)?.body === 'remember the bags', 'c loads the space')
    expect(c.space.snapshot()).toEqual(a.space.snapshot())
  })

  it(
    '[ENGINE-2] the shipped bundle (what `pnpm start` and scripts/start.sh run) serves an Automerge space: Automerge and its wasm load in it',
    { timeout: 120_000 },
    async () => {
      const out = join(PACKAGE_DIR, 'dist-test')
      const built = spawnSync(process.execPath, ['--import', 'tsx', 'build.ts'], {
        cwd: PACKAGE_DIR,
        env: { ...process.env, BUILD_OUT: out },
        encoding: 'utf8',
      })
      expect(built.status, built.stderr).toBe(0)
      const server = await spawnServer(tempDir(), await freePort(), {}, { bundle: out })
      const res = await post(server, { engine: 'automerge' })
      expect(res.status).toBe(201)
      const created = (await res.json()) as { id: string; writeToken: string }
      const a = await SpaceDevice.open(
        server,
        createLocal({ engine: 'automerge', spaceId: created.id, name: 'Home' }),
        created.writeToken,
      )
      a.space.addItem('milk')
      await until(() => a.saved, 'the bundle acknowledges the change')
      const b = await SpaceDevice.open(
        server,
        openSpace({ engine: 'automerge', spaceId: created.id }),
        created.writeToken,
      )
      await until(() => b.space.item('milk')?.quantity === 1, 'a second device loads it')
      expect(server.stdout.join('')).not.toMatch(/"level":50/)
    },
  )

  it('[ENGINE-3] an update that is not Automerge, or breaks the domain, closes with 4400 and is not stored', async () => {
    const server = await startTestServer()
    const created = (await (await post(server, { engine: 'automerge' })).json()) as {
      id: string
      writeToken: string
    }
    const a = await SpaceDevice.open(
      server,
      createLocal({ engine: 'automerge', spaceId: created.id }),
      created.writeToken,
    )
    await until(() => a.saved, 'a saved')
    const hostile = openSpace({
      engine: 'automerge',
      spaceId: created.id,
      state: a.space.encodeStateAsUpdate(),
    })
    const known = hostile.stateVector()
    hostile.engine.transact('hostile', (w) => w.set('items', 'milk\u001fpriceCents', -5))
    const yjsUpdate = createLocal({ engine: 'yjs', spaceId: created.id }).encodeStateAsUpdate()
    for (const update of [hostile.encodeStateAsUpdate(known), yjsUpdate]) {
      const bad = await RawClient.open(server, created.id, created.writeToken)
      bad.send({ type: 'hello', version: 4, engine: 'automerge' })
      bad.send({ type: 'sync-update', update })
      expect((await bad.waitClosed()).code).toBe(CloseCode.MalformedFrame)
      expect(bad.messages.find((m) => m.type === 'error')).toMatchObject({ kind: 'InvalidUpdate' })
    }
    const fresh = await SpaceDevice.open(
      server,
      openSpace({ engine: 'automerge', spaceId: created.id }),
      created.writeToken,
    )
    await until(() => fresh.saved, 'fresh synced')
    expect(fresh.space.items()).toEqual([])
    expect(fresh.space.snapshot()).toEqual(a.space.snapshot())
  })

  it(
    '[ENGINE-2] never loses a change acknowledged as durable, across 10 SIGKILLs',
    { timeout: 90_000 },
    async () => {
      const dataDir = tempDir()
      const port = await freePort()
      let server = await spawnServer(dataDir, port)
      const res = await post(server, { id: 'am-durable-1234', engine: 'automerge' })
      expect(res.status).toBe(201)
      const token = await sign('am-durable-1234', 'write')
      const ROUNDS = 10
      const PER_ROUND = 5
      const written: string[] = []
      let local = createLocal({ engine: 'automerge', spaceId: 'am-durable-1234' })
      let lost = 0
      for (let i = 0; i < ROUNDS; i++) {
        const d = await SpaceDevice.open(server, local, token)
        for (let j = 0; j < PER_ROUND; j++) {
          local.addItem(`item ${i}-${j}`)
          written.push(`item ${i}-${j}`)
        }
        await until(() => d.saved, `round ${i} saved`, 10_000)
        // the instant it is saved: kill -9
        server.child.kill('SIGKILL')
        await server.exited
        d.close()
        server = await spawnServer(dataDir, port)
        const reader = await SpaceDevice.open(
          server,
          openSpace({ engine: 'automerge', spaceId: 'am-durable-1234' }),
          token,
        )
        await until(
          // the server's answer holds everything it committed; only then is what the reader lacks lost
          () => reader.answered && reader.saved,
          `round ${i} read back`,
          10_000,
        )
        const names = new Set(reader.space.items().map((x) => x.name))
        lost += written.filter((n) => !names.has(n)).length
        reader.close()
        // the next round continues from what this device holds (as a device keeps its own copy)
        local = openSpace({
          engine: 'automerge',
          spaceId: 'am-durable-1234',
          state: local.encodeStateAsUpdate(),
        })
      }
      expect(lost).toBe(0)
      expect(written.length).toBe(ROUNDS * PER_ROUND)
    },
  )
})
