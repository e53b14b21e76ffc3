/**
 * The browser as sync-client sees it, and the one place that reads its globals (SPEC.md, "Parts").
 *
 * Every part takes what it needs of the browser as an option typed by the small interfaces below.
 * An option left out (`undefined`) means "the browser's own", read here; `null` means "there is none"
 * (no other tabs, no Web Lock, no page events). Tests pass fakes and a stepped clock.
 */

/** A clock to schedule on (the browser's `setTimeout`; tests step time by hand). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The `window` events sync-client follows: the browser going offline and coming back online, and the page getting focus (SYNC-8). */
export type NetworkEvent = 'online' | 'offline' | 'focus'

/** What sync-client needs of `window`. */
export interface WindowEvents {
  addEventListener(type: NetworkEvent, listener: () => void): void
  removeEventListener(type: NetworkEvent, listener: () => void): void
}

/**
 * The page lifecycle events after which no later task may come: the tab is closing or going to the
 * background (where the browser may freeze or discard it). `visibilitychange` and `freeze` are fired
 * at `document`; a capturing listener on `window` hears them on their way.
 */
export type PageEvent = 'pagehide' | 'visibilitychange' | 'freeze'

/** What sync-client needs of `window` for the page's lifecycle (listened to with `capture`). */
export interface PageEvents {
  addEventListener(type: PageEvent, listener: () => void, options: { capture: true }): void
  removeEventListener(type: PageEvent, listener: () => void, options: { capture: true }): void
}

/** What sync-client reads of `navigator`. */
export interface NavigatorLike {
  /** `false` when the browser knows it is offline; missing (Node, a worker) counts as online. */
  readonly onLine?: boolean
  /** The Web Locks API: which tab leads a space. */
  readonly locks?: LockManager
  /** The browser and its version, for the diagnostics a person copies into a bug report (DIAG-4). */
  readonly userAgent?: string
}

/** The browser's own, for every option left out. */
export const browser = {
  window: (): WindowEvents | null => (typeof window === 'undefined' ? null : window),
  page: (): PageEvents | null => (typeof window === 'undefined' ? null : window),
  navigator: (): NavigatorLike | null => (typeof navigator === 'undefined' ? null : navigator),
  BroadcastChannel: (): typeof BroadcastChannel | null =>
    typeof BroadcastChannel === 'undefined' ? null : BroadcastChannel,
  WebSocket: (): typeof WebSocket | null => (typeof WebSocket === 'undefined' ? null : WebSocket),
  fetch: (): typeof fetch | null => (typeof fetch === 'undefined' ? null : (...a) => fetch(...a)),
  indexedDB: (): IDBFactory | null => (typeof indexedDB === 'undefined' ? null : indexedDB),
  /** Whether the IndexedDB interfaces `idb` relies on exist (a bare factory without them is no use). */
  hasIndexedDBInterfaces: (): boolean =>
    typeof IDBRequest !== 'undefined' && typeof IDBTransaction !== 'undefined',
  /** `crypto.getRandomValues`: fills `bytes` with random values (local space ids). */
  randomValues: (bytes: Uint8Array): Uint8Array => crypto.getRandomValues(bytes),
  /** The wall clock, ms since the epoch (the diagnostics' and reports' times, PROBE-2, DIAG-1). */
  now: (): number => Date.now(),
  timers: (): Timers => ({
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  }),
} as const

/** An option as given, or the browser's own when it was left out. */
export const given = <T>(option: T | null | undefined, own: () => T | null): T | null =>
  option === undefined ? own() : option

/** Whether the browser says it is online (unknown counts as online: only a definite no holds back). */
export const onLine = (nav: NavigatorLike | null): boolean => nav?.onLine !== false

/** Listens to a network event; returns the way to stop. */
export const listen = (
  target: WindowEvents | null,
  type: NetworkEvent,
  listener: () => void,
): (() => void) => {
  if (!target) return () => {}
  target.addEventListener(type, listener)
  return () => target.removeEventListener(type, listener)
}

/** Listens to every page lifecycle event (`PageEvent`); returns the way to stop. */
export const listenPage = (target: PageEvents | null, listener: () => void): (() => void) => {
  if (!target) return () => {}
  const types: PageEvent[] = ['pagehide', 'visibilitychange', 'freeze']
  for (const type of types) target.addEventListener(type, listener, { capture: true })
  return () => {
    for (const type of types) target.removeEventListener(type, listener, { capture: true })
  }
}

/** What a session does on the browser's events. */
export interface BrowserEventHandlers {
  /** `offline` (SYNC-8). */
  readonly offline: () => void
  /** `online` (SYNC-8). */
  readonly online: () => void
  /** `focus`: someone looks at the page (SYNC-8). */
  readonly focus: () => void
  /** A page lifecycle event (`PageEvent`): the page may be gone before the end of this task (LOCAL-5). */
  readonly pageLeaving: () => void
}

/**
 * Follows the network events of `window` and the page's lifecycle events of `page`, as given (left
 * out: the browser's own; null: none); returns the way to stop.
 */
export const followBrowser = (
  targets: { readonly window?: WindowEvents | null; readonly page?: PageEvents | null },
  on: BrowserEventHandlers,
): (() => void) => {
  const win = given(targets.window, browser.window)
  const stops = [
    listen(win, 'offline', on.offline),
    listen(win, 'online', on.online),
    listen(win, 'focus', on.focus),
    listenPage(given(targets.page, browser.page), on.pageLeaving),
  ]
  return () => {
    for (const stop of stops) stop()
  }
}
