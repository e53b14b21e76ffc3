import type { EngineKind } from '@converge/merge'
import { type Backoff, backoffDelay } from '@converge/protocol'
import {
  type NavigatorLike,
  type Timers,
  type WindowEvents,
  browser,
  given,
  listen,
  onLine,
} from './browser.js'
import type { SpaceApi, SpaceTokens } from './space-api.js'
import type { SpaceRecord } from './store/records.js'

/** A space created on this device that the server does not know yet. */
export interface UnregisteredSpace {
  readonly id: string
  readonly name: string
  /** ENG-1: absent for Yjs. */
  readonly engine?: EngineKind
}

/** What the registrar needs of the app's list of spaces (its catalog). */
export interface RegistrationCatalog {
  /** The spaces created on this device the server does not know yet. */
  unregistered(): readonly UnregisteredSpace[]
  /** The server registered a space under its own id: keep its tokens, and mark it registered. */
  recordTokens(id: string, tokens: SpaceTokens): Promise<unknown>
  /** Calls `fn` whenever the list may have changed; returns the way to stop. */
  subscribe(fn: () => void): () => void
}

export interface SpaceRegistrarOptions {
  readonly api: SpaceApi
  readonly catalog: RegistrationCatalog
  /** `online` events (REG-4). Default: the browser's `window`. */
  readonly window?: WindowEvents | null
  /** `onLine`: nothing is tried while the browser says it is offline. Default: the browser's. */
  readonly navigator?: NavigatorLike | null
  /** Default: the browser's. */
  readonly timers?: Timers
  /** Default: `REGISTRATION_BACKOFF`. */
  readonly backoff?: Backoff
  readonly random?: () => number
}

/** The waits between registration attempts while the server cannot be reached (REG-2). */
export const REGISTRATION_BACKOFF: Backoff = { initialMs: 2_000, maxMs: 60_000 }

/**
 * Registers the spaces created offline with the server (REG-1…REG-5): `POST /api/spaces` with their
 * own id, as soon as the browser is online, and again whenever the catalog changes. The tokens go to
 * the catalog; an open space then reconnects with them. While the server cannot be reached (no
 * answer, or a 5xx) it tries again after `backoffDelay`; `online` resets the backoff and tries at
 * once. A 4xx, or a server that did not keep the id, is a problem of that space: shown, and not
 * tried again until the next start.
 */
export class SpaceRegistrar {
  private readonly problems = new Map<string, string>()
  private problemsSnapshot: ReadonlyMap<string, string> = new Map()
  private readonly listeners = new Set<() => void>()
  private readonly navigator: NavigatorLike | null
  private readonly timers: Timers
  private running: Promise<void> | null = null
  private timer: unknown = null
  private attempt = 0
  private stopped = false

  constructor(private readonly options: SpaceRegistrarOptions) {
    this.navigator = given(options.navigator, browser.navigator)
    this.timers = options.timers ?? browser.timers()
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Why a space could not be registered, by space id. */
  readonly getSnapshot = (): ReadonlyMap<string, string> => this.problemsSnapshot

  /** Starts registering; returns the way to stop. */
  start(): () => void {
    this.stopped = false
    const stopListening = listen(given(this.options.window, browser.window), 'online', () => {
      this.attempt = 0
      this.kick()
    })
    const unsubscribe = this.options.catalog.subscribe(() => this.kick())
    this.kick()
    return () => {
      this.stopped = true
      stopListening()
      unsubscribe()
      this.timers.clearTimeout(this.timer)
      this.timer = null
    }
  }

  /** Tries now if there is anything to register and the browser says it is online. */
  kick(): void {
    if (this.stopped || this.running || !onLine(this.navigator)) return
    if (this.pending().length === 0) return
    this.timers.clearTimeout(this.timer)
    this.timer = null
    this.running = this.run().finally(() => (this.running = null))
  }

  /** Settles when the attempt under way (if any) has finished (tests, diagnostics). */
  async idle(): Promise<void> {
    await this.running
  }

  private pending(): UnregisteredSpace[] {
    return this.options.catalog.unregistered().filter((s) => !this.problems.has(s.id))
  }

  private async run(): Promise<void> {
    let retry = false
    /** REG-6: the longest `Retry-After` of this round's 429s. */
    let notBefore = 0
    for (const space of this.pending()) {
      if (this.stopped) return
      const r = await this.options.api.createSpace({
        id: space.id,
        ...(space.name ? { name: space.name } : {}),
        ...(space.engine && space.engine !== 'yjs' ? { engine: space.engine } : {}),
      })
      if (r.ok && r.id === space.id) {
        await this.options.catalog.recordTokens(space.id, {
          writeToken: r.writeToken,
          readToken: r.readToken,
        })
      } else if (r.ok) {
        this.problem(space.id, 'the server did not keep the id of this space, so it could not be registered')
      } else if (r.status === 429) {
        // REG-6: too many spaces from this address for now — not a problem of the space: later
        retry = true
        notBefore = Math.max(notBefore, r.retryAfterMs ?? 0)
      } else if (r.status === 501) {
        // ENG-4: a server that does not serve this engine: trying again cannot help
        this.problem(space.id, `the server does not serve ${space.engine ?? 'yjs'} spaces (${r.message})`)
      } else if (r.status === 409) {
        this.problem(space.id, 'the server already has a space with this id')
      } else if (r.status !== null && r.status >= 400 && r.status < 500) {
        this.problem(space.id, `the server refused to register it (${r.message})`)
      } else retry = true
    }
    if (retry && !this.stopped) {
      this.attempt++
      this.timer = this.timers.setTimeout(
        () => {
          this.timer = null
          this.kick()
        },
        Math.max(
          notBefore,
          backoffDelay(this.attempt, this.options.backoff ?? REGISTRATION_BACKOFF, this.options.random),
        ),
      )
    } else this.attempt = 0
  }

  private problem(id: string, message: string): void {
    this.problems.set(id, message)
    this.problemsSnapshot = new Map(this.problems)
    for (const l of this.listeners) l()
  }
}

/** A local id for a space created on this device without the server: 12 of [a-z0-9]. */
export const randomSpaceId = (): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let id = ''
  for (const b of browser.randomValues(new Uint8Array(12))) id += alphabet[b % 36]
  return id
}

export interface CreateSpaceOptions {
  /** The space's name as typed (trimmed; '' for none). */
  readonly name: string
  /** Whether the browser says it is online: offline, the server is not asked. */
  readonly online: boolean
  readonly api: Pick<SpaceApi, 'createSpace'>
  /** ms since epoch: the record's `createdAt` and `lastOpenedAt`. */
  readonly now: number
  /** ENG-1: the engine of the new space (default Yjs). */
  readonly engine?: EngineKind
}

/**
 * REG-7: a new space's catalog record. Online, the server creates it (`POST /api/spaces`) and the
 * record holds its id and tokens, registered; offline, or when the server could not create it, a
 * local space with an id made on this device (`randomSpaceId`), registered once online (REG-1).
 */
export const createSpaceRecord = async ({
  name,
  online,
  api,
  now,
  engine = 'yjs',
}: CreateSpaceOptions): Promise<SpaceRecord> => {
  const other = engine !== 'yjs' ? { engine } : {}
  const r = online ? await api.createSpace({ ...(name ? { name } : {}), ...other }) : null
  if (r?.ok)
    return {
      id: r.id,
      name,
      writeToken: r.writeToken,
      readToken: r.readToken,
      createdAt: now,
      lastOpenedAt: now,
      registered: true,
      ...other,
    }
  return { id: randomSpaceId(), name, createdAt: now, lastOpenedAt: now, registered: false, ...other }
}
