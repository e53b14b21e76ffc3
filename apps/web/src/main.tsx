/**
 * The composition root, and the only one: opens the device store (or runs memory-only), builds the
 * server URLs from `location`, wires the services and passes them down through React context.
 */
import { isMergeError } from '@converge/merge'
import {
  IdbStore,
  SpaceRegistrar,
  SpaceSession,
  StoreError,
  httpHistoryApi,
  httpSpaceApi,
  httpTripsApi,
} from '@converge/sync-client'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app/App.js'
import { type Services, ServicesContext } from './app/services.js'
import { breakRender } from './app/tripwire.js'
import { ErrorBoundary } from './components/ErrorBoundary.js'
import { Catalog } from './services/catalog.js'
import { ProfileStore, fragmentProfile } from './services/profile.js'
import { SessionManager } from './services/sessions.js'
import { StorageStatus } from './services/storage-status.js'
import { storeProblem } from './services/types.js'
import './styles.css'

declare global {
  interface Window {
    /** Test hooks, only in a build with VITE_TEST_HOOKS=1. */
    __converge?: {
      session(): SpaceSession | null
      snapshot(): unknown
      /** Makes the part behind an ErrorBoundary (by its name) throw while rendering, or stop (tripwire.ts). */
      breakRender(name: string, on?: boolean): void
    }
  }
}

async function start(): Promise<void> {
  const origin = location.origin
  const apiBase = `${origin}/api`
  const syncUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/sync`

  // set once the store is open; the store's callbacks only fire later
  let storage: StorageStatus | null = null
  let store: IdbStore | null = null
  let startupProblem = null
  try {
    store = await IdbStore.open({
      onVersionChange: () =>
        storage?.report(new StoreError('VersionChange', 'the database was upgraded by another tab')),
      onCorrupt: (_spaceId, _key, reason) => storage?.report(new Error(reason), true),
    })
  } catch (e) {
    startupProblem = storeProblem(e)
  }
  const status = new StorageStatus(startupProblem)
  storage = status

  let localStorageRef: Storage | null = null
  try {
    localStorageRef = window.localStorage
  } catch {
    /* blocked: the profile lives in memory */
  }
  const profile = new ProfileStore(localStorageRef)
  // a profile link from another device (`/#me=…`): this device becomes that person; the fragment
  // leaves the address bar at once
  const linked = fragmentProfile(location.hash)
  if (linked) {
    profile.adopt(linked)
    history.replaceState(null, '', location.pathname + location.search)
  }
  const catalog = new Catalog(store, (e) => status.report(e))
  const api = httpSpaceApi(apiBase)
  const trips = httpTripsApi(apiBase)
  const versions = httpHistoryApi(apiBase)
  const sessions = new SessionManager(
    ({ spaceId, engine, token, readOnly, user }) =>
      SpaceSession.open({
        spaceId,
        engine,
        token,
        readOnly,
        serverUrl: syncUrl,
        store: status.memoryOnly ? null : store,
        user,
        onStoreError: (e) => status.report(e, isMergeError(e)),
      }),
    () => status.memoryOnly,
    profile.getSnapshot(),
  )
  profile.subscribe(() => sessions.setUser(profile.getSnapshot()))
  // registers the spaces created offline once online; the catalog records their tokens
  const registrar = new SpaceRegistrar({ api, catalog })

  const services: Services = {
    origin,
    catalog,
    registrar,
    profile,
    sessions,
    api,
    trips,
    history: versions,
    storage: status,
    newSpaces: new Map(),
  }

  if (import.meta.env.VITE_TEST_HOOKS === '1') {
    window.__converge = {
      session: () => sessions.active,
      snapshot: () => sessions.active?.space.snapshot() ?? null,
      breakRender,
    }
  }

  await catalog.load()
  registrar.start()
  // another tab may have added or removed spaces meanwhile
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void catalog.load()
  })

  const root = document.getElementById('root')
  if (!root) throw new Error('index.html has no #root')
  createRoot(root, {
    // an ErrorBoundary logs what it caught once, as a warning; React would also log it as an error
    onCaughtError: (error, info) => {
      if (!(info.errorBoundary instanceof ErrorBoundary))
        console.warn('Converge: a part of the app could not be shown.', error, info.componentStack ?? '')
    },
  }).render(
    <StrictMode>
      <ServicesContext.Provider value={services}>
        {/* the last resort; each screen and panel has a boundary of its own (App, SpaceScreen, Notes) */}
        <ErrorBoundary name="app" what="This page" screen>
          <App />
        </ErrorBoundary>
      </ServicesContext.Provider>
    </StrictMode>,
  )
}

void start()
