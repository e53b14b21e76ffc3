import type { Ref } from 'react'

interface NoticeProps {
  readonly testId: string
  /** What was just done, in calm words; null: nothing to say (the live region stays, empty). */
  readonly text: string | null
  /** Takes it back; left out (or read-only): no Undo. */
  readonly onUndo?: (() => void) | undefined
  readonly undoRef?: Ref<HTMLButtonElement>
  readonly onDismiss: () => void
}

/**
 * What a panel says after an action, with an Undo where the action can be taken back: a status region
 * that is always there (so screen readers hear what lands in it) and empty when there is nothing to say.
 */
export function Notice({ testId, text, onUndo, undoRef, onDismiss }: NoticeProps) {
  return (
    <div className="cart-notice" role="status" data-testid={testId}>
      {text !== null && (
        <>
          <span className="cart-notice-text">{text}</span>
          {onUndo && (
            <button ref={undoRef} type="button" className="button small" onClick={onUndo}>
              Undo
            </button>
          )}
          <button
            type="button"
            className="icon-button small"
            aria-label="Dismiss message"
            onClick={onDismiss}
          >
            ×
          </button>
        </>
      )}
    </div>
  )
}
