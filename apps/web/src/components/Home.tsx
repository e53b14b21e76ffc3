import { type FormEvent, useState, useSyncExternalStore } from 'react'
import { navigate, spacePath } from '../app/router.js'
import { MAX_NAME, formatWhen, safeText } from '../app/safe.js'
import { useServices } from '../app/services.js'
import { parseShareLink, randomSpaceId } from '../services/tokens.js'
import type { SpaceRecord } from '../services/types.js'
import { RemoveSpaceDialog } from './RemoveSpaceDialog.js'

/** A space's name as listed (BAD-4 in the UI: the catalog copies it from the document). */
const nameOf = (s: SpaceRecord): string => safeText(s.name, MAX_NAME) || 'Untitled space'

export function Home() {
  const { catalog, api, newSpaces } = useServices()
  const { loaded, spaces } = useSyncExternalStore(catalog.subscribe, catalog.getSnapshot)
  const [name, setName] = useState('')
  const [creating, setCreating] = useState(false)
  const [link, setLink] = useState('')
  const [linkError, setLinkError] = useState<string | null>(null)
  const [removing, setRemoving] = useState<SpaceRecord | null>(null)

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (creating) return
    setCreating(true)
    const spaceName = name.trim()
    const now = Date.now()
    const r = navigator.onLine ? await api.createSpace(spaceName ? { name: spaceName } : {}) : null
    const record: SpaceRecord = r?.ok
      ? {
          id: r.id,
          name: spaceName,
          writeToken: r.writeToken,
          readToken: r.readToken,
          createdAt: now,
          lastOpenedAt: now,
          registered: true,
        }
      : // offline, or the server could not be reached: a local space, registered once online
        { id: randomSpaceId(), name: spaceName, createdAt: now, lastOpenedAt: now, registered: false }
    await catalog.put(record)
    newSpaces.set(record.id, spaceName)
    setCreating(false)
    setName('')
    navigate(spacePath(record.id))
  }

  const open = (e: FormEvent): void => {
    e.preventDefault()
    const parsed = parseShareLink(link)
    if (!parsed) {
      setLinkError('That is not a Converge share link (it looks like https://…/s/…#t=…).')
      return
    }
    setLinkError(null)
    setLink('')
    navigate(spacePath(parsed.id) + (parsed.token ? `#t=${encodeURIComponent(parsed.token)}` : ''))
  }

  return (
    <main id="main" className="home" tabIndex={-1}>
      <section className="card" aria-labelledby="spaces-heading">
        <h1 id="spaces-heading" className="section-title">
          Spaces on this device
        </h1>
        {!loaded ? (
          <p className="muted">Loading…</p>
        ) : spaces.length === 0 ? (
          <p className="empty" data-testid="empty-spaces">
            No spaces on this device yet — create one or open a share link
          </p>
        ) : (
          <ul className="space-list" data-testid="space-list">
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
                  </span>
                </a>
                <button
                  type="button"
                  className="button subtle"
                  aria-label={`Remove ${nameOf(s)} from this device`}
                  onClick={() => setRemoving(s)}
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
        <p className="hint">
          Works offline too: the space is registered with the server once you are online.
        </p>
      </section>

      <section className="card" aria-labelledby="join-heading">
        <h2 id="join-heading" className="section-title">
          Open a share link
        </h2>
        <form className="inline-form" onSubmit={open}>
          <label className="field grow">
            <span className="field-label">Share link</span>
            <input
              className="input"
              value={link}
              inputMode="url"
              placeholder="https://…/s/…#t=…"
              aria-invalid={linkError ? true : undefined}
              aria-describedby={linkError ? 'link-error' : undefined}
              onChange={(e) => setLink(e.target.value)}
            />
          </label>
          <button type="submit" className="button" disabled={link.trim() === ''}>
            Open
          </button>
        </form>
        {linkError && (
          <p id="link-error" className="field-error" role="alert">
            {linkError}
          </p>
        )}
      </section>

      {removing && <RemoveSpaceDialog space={removing} onClose={() => setRemoving(null)} />}
    </main>
  )
}
