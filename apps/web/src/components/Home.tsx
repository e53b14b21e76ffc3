import { createSpaceRecord } from '@converge/sync-client'
import {
  type FormEvent,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react'
import { navigate, spacePath } from '../app/router.js'
import { MAX_NAME, formatWhen, safeText } from '../app/safe.js'
import { useServices } from '../app/services.js'
import type { SpaceRecord } from '../services/types.js'
import { ImportSpace } from './ImportSpace.js'
import { Notice } from './Notice.js'
import { ShareLinkForm } from './ShareLinkForm.js'
import { RemoveSpaceDialog, finishRemoval, startRemoval } from './RemoveSpaceDialog.js'

/** A space's name as listed (BAD-4 in the UI: the catalog copies it from the document). */
const nameOf = (s: SpaceRecord): string => safeText(s.name, MAX_NAME) || 'Untitled space'

/** How long "Removed … — Undo" stays before the space's data is deleted from the device. */
export const UNDO_REMOVE_MS = 10_000

/** Where focus goes once the list changed under it. */
type FocusTarget = { readonly space: string } | 'create' | null

/** Home screens mounted now: leaving the home screen finishes a removal, a StrictMode re-mount does not. */
let homesMounted = 0

/**
 * Once the new space's screen is there, focus goes to its "Add item" field (or its title when it
 * cannot be edited), unless the person already moved focus somewhere. Gives up after 10 s.
 */
function focusWhenShown(id: string): void {
  const deadline = performance.now() + 10_000
  const tryFocus = (): boolean => {
    const screen = [...document.querySelectorAll<HTMLElement>('[data-testid="space-screen"]')].find(
      (el) => el.dataset.spaceId === id,
    )
    if (!screen) return false
    const active = document.activeElement
    if (active && active !== document.body && active.id !== 'main') return true
    const field = screen.querySelector<HTMLInputElement>('input[aria-label="Add item"]')
    if (field && !field.disabled) {
      field.focus()
      return true
    }
    const title = screen.querySelector<HTMLElement>('[data-testid="space-name"]')
    if (title && field?.disabled) {
      if (!title.hasAttribute('tabindex')) title.setAttribute('tabindex', '-1')
      title.focus()
      return true
    }
    return false
  }
  const step = (): void => {
    if (tryFocus() || performance.now() > deadline) return
    requestAnimationFrame(step)
  }
  requestAnimationFrame(step)
}

export function Home() {
  const services = useServices()
  const { catalog, api, newSpaces } = services
  const { loaded, spaces, removing: removed } = useSyncExternalStore(catalog.subscribe, catalog.getSnapshot)
  const [name, setName] = useState('')
  const [creating, setCreating] = useState(false)
  const [engine, setEngine] = useState<'yjs' | 'automerge'>('yjs')
  const [removing, setRemoving] = useState<SpaceRecord | null>(null)
  const [focusTarget, setFocusTarget] = useState<FocusTarget>(null)
  const createField = useRef<HTMLInputElement>(null)
  const listRef = useRef<HTMLUListElement>(null)
  const removedId = removed?.id ?? null

  // focus after the list changed: the next space, the "Space name" field, or the restored space
  useLayoutEffect(() => {
    if (focusTarget === null) return
    setFocusTarget(null)
    if (focusTarget === 'create') {
      createField.current?.focus()
      return
    }
    const card = [...(listRef.current?.querySelectorAll<HTMLElement>('[data-space-id]') ?? [])].find(
      (el) => el.dataset.spaceId === focusTarget.space,
    )
    const target = card?.querySelector<HTMLElement>('.space-link')
    if (target) target.focus()
    else createField.current?.focus()
  }, [focusTarget])

  /** Focus for after `s` left the list: the space below it, else above it, else "Space name". */
  const focusAfterRemoving = useCallback(
    (s: SpaceRecord): void => {
      const i = spaces.findIndex((x) => x.id === s.id)
      const next = spaces[i + 1] ?? spaces[i - 1]
      setFocusTarget(next && next.id !== s.id ? { space: next.id } : 'create')
    },
    [spaces],
  )

  const finish = useCallback(
    (id: string): void => {
      void finishRemoval(services, id)
    },
    [services],
  )

  // the notice times out: the data is deleted
  useEffect(() => {
    if (removedId === null) return
    const timer = setTimeout(() => finish(removedId), UNDO_REMOVE_MS)
    return () => clearTimeout(timer)
  }, [removedId, finish])

  // the page is left (closed, reloaded, another site): the data is deleted
  useEffect(() => {
    if (removedId === null) return
    const onHide = (): void => finish(removedId)
    window.addEventListener('pagehide', onHide)
    return () => window.removeEventListener('pagehide', onHide)
  }, [removedId, finish])

  // the home screen is left (a space opened): the data is deleted
  useEffect(() => {
    homesMounted++
    return () => {
      homesMounted--
      setTimeout(() => {
        const pending = catalog.getSnapshot().removing
        if (homesMounted === 0 && pending) void finishRemoval(services, pending.id)
      }, 0)
    }
  }, [catalog, services])

  const askRemove = async (s: SpaceRecord): Promise<void> => {
    // a space the server never had, or with changes it has not confirmed: say what would be lost first
    const unsynced = s.registered ? await catalog.unsyncedChanges(s.id) : null
    if (unsynced !== 0) {
      setRemoving(s)
      return
    }
    focusAfterRemoving(s)
    startRemoval(services, s.id)
  }

  const undoRemove = (): void => {
    if (removedId === null) return
    const back = catalog.restore(removedId)
    if (back) setFocusTarget({ space: back.id })
  }

  const dismissRemove = (): void => {
    if (removedId === null) return
    // the Undo goes away: focus stays in the list
    setFocusTarget(spaces[0] ? { space: spaces[0].id } : 'create')
    finish(removedId)
  }

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (creating) return
    setCreating(true)
    const spaceName = name.trim()
    // on the server when online; else (or when it cannot be reached) local, registered once online
    const record = await createSpaceRecord({
      name: spaceName,
      online: navigator.onLine,
      api,
      now: Date.now(),
      engine,
    })
    await catalog.put(record)
    newSpaces.set(record.id, { name: spaceName })
    setCreating(false)
    setName('')
    setEngine('yjs')
    navigate(spacePath(record.id))
    focusWhenShown(record.id)
  }

  return (
    <main id="main" className="home" tabIndex={-1}>
      <section className="card" aria-labelledby="spaces-heading">
        <h1 id="spaces-heading" className="section-title">
          Spaces on this device
        </h1>
        <Notice
          testId="remove-notice"
          text={removed ? `Removed “${nameOf(removed)}” from this device` : null}
          onUndo={removed ? undoRemove : undefined}
          onDismiss={dismissRemove}
        />
        {!loaded ? (
          <p className="muted">Loading…</p>
        ) : spaces.length === 0 ? (
          <p className="empty" data-testid="empty-spaces">
            No spaces on this device yet — create one or open a share link
          </p>
        ) : (
          <ul ref={listRef} className="space-list" data-testid="space-list">
            {spaces.map((s) => (
              <li key={s.id} className="space-card" data-testid="space-card" data-space-id={s.id}>
                <a
                  className="space-link"
                  href={spacePath(s.id)}
                  onClick={(e) => {
                    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
                    e.preventDefault()
                    navigate(spacePath(s.id))
                  }}
                >
                  <span className="space-name">{nameOf(s)}</span>
                  <span className="space-meta">
                    Opened {formatWhen(s.lastOpenedAt)}
                    {!s.writeToken && s.readToken && <span className="badge">read-only</span>}
                    {!s.registered && <span className="badge warn">not on the server yet</span>}
                    {s.engine === 'automerge' && <span className="badge">Automerge</span>}
                  </span>
                </a>
                <button
                  type="button"
                  className="button subtle"
                  aria-label={`Remove ${nameOf(s)} from this device`}
                  onClick={() => void askRemove(s)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby="create-heading">
        <h2 id="create-heading" className="section-title">
          Create a space
        </h2>
        <form className="inline-form" onSubmit={(e) => void create(e)}>
          <label className="field grow">
            <span className="field-label">Space name</span>
            <input
              ref={createField}
              className="input"
              value={name}
              maxLength={200}
              placeholder="e.g. Flat 3B"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <button type="submit" className="button primary" disabled={creating}>
            {creating ? 'Creating…' : 'Create space'}
          </button>
        </form>
        <details className="create-options" data-testid="create-options">
          <summary>Sync engine: {engine === 'automerge' ? 'Automerge' : 'Yjs (standard)'}</summary>
          <fieldset className="engine-choice">
            <legend className="field-label">How this space stores and merges its changes</legend>
            <label>
              <input
                type="radio"
                name="engine"
                value="yjs"
                checked={engine === 'yjs'}
                onChange={() => setEngine('yjs')}
              />{' '}
              Yjs — the standard; fastest to open
            </label>
            <label>
              <input
                type="radio"
                name="engine"
                value="automerge"
                checked={engine === 'automerge'}
                onChange={() => setEngine('automerge')}
              />{' '}
              Automerge — the same list and notes on Automerge; loads about 1 MB more the first time
            </label>
            <p className="hint">Chosen once: a space keeps its engine. Share links carry it.</p>
          </fieldset>
        </details>
        <p className="hint">
          Works offline too: the space is registered with the server once you are online.
        </p>
      </section>

      <section className="card" aria-labelledby="join-heading">
        <h2 id="join-heading" className="section-title">
          Open a share link
        </h2>
        <ShareLinkForm />
      </section>

      <ImportSpace />

      {removing && (
        <RemoveSpaceDialog
          space={removing}
          onClose={() => setRemoving(null)}
          onRemoved={() => focusAfterRemoving(removing)}
        />
      )}
    </main>
  )
}
