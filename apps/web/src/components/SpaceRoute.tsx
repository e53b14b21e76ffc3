import { HomeLink } from './HomeLink.js'
import { useEffect, useSyncExternalStore } from 'react'
import { navigate, spacePath } from '../app/router.js'
import { useServices } from '../app/services.js'
import { fragmentEngine, fragmentToken } from '../services/tokens.js'
import { ShareLinkForm } from './ShareLinkForm.js'
import { SpaceScreen } from './SpaceScreen.js'

/**
 * A space's address without its key: what someone gets who copies the address bar (the token left it
 * when the link was opened, to stay out of history). Says plainly what that address is, and takes the
 * share link right here.
 */
function NotOnThisDevice() {
  return (
    <main id="main" className="center-note" tabIndex={-1}>
      <div className="card narrow" data-testid="not-on-device">
        <h1 className="section-title">This space is not on this device</h1>
        <p>
          This address shows a space only on a device that already has it — it was copied from the address
          bar, which leaves out the space’s key. To open the space here, ask someone in it for its share link
          (Share → copy the link: it ends with “#t=…”), and open or paste it.
        </p>
        <ShareLinkForm requireKey primary />
        <p>
          <HomeLink className="button" />
        </p>
      </div>
    </main>
  )
}

/**
 * `/s/:id`: joins from a share link first (the token in the fragment goes into the catalog and the
 * URL is replaced by `/s/:id`, so the token is not left in history), then shows the space.
 */
export function SpaceRoute({ id, hash }: { readonly id: string; readonly hash: string }) {
  const { catalog } = useServices()
  const { loaded, spaces } = useSyncExternalStore(catalog.subscribe, catalog.getSnapshot)
  const token = fragmentToken(hash)
  const engine = fragmentEngine(hash)
  const record = spaces.find((s) => s.id === id)

  useEffect(() => {
    if (!token || !loaded) return
    let live = true
    void catalog.join(id, token, engine).then(() => {
      if (live) navigate(spacePath(id), { replace: true })
    })
    return () => {
      live = false
    }
  }, [catalog, id, token, engine, loaded])

  if (token || !loaded)
    return (
      <main id="main" className="center-note" tabIndex={-1}>
        <p className="muted">{token ? 'Opening the shared space…' : 'Loading…'}</p>
      </main>
    )
  if (!record) return <NotOnThisDevice />
  return <SpaceScreen key={id} record={record} />
}
