import type { ReactNode } from 'react'

interface BannerProps {
  readonly kind: 'error' | 'warning' | 'info'
  readonly children: ReactNode
  readonly testId?: string
  /** role="alert" unless said otherwise (a calm note uses role="note") */
  readonly role?: 'alert' | 'note'
  readonly action?: ReactNode
  readonly onDismiss?: () => void
}

const ICON = { error: '!', warning: '!', info: 'i' } as const

/** What happened and what still works, in plain words. */
export function Banner({ kind, children, testId, role = 'alert', action, onDismiss }: BannerProps) {
  return (
    <div className={`banner banner-${kind}`} role={role} data-testid={testId}>
      <span className="banner-icon" aria-hidden="true">
        {ICON[kind]}
      </span>
      <div className="banner-text">{children}</div>
      {action}
      {onDismiss && (
        <button type="button" className="icon-button" aria-label="Dismiss" onClick={onDismiss}>
          <span aria-hidden="true">×</span>
        </button>
      )}
    </div>
  )
}
