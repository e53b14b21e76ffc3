import { ErrorBoundary } from '../components/ErrorBoundary.js'
import { HomeLink } from '../components/HomeLink.js'
import { useState, useSyncExternalStore } from 'react'
import { Home } from '../components/Home.js'
import { ProfileDialog } from '../components/ProfileDialog.js'
import { SpaceRoute } from '../components/SpaceRoute.js'
import { StorageBanner } from '../components/StorageBanner.js'
import { initials } from '../services/profile.js'
import { navigate, parseRoute, useLocation } from './router.js'
import { useServices } from './services.js'

export function App() {
  const { profile } = useServices()
  const { pathname, hash } = useLocation()
  const route = parseRoute(pathname)
  const me = useSyncExternalStore(profile.subscribe, profile.getSnapshot)
  const [editingProfile, setEditingProfile] = useState(false)

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <a
          href="/"
          className="brand"
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
            e.preventDefault()
            navigate('/')
          }}
        >
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Converge</span>
        </a>
        <button
          type="button"
          className="profile-button"
          aria-label={`Your name and colour: ${me.profile.name}. Change`}
          data-testid="profile-button"
          onClick={() => setEditingProfile(true)}
        >
          <span className="avatar small" style={{ background: me.profile.color }} aria-hidden="true">
            {initials(me.profile.name)}
          </span>
          <span className="profile-name">{me.profile.name}</span>
        </button>
      </header>
      <div className="app-banners">
        <StorageBanner />
      </div>
      {route.name === 'home' ? (
        <ErrorBoundary key="home" name="home" what="This screen" screen>
          <Home />
        </ErrorBoundary>
      ) : route.name === 'space' ? (
        <ErrorBoundary key={`space:${route.id}`} name="space" what="This space" screen homeLink>
          <SpaceRoute id={route.id} hash={hash} />
        </ErrorBoundary>
      ) : (
        <main id="main" className="center-note" tabIndex={-1}>
          <div className="card narrow">
            <h1 className="section-title">Page not found</h1>
            <p>
              <HomeLink />
            </p>
          </div>
        </main>
      )}
      {(!me.chosen || editingProfile) && (
        <ProfileDialog
          profile={me.profile}
          firstRun={!me.chosen}
          onSave={(p) => {
            profile.set(p)
            setEditingProfile(false)
          }}
          onClose={() => setEditingProfile(false)}
        />
      )}
    </>
  )
}
