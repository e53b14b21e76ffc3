/**
 * SpaceRegistrar with fake ports: a `fetch` that answers as the test says (through the real
 * `httpSpaceApi`), a catalog in memory, a fake browser and a stepped clock. Rule ids REG-n.
 */
import { backoffDelay } from '@converge/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type CreateResult,
  REGISTRATION_BACKOFF,
  type RegistrationCatalog,
  SpaceRegistrar,
  type SpaceTokens,
  createSpaceRecord,
  httpSpaceApi,
} from '../src/index.js'
import { FakeBrowser } from './support/fake-browser.js'
import { SteppedTimers } from './support/stepped-timers.js'

/** The app's catalog as far as the registrar sees it. */
class Catalog implements RegistrationCatalog {
  spaces = new Map<string, { id: string; name: string; engine?: 'automerge'; tokens?: SpaceTokens }>()
  private readonly listeners = new Set<() => void>()
  add(id: string, name = '', engine?: 'automerge'): void {
    this.spaces.set(id, { id, name, ...(engine ? { engine } : {}) })
    for (const l of this.listeners) l()
  }
  unregistered() {
    return [...this.spaces.values()].filter((s) => !s.tokens)
  }
  recordTokens(id: string, tokens: SpaceTokens) {
    this.spaces.get(id)!.tokens = tokens
    for (const l of this.listeners) l()
    return Promise.resolve()
  }
  subscribe(fn: () => void) {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }
}

type Answer = number | 'unreachable' | { status: number; body: unknown; headers?: Record<string, string> }

/** A server behind `fetch`: answers each POST with the next of `answers` (201 echoes the id). */
const fakeFetch = (answers: Answer[]) => {
  const requests: { url: string; method: string; body: { id?: string; name?: string; engine?: string } }[] =
    []
  const fetch = vi.fn((url: string, init: RequestInit) => {
    const body = JSON.parse(init.body as string) as { id?: string; name?: string; engine?: string }
    requests.push({ url, method: init.method ?? 'GET', body })
    const a = answers.length > 1 ? answers.shift()! : answers[0]!
    if (a === 'unreachable') return Promise.reject(new TypeError('Failed to fetch'))
    const {
      status,
      body: json,
      headers,
    } = typeof a === 'number'
      ? {
          status: a,
          body:
            a === 201
              ? { id: body.id, writeToken: `w-${body.id}`, readToken: `r-${body.id}` }
              : { error: `no (${a})` },
        }
      : a
    return Promise.resolve(new Response(JSON.stringify(json), { status, ...(headers ? { headers } : {}) }))
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, requests }
}

const stops: (() => void)[] = []
afterEach(() => {
  for (const s of stops.splice(0)) s()
})

const setup = (answers: Answer[], onLine = true) => {
  const catalog = new Catalog()
  const server = fakeFetch(answers)
  const browser = new FakeBrowser(onLine)
  const timers = new SteppedTimers()
  const random = () => 0.5
  const registrar = new SpaceRegistrar({
    api: httpSpaceApi('https://converge.example/api', { fetch: server.fetch }),
    catalog,
    window: browser.window,
    navigator: browser.navigator,
    timers,
    random,
  })
  return { catalog, server, browser, timers, random, registrar, start: () => stops.push(registrar.start()) }
}

describe('SpaceRegistrar', () => {
  it('[REG-1] a space created offline is registered under its own id once online, and its tokens recorded', async () => {
    const { catalog, server, browser, registrar, start } = setup([201], false)
    catalog.add('kitchen-1', 'Kitchen')
    start()
    await registrar.idle()
    expect(server.requests).toEqual([]) // nothing while the browser says it is offline
    browser.goOnline()
    await registrar.idle()
    expect(server.requests).toEqual([
      {
        url: 'https://converge.example/api/spaces',
        method: 'POST',
        body: { id: 'kitchen-1', name: 'Kitchen' },
      },
    ])
    expect(catalog.spaces.get('kitchen-1')?.tokens).toEqual({
      writeToken: 'w-kitchen-1',
      readToken: 'r-kitchen-1',
    })
    catalog.add('garage-2') // a space created later (online): registered at once, without a name
    await vi.waitFor(() => expect(catalog.spaces.get('garage-2')?.tokens).toBeDefined())
    expect(server.requests[1]?.body).toEqual({ id: 'garage-2' })
    expect(registrar.getSnapshot().size).toBe(0)
  })

  it('[ENG-4] a space of another engine is registered with its engine; a server that does not serve it (501) is a problem of the space, not retried', async () => {
    const { catalog, server, registrar, start } = setup([201])
    catalog.add('notes-1', 'Notes', 'automerge')
    catalog.add('list-1', 'List')
    start()
    await registrar.idle()
    expect(server.requests.map((r) => r.body)).toEqual([
      { id: 'notes-1', name: 'Notes', engine: 'automerge' },
      { id: 'list-1', name: 'List' },
    ])
    const old = setup([
      { status: 501, body: { error: 'automerge spaces are not served by this server yet' } },
    ])
    old.catalog.add('notes-2', '', 'automerge')
    old.start()
    await old.registrar.idle()
    expect(old.registrar.getSnapshot().get('notes-2')).toMatch(/does not serve automerge spaces/)
    expect(old.timers.pending).toBe(0)
  })

  it('[REG-2] while the server cannot be reached it tries again after backoffDelay, longer each time', async () => {
    const { catalog, server, timers, random, registrar, start } = setup([
      'unreachable',
      503,
      'unreachable',
      'unreachable',
      201,
    ])
    catalog.add('s')
    start()
    for (let attempt = 1; attempt <= 4; attempt++) {
      await registrar.idle()
      expect(server.requests).toHaveLength(attempt)
      expect(timers.pending).toBe(1)
      expect(timers.advance(timers.next! - 1)).toBe(0) // not a moment before its time
      timers.advance(1)
    }
    await registrar.idle()
    expect(timers.requested).toEqual([1, 2, 3, 4].map((n) => backoffDelay(n, REGISTRATION_BACKOFF, random)))
    expect(catalog.spaces.get('s')?.tokens).toBeDefined()
    expect(timers.pending).toBe(0)
  })

  it('[REG-3] a refusal (409, another 4xx, another id) is a problem of that space: shown, never tried again', async () => {
    const { catalog, server, timers, registrar, start } = setup([
      409,
      400,
      { status: 201, body: { id: 'other', writeToken: 'w', readToken: 'r' } },
      201,
    ])
    const changed = vi.fn()
    registrar.subscribe(changed)
    for (const id of ['taken', 'bad', 'moved', 'fine']) catalog.add(id)
    start()
    await registrar.idle()
    expect(Object.fromEntries(registrar.getSnapshot())).toEqual({
      taken: 'the server already has a space with this id',
      bad: 'the server refused to register it (no (400))',
      moved: 'the server did not keep the id of this space, so it could not be registered',
    })
    expect(changed).toHaveBeenCalledTimes(3)
    expect(catalog.spaces.get('fine')?.tokens).toBeDefined() // the others go on
    const asked = server.requests.length
    catalog.add('x-later')
    await registrar.idle()
    timers.advance(3_600_000)
    expect(server.requests.slice(asked).map((r) => r.body.id)).toEqual(['x-later'])
  })

  it('[REG-6] a 429 is not a problem of the space: it tries again, not before Retry-After', async () => {
    const { catalog, server, timers, registrar, start } = setup([
      { status: 429, body: { error: 'too many new spaces' }, headers: { 'retry-after': '30' } },
      201,
    ])
    catalog.add('s')
    start()
    await registrar.idle()
    expect(registrar.getSnapshot().size).toBe(0)
    expect(server.requests).toHaveLength(1)
    timers.advance(29_000) // the backoff alone would have tried again by now
    await registrar.idle()
    expect(server.requests).toHaveLength(1)
    timers.advance(1_000)
    await registrar.idle()
    expect(server.requests).toHaveLength(2)
    expect(catalog.spaces.get('s')?.tokens).toEqual({ writeToken: 'w-s', readToken: 'r-s' })
  })

  it('[REG-4] "online" resets the backoff and tries at once', async () => {
    const { catalog, server, browser, timers, random, registrar, start } = setup(['unreachable'])
    catalog.add('s')
    start()
    for (let i = 0; i < 3; i++) {
      await registrar.idle()
      timers.advance(timers.next!)
    }
    await registrar.idle()
    expect(server.requests).toHaveLength(4)
    browser.goOffline()
    browser.goOnline()
    expect(server.requests).toHaveLength(5) // at once, not after the pending wait
    await registrar.idle()
    expect(timers.pending).toBe(1)
    expect(timers.requested.at(-1)).toBe(backoffDelay(1, REGISTRATION_BACKOFF, random)) // the first wait again
  })

  it('[REG-5] once stopped it neither tries nor listens', async () => {
    const { catalog, server, browser, timers, registrar } = setup(['unreachable'])
    catalog.add('s')
    const stop = registrar.start()
    await registrar.idle()
    expect(timers.pending).toBe(1)
    stop()
    expect(timers.pending).toBe(0)
    expect(browser.listening('online')).toBe(0)
    timers.advance(3_600_000)
    catalog.add('t')
    browser.goOnline()
    await registrar.idle()
    expect(server.requests).toHaveLength(1)
  })
})

describe('creating a space', () => {
  /** The space API as `createSpaceRecord` sees it: answers `result`, records what it was asked. */
  const fakeApi = (result: CreateResult) => {
    const asked: { name?: string; id?: string }[] = []
    return {
      asked,
      createSpace: (body: { name?: string; id?: string; engine?: string }) => {
        asked.push(body)
        return Promise.resolve(result)
      },
    }
  }
  const now = 1_700_000_000_000

  it('[REG-7] online, a new space is created on the server: its id and tokens, registered', async () => {
    const api = fakeApi({ ok: true, id: 'srv1', writeToken: 'w1', readToken: 'r1' })
    const record = await createSpaceRecord({ name: 'Kitchen', online: true, api, now })
    expect(api.asked).toEqual([{ name: 'Kitchen' }])
    expect(record).toEqual({
      id: 'srv1',
      name: 'Kitchen',
      writeToken: 'w1',
      readToken: 'r1',
      createdAt: now,
      lastOpenedAt: now,
      registered: true,
    })
    // no name: the server is sent none
    await createSpaceRecord({ name: '', online: true, api, now })
    expect(api.asked.at(-1)).toEqual({})
    // ENG-1: an Automerge space says so, to the server and in its record; a Yjs one sends no engine
    const am = await createSpaceRecord({ name: 'Notes', online: true, api, now, engine: 'automerge' })
    expect(api.asked.at(-1)).toEqual({ name: 'Notes', engine: 'automerge' })
    expect(am.engine).toBe('automerge')
    const offline = await createSpaceRecord({ name: '', online: false, api, now, engine: 'automerge' })
    expect(offline).toMatchObject({ registered: false, engine: 'automerge' })
  })

  it('[REG-7] offline, or when the server could not create it, a new space is local: an id made here, registered later', async () => {
    const offline = fakeApi({ ok: true, id: 'srv1', writeToken: 'w1', readToken: 'r1' })
    const a = await createSpaceRecord({ name: 'Kitchen', online: false, api: offline, now })
    expect(offline.asked).toEqual([]) // offline: the server is not asked
    expect(a).toEqual({ id: a.id, name: 'Kitchen', createdAt: now, lastOpenedAt: now, registered: false })
    expect(a.id).toMatch(/^[a-z0-9]{12}$/)
    for (const failure of [
      { ok: false, status: null, message: 'unreachable' },
      { ok: false, status: 503, message: 'storage unavailable' },
    ] as const) {
      const api = fakeApi(failure)
      const b = await createSpaceRecord({ name: 'Kitchen', online: true, api, now })
      expect(api.asked).toHaveLength(1)
      expect(b).toEqual({ id: b.id, name: 'Kitchen', createdAt: now, lastOpenedAt: now, registered: false })
      expect(b.id).toMatch(/^[a-z0-9]{12}$/)
      expect(b.id).not.toBe(a.id)
    }
  })
})
