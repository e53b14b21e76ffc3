import { HomeLink } from './HomeLink.js'
import { useEffect, useSyncExternalStore } from 'react'
import { navigate, spacePath } from '../app/router.js'
import { useServices } from '../app/services.js'
import { fragmentToken } from '../services/tokens.js'
import { SpaceScreen } from './SpaceScreen.js'

/**
 * `/s/:id`: joins from a share link first (the token in the fragment goes into the catalog and the
 * URL is replaced by `/s/:id`, so the token is not left in history), then shows the space.
 */
export function SpaceRoute({ id, hash }: { readonly id: string; readonly hash: string }) {
  const { catalog } = useServices()
  const { loaded, spaces } = useSyncExternalStore(catalog.subscribe, catalog.getSnapshot)
  const token = fragmentToken(hash)
  const record = spaces.find((s) => s.id === id)

  useEffect(() => {
    if (!token || !loaded) return
    let live = true
    void catalog.join(id, token).then(() => {
      if (live) navigate(spacePath(id), { replace: true })
    })
    return () => {
      live = false
    }
  }, [catalog, id, token, loaded])

  if (token || !loaded)
    return (
      <main id="main" className="center-note" tabIndex={-1}>
        <p className="muted">{token ? 'Opening the shared space…' : 'Loading…'}</p>
      </main>
    )
  if (!record)
    return (
      <main id="main" className="center-note" tabIndex={-1}>
        <div className="card narrow">
          <h1 className="section-title">This space is not on this device</h1>
          <p>Open it with its share link (the whole link, including the part after “#”).</p>
          <p>
            <HomeLink className="button" />
          </p>
        </div>
      </main>
    )
  return <SpaceScreen key={id} record={record} />
}
