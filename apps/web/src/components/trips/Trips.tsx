import type { SyncStatus, Trip, TripsApi, ServerView } from '@converge/sync-client'
import { useEffect, useRef, useState } from 'react'
import { finishProblem, newTripKey, tripMonths, tripSummary, tripWhen } from '../../app/trips.js'
import { formatCount, formatPrice, safeText } from '../../app/safe.js'
import { Dialog } from '../Dialog.js'
import './trips.css'

interface FinishProps {
  readonly api: TripsApi
  readonly spaceId: string
  readonly writeToken: string
  /** Who is finishing (the profile's name). */
  readonly by: string
  readonly status: SyncStatus
  readonly currency: string | null
  readonly onClose: () => void
  /** The trip is recorded; its lines leave the list as the server's change arrives. */
  readonly onFinished: (trip: Trip) => void
  readonly onShowTrips: () => void
}

type Step =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly view: ServerView; readonly problem?: string }
  | { readonly kind: 'sending'; readonly view: ServerView }
  | {
      readonly kind: 'stopped'
      readonly text: string
      readonly view: ServerView | null
      readonly retry: boolean
    }

/**
 * WEB-TRIP-1, WEB-TRIP-2: "Done shopping". Once everything this device ticked is saved on the server,
 * the dialog shows what the server will record — the ticked lines at its committed version, their
 * total — and "Finish trip" records it once (the version as If-Match, one Idempotency-Key for the trip
 * and all its retries). Every refusal is said in words, with what to do.
 */
export function FinishTripDialog(props: FinishProps) {
  const { api, spaceId, writeToken, by, status, currency, onClose, onFinished, onShowTrips } = props
  const [step, setStep] = useState<Step>({ kind: 'waiting' })
  const key = useRef(newTripKey())
  const saved = status.kind === 'saved'
  const unreachable = status.kind === 'offline' || status.kind === 'unreachable'

  const load = async (problem?: string): Promise<void> => {
    setStep({ kind: 'loading' })
    const r = await api.serverView(spaceId, writeToken)
    if (r.ok) setStep({ kind: 'ready', view: r.view, ...(problem ? { problem } : {}) })
    else setStep({ kind: 'stopped', text: finishProblem(r, currency).text, view: null, retry: true })
  }

  // the server's view is read once this device's ticks are all saved there
  useEffect(() => {
    if (step.kind === 'waiting' && saved) void load()
  }, [saved, step.kind])

  const finish = async (view: ServerView): Promise<void> => {
    setStep({ kind: 'sending', view })
    const r = await api.finishTrip(spaceId, writeToken, { key: key.current, ifMatch: view.version, by })
    if (r.ok) return onFinished(r.trip)
    const p = finishProblem(r, currency)
    if (p.retry === 'reload') return load(p.text)
    if (p.retry === 'fresh') key.current = newTripKey()
    setStep({ kind: 'stopped', text: p.text, view, retry: p.retry !== null })
  }

  const bought =
    step.kind === 'ready' || step.kind === 'sending' ? step.view.cart.filter((l) => l.checked) : []
  const priced = bought.filter((l) => l.priceCents !== null)
  const total = priced.reduce((n, l) => n + l.quantity * l.priceCents!, 0)

  return (
    <Dialog title="Done shopping?" testId="finish-trip-dialog" onClose={onClose}>
      {step.kind === 'waiting' && (
        <p className="muted" role="status" data-testid="finish-trip-waiting">
          {unreachable
            ? 'Finishing a trip needs the server, and this device cannot reach it right now. Your ticks are kept; this goes on by itself once you are back online.'
            : 'Saving your ticks to the server first…'}
        </p>
      )}
      {step.kind === 'loading' && (
        <p className="muted" role="status">
          Checking the list on the server…
        </p>
      )}
      {(step.kind === 'ready' || step.kind === 'sending') && (
        <>
          {step.kind === 'ready' && step.problem && (
            <p className="trip-problem" role="alert" data-testid="finish-trip-problem">
              {step.problem}
            </p>
          )}
          {bought.length === 0 ? (
            <p data-testid="finish-trip-empty">Nothing ticked off has reached the server yet.</p>
          ) : (
            <>
              <p>These go into the trip and leave the list, for everyone:</p>
              <ul className="trip-lines" data-testid="finish-trip-lines">
                {bought.map((l) => (
                  <li key={l.key}>
                    <span>
                      {safeText(l.name, 200)}
                      {l.quantity > 1 && <span className="muted"> ×{formatCount(l.quantity)}</span>}
                    </span>
                    <span className="muted">
                      {l.priceCents !== null ? formatPrice(l.quantity * l.priceCents, '', currency) : ''}
                    </span>
                  </li>
                ))}
              </ul>
              <p className="trip-total" data-testid="finish-trip-total">
                {priced.length === 0 ? (
                  <span className="muted">No prices on these items</span>
                ) : (
                  <>
                    Total {formatPrice(total, '—', currency)}
                    {priced.length < bought.length && (
                      <span className="muted small"> + {bought.length - priced.length} without price</span>
                    )}
                  </>
                )}
              </p>
            </>
          )}
        </>
      )}
      {step.kind === 'stopped' && (
        <p className="trip-problem" role="alert" data-testid="finish-trip-problem">
          {step.text}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          {step.kind === 'stopped' && !step.retry ? 'Close' : 'Not yet'}
        </button>
        {step.kind === 'stopped' && !step.retry && (
          <button type="button" className="button" onClick={onShowTrips}>
            See trips
          </button>
        )}
        {step.kind === 'stopped' && step.retry && (
          <button
            type="button"
            className="button primary"
            onClick={() => void (step.view ? finish(step.view) : load())}
          >
            Try again
          </button>
        )}
        {(step.kind === 'ready' || step.kind === 'sending') && (
          <button
            type="button"
            className="button primary"
            data-testid="finish-trip-confirm"
            disabled={step.kind === 'sending' || bought.length === 0}
            onClick={() => void finish(step.view)}
            autoFocus
          >
            {step.kind === 'sending' ? 'Finishing…' : 'Finish trip'}
          </button>
        )}
      </div>
    </Dialog>
  )
}

interface TripsProps {
  readonly api: TripsApi
  readonly spaceId: string
  readonly token: string
  readonly currency: string | null
  readonly onClose: () => void
}

/** WEB-TRIP-3: the space's trips, by month, each with its total and its lines. */
export function TripsDialog({ api, spaceId, token, currency, onClose }: TripsProps) {
  const [trips, setTrips] = useState<readonly Trip[] | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    void api.trips(spaceId, token).then((r) => {
      if (!live) return
      if (r.ok) setTrips(r.trips)
      else
        setProblem(
          r.status === null
            ? 'The trips are kept on the server, which cannot be reached right now.'
            : r.message,
        )
    })
    return () => {
      live = false
    }
  }, [api, spaceId, token])
  const months = trips ? tripMonths(trips) : []
  return (
    <Dialog title="Trips" testId="trips-dialog" onClose={onClose}>
      {problem && (
        <p className="trip-problem" role="alert">
          {problem}
        </p>
      )}
      {!problem && trips === null && (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
      {trips !== null && months.length === 0 && (
        <div className="empty" data-testid="trips-empty">
          <p className="empty-title">No trips yet.</p>
          <p className="muted small">
            When you are done shopping, press “Done shopping” under the bought items: the trip is recorded
            here with its total, and the bought items leave the list.
          </p>
        </div>
      )}
      {months.map((m) => (
        <section
          key={m.key}
          className="trip-month"
          data-testid="trip-month"
          aria-labelledby={`trip-month-${m.key}`}
        >
          <h3 id={`trip-month-${m.key}`} className="trip-month-head">
            <span>{m.label}</span>
            <span className="muted" data-testid="trip-month-total">
              {m.trips.length} {m.trips.length === 1 ? 'trip' : 'trips'}
              {m.pricedLines > 0 && ` · ${formatPrice(m.totalCents, '—', currency)}`}
            </span>
          </h3>
          <ul className="trip-list">
            {m.trips.map((t) => (
              <li key={t.id} data-testid="trip">
                <details>
                  <summary>
                    <span>
                      {tripWhen(t)} — {safeText(t.finishedBy, 200) || 'someone'}
                    </span>
                    <span className="muted" data-testid="trip-summary">
                      {tripSummary(t, currency)}
                    </span>
                  </summary>
                  <ul className="trip-lines">
                    {t.lines.map((l) => (
                      <li key={l.key}>
                        <span>
                          {safeText(l.name, 200)}
                          {l.quantity > 1 && <span className="muted"> ×{formatCount(l.quantity)}</span>}
                          {l.checkedBy && (
                            <span className="muted small"> · {safeText(l.checkedBy, 200)}</span>
                          )}
                        </span>
                        <span className="muted">
                          {l.priceCents !== null ? formatPrice(l.quantity * l.priceCents, '', currency) : ''}
                        </span>
                      </li>
                    ))}
                  </ul>
                </details>
              </li>
            ))}
          </ul>
        </section>
      ))}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  )
}
