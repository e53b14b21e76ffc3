import { useState } from 'react'
import { MAX_NAME, safeText } from '../app/safe.js'
import { useServices } from '../app/services.js'
import type { SpaceRecord } from '../services/types.js'
import { Dialog } from './Dialog.js'

interface Props {
  readonly space: SpaceRecord
  readonly onClose: () => void
  readonly onRemoved?: () => void
}

/** Confirms, then closes the space's session and deletes its data from this device. */
export function RemoveSpaceDialog({ space, onClose, onRemoved }: Props) {
  const { catalog, sessions } = useServices()
  const [busy, setBusy] = useState(false)
  const name = safeText(space.name, MAX_NAME) || 'Untitled space'
  const remove = async (): Promise<void> => {
    setBusy(true)
    await sessions.close(space.id)
    await catalog.remove(space.id)
    setBusy(false)
    onRemoved?.()
    onClose()
  }
  return (
    <Dialog
      title={`Remove “${name}” from this device?`}
      description={
        space.registered
          ? 'Its data is deleted from this device. The space stays on the server for everyone else; you can open it again with a share link. Changes not yet saved to the server are lost.'
          : 'This space was never saved to the server, so removing it deletes it for good.'
      }
      testId="remove-dialog"
      alert
      onClose={onClose}
    >
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} autoFocus>
          Cancel
        </button>
        <button type="button" className="button danger" disabled={busy} onClick={() => void remove()}>
          Remove from this device
        </button>
      </div>
    </Dialog>
  )
}
