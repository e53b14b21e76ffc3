import { type ReactNode, useEffect, useId, useRef } from 'react'

interface DialogProps {
  readonly title: string
  readonly onClose: () => void
  readonly children: ReactNode
  readonly description?: string
  readonly testId?: string
  /** role="alertdialog" for confirmations */
  readonly alert?: boolean
}

/**
 * A modal dialog on the native <dialog> element: focus moves in and is trapped, Escape closes it
 * (the `cancel` event), and focus returns to where it was when it closes (or to the page's <main> when
 * that control is gone, never to <body>). Mount it to open it.
 */
export function Dialog({ title, onClose, children, description, testId, alert }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  const descriptionId = useId()
  const onCloseRef = useRef(onClose)
  onCloseRef.current = onClose

  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!dialog.open) dialog.showModal()
    return () => {
      if (dialog.open) dialog.close()
      if (opener?.isConnected && opener !== document.body) opener.focus()
      else if (!document.activeElement || document.activeElement === document.body)
        // opened by no control (the first-run profile), or its control is gone: focus never ends on <body>
        document.getElementById('main')?.focus()
    }
  }, [])

  return (
    <dialog
      ref={ref}
      className="dialog"
      role={alert ? 'alertdialog' : undefined}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault()
        onCloseRef.current()
      }}
      onClick={(e) => {
        // a click on the backdrop (the dialog element itself, outside its content) closes it
        if (e.target === ref.current) onCloseRef.current()
      }}
    >
      <div className="dialog-body">
        <h2 id={titleId} className="dialog-title">
          {title}
        </h2>
        {description && (
          <p id={descriptionId} className="dialog-description">
            {description}
          </p>
        )}
        {children}
      </div>
    </dialog>
  )
}
