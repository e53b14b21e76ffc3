import { useSyncExternalStore } from 'react'
import { useServices } from '../app/services.js'
import { Banner } from './Banner.js'

const STILL_SYNCS =
  'They still sync to the server while you are online; what has not synced is lost when this tab closes.'

/** Device storage failed: what happened, and what still works. */
export function StorageBanner() {
  const { storage } = useServices()
  const { problem } = useSyncExternalStore(storage.subscribe, storage.getSnapshot)
  if (!problem) return null
  const reload = (
    <button type="button" className="button small" onClick={() => location.reload()}>
      Reload
    </button>
  )
  switch (problem.kind) {
    case 'Unavailable':
      return (
        <Banner kind="warning" testId="banner-storage">
          Storage on this device is not available (IndexedDB could not be opened), so changes are kept in
          memory only in this tab. {STILL_SYNCS}
        </Banner>
      )
    case 'VersionChange':
      return (
        <Banner kind="warning" testId="banner-storage" action={reload}>
          Converge was updated in another tab, so this tab stopped saving to this device: changes are kept in
          memory only in this tab. {STILL_SYNCS} Reload to save on this device again.
        </Banner>
      )
    case 'QuotaExceeded':
      return (
        <Banner kind="warning" testId="banner-storage">
          This device is out of storage space, so changes are kept in memory only in this tab. {STILL_SYNCS}{' '}
          Free some space, then reload.
        </Banner>
      )
    case 'Corrupt':
      return (
        <Banner kind="info" testId="banner-storage" onDismiss={() => storage.dismiss()}>
          Something stored on this device could not be read and was skipped ({problem.detail}). Everything
          else works as usual.
        </Banner>
      )
    case 'Failed':
      return (
        <Banner kind="warning" testId="banner-storage" action={reload}>
          Saving on this device failed ({problem.detail}), so changes are kept in memory only in this tab.{' '}
          {STILL_SYNCS}
        </Banner>
      )
  }
}
