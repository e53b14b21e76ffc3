import { MAX_NAME, safeText } from '../app/safe.js'
import { type Services, useServices } from '../app/services.js'
import type { SpaceRecord } from '../services/types.js'
import { Dialog } from './Dialog.js'

interface Props {
  readonly space: SpaceRecord
  readonly onClose: () => void
  /** The space left the list (its removal can still be undone from the home screen). */
  readonly onRemoved?: () => void
}

type RemovalServices = Pick<Services, 'catalog' | 'sessions'>

/** Deletes a space's data from this device for good: its session is closed first. */
export async function finishRemoval({ catalog, sessions }: RemovalServices, id: string): Promise<void> {
  await sessions.close(id)
  await catalog.remove(id)
}

/**
 * Takes a space off the list at once, its data kept until the home screen's notice is dismissed, times
 * out or the page is left (Undo brings it back). A removal still waiting for its Undo is finished now.
 */
export function startRemoval(services: RemovalServices, id: string): void {
  const { previous } = services.catalog.hide(id)
  if (previous !== null) void finishRemoval(services, previous)
}

/**
 * Confirms removing a space that may hold changes the server does not have (or that was never on the
 * server): the warning says what would be lost. Confirming takes it off the list; the home screen
 * offers Undo before anything is deleted.
 */
export function RemoveSpaceDialog({ space, onClose, onRemoved }: Props) {
  const services = useServices()
  const name = safeText(space.name, MAX_NAME) || 'Untitled space'
  const remove = (): void => {
    startRemoval(services, space.id)
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
        <button type="button" className="button danger" onClick={remove}>
          Remove from this device
        </button>
      </div>
    </Dialog>
  )
}
