import { Component, type ErrorInfo, type ReactNode } from 'react'
import { Tripwire } from '../app/tripwire.js'
import { HomeLink } from './HomeLink.js'

interface Props {
  readonly children: ReactNode
  /** Names the part in the log line, and in `data-boundary` (e.g. "cart", "notes", "note-editor"). */
  readonly name: string
  /** What could not be shown, in the message: "This list" (default), "This note", "This screen". */
  readonly what?: string
  /** Shows the message as a card of its own (in place of a panel that is a card). */
  readonly card?: boolean
  /** In place of a whole screen: the message is the page's `<main>` (the skip link's target). */
  readonly screen?: boolean
  /** Offers "Back to your lists" (screen-level boundaries). */
  readonly homeLink?: boolean
  /** Shows the children again when this changes (another note selected, another space opened). */
  readonly resetKey?: unknown
}

interface State {
  readonly failed: boolean
  readonly resetKey: unknown
}

/**
 * Catches what its children throw while rendering, and shows a calm message with "Try again" in their
 * place: the rest of the app keeps working. The error is logged once, as a warning (never the stack to
 * the user). React's own report of caught errors is silenced for these boundaries in main.tsx.
 */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { failed: false, resetKey: this.props.resetKey }

  static getDerivedStateFromError(): Partial<State> {
    return { failed: true }
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return Object.is(props.resetKey, state.resetKey) ? null : { failed: false, resetKey: props.resetKey }
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.warn(
      `Converge: the ${this.props.name} part could not be shown.`,
      error,
      info.componentStack ?? '',
    )
  }

  private readonly reset = (): void => this.setState({ failed: false })

  override render(): ReactNode {
    const { children, name, what = 'This list', card, screen, homeLink } = this.props
    if (!this.state.failed)
      return (
        <>
          {import.meta.env.VITE_TEST_HOOKS === '1' && <Tripwire name={name} />}
          {children}
        </>
      )
    const message = (
      <div
        className={card || screen ? 'card render-error' : 'render-error'}
        role="alert"
        data-testid="render-error"
        data-boundary={name}
      >
        <p className="render-error-text">{what} couldn’t be shown. Your data is safe on this device.</p>
        <div className="render-error-actions">
          <button type="button" className="button" onClick={this.reset}>
            Try again
          </button>
          {homeLink && <HomeLink className="button subtle" label="Back to your lists" />}
        </div>
      </div>
    )
    return screen ? (
      <main id="main" className="center-note" tabIndex={-1}>
        {message}
      </main>
    ) : (
      message
    )
  }
}
