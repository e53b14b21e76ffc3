import type { SpaceSession } from '@converge/sync-client'
import { type ReactNode, useEffect, useId, useRef, useState } from 'react'
import {
  APP_VERSION,
  INSPECTOR_SHORTCUT,
  connectionText,
  diagnosticsText,
  formatAge,
  formatBytes,
  formatClock,
  formatDuration,
  vectorRows,
} from '../../app/inspector.js'
import { useDiagnostics } from './useDiagnostics.js'
import './inspector.css'

/** How long "Copied" stays. */
const COPIED_MS = 4_000

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/**
 * WEB-INSPECT-1…5: the sync inspector — a non-modal panel beside the space (a sheet at the bottom
 * on a phone) showing what sync-client's diagnostics say of the open space in this tab, live
 * (sync-client DIAG-1…4): the connection and its round trip, what waits for the server, the last
 * ack and the two version vectors, the tabs of this browser, the recent messages. "Copy diagnostics"
 * copies them as JSON for a bug report (no token, nothing of the space). Escape or Close closes it,
 * and the focus goes back to where it was.
 */
export function SyncInspector({
  session,
  onClose,
}: {
  readonly session: SpaceSession
  readonly onClose: () => void
}) {
  const d = useDiagnostics(session.diagnostics)
  const titleId = useId()
  const panel = useRef<HTMLDivElement>(null)
  const fallbackField = useRef<HTMLTextAreaElement>(null)
  const onCloseRef = useRef(onClose)
  onCloseRef.current = onClose
  const [copied, setCopied] = useState(false)
  const [fallback, setFallback] = useState<string | null>(null)

  // the focus moves into the panel, and back to where it was when it closes (never to <body>)
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    panel.current?.focus()
    return () => {
      if (opener?.isConnected && opener !== document.body) opener.focus()
      else if (!document.activeElement || document.activeElement === document.body)
        document.getElementById('main')?.focus()
    }
  }, [])

  useEffect(() => {
    if (!copied) return
    const t = window.setTimeout(() => setCopied(false), COPIED_MS)
    return () => window.clearTimeout(t)
  }, [copied])

  useEffect(() => {
    if (fallback === null) return
    fallbackField.current?.focus()
    fallbackField.current?.select()
  }, [fallback])

  const copy = async (): Promise<void> => {
    const text = diagnosticsText(session.diagnostics.copyable({ appVersion: APP_VERSION }))
    const clipboard = (navigator as { clipboard?: Clipboard }).clipboard
    try {
      if (!clipboard) throw new Error('no clipboard here')
      await clipboard.writeText(text)
      setFallback(null)
      setCopied(true)
    } catch {
      // refused (no permission, an insecure page, a browser without it): the text to copy by hand
      setCopied(false)
      setFallback(text)
    }
  }

  const c = d.connection
  const rows = vectorRows(d.vectors.device, d.vectors.server)
  const messages = [...d.messages].reverse()
  const leader = d.tabs.find((t) => t.leader)

  return (
    <div
      ref={panel}
      className="inspector"
      role="dialog"
      aria-modal="false"
      aria-labelledby={titleId}
      tabIndex={-1}
      data-testid="sync-inspector"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault()
          e.stopPropagation()
          onCloseRef.current()
        }
      }}
    >
      <div className="inspector-head">
        <h2 id={titleId} className="inspector-title">
          Sync details
        </h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Close sync details"
          aria-keyshortcuts={`Escape ${INSPECTOR_SHORTCUT}`}
          onClick={onClose}
        >
          ×
        </button>
      </div>
      <p className="muted small">
        This space in this tab, live. This tab {d.tab.role === 'leader' ? 'leads' : 'follows the leader tab'}
        {d.tab.role === 'follower' && ', which holds the connection for every tab'}. {INSPECTOR_SHORTCUT}{' '}
        opens and closes this panel.
      </p>

      <section className="inspector-section" aria-labelledby={`${titleId}-connection`}>
        <h3 id={`${titleId}-connection`} className="inspector-heading">
          Connection
        </h3>
        <dl className="inspector-facts">
          <Fact label="State" testId="inspector-connection" value={c?.state ?? ''}>
            {connectionText(c)}
          </Fact>
          <Fact label="Status" testId="inspector-status" value={d.status}>
            {d.status}
          </Fact>
          <Fact label="Server protocol" testId="inspector-server-version" value={c?.serverVersion ?? ''}>
            {c?.serverVersion ? `version ${c.serverVersion}` : '—'}
          </Fact>
          <Fact label="Round trip" testId="inspector-rtt" value={d.rtt.lastMs ?? ''}>
            {formatDuration(d.rtt.lastMs)}
          </Fact>
          <Fact label="Round trip, smoothed" testId="inspector-rtt-smoothed" value={d.rtt.smoothedMs ?? ''}>
            {formatDuration(d.rtt.smoothedMs)}
          </Fact>
          <Fact label="Failed attempts" testId="inspector-attempts" value={c?.attempt ?? ''}>
            {c ? String(c.attempt) : '—'}
          </Fact>
          <Fact label="Facts from" testId="inspector-source" value={d.source}>
            {d.source}
          </Fact>
        </dl>
      </section>

      <section className="inspector-section" aria-labelledby={`${titleId}-changes`}>
        <h3 id={`${titleId}-changes`} className="inspector-heading">
          Changes
        </h3>
        <dl className="inspector-facts">
          <Fact label="Not confirmed by the server" testId="inspector-pending" value={d.pending.count}>
            {plural(d.pending.count, 'change', 'changes')}
          </Fact>
          <Fact label="Oldest of them" testId="inspector-pending-age" value={d.pending.oldestAgeMs ?? ''}>
            {d.pending.count === 0 ? '—' : formatAge(d.pending.oldestAgeMs, 'unknown')}
          </Fact>
          <Fact label="Last durable ack" testId="inspector-last-ack" value={d.lastAck.ageMs ?? ''}>
            {formatAge(d.lastAck.ageMs)}
          </Fact>
          <Fact label="Reports, digests sent" testId="inspector-probes" value={d.probes.reportsSent}>
            {d.probes.reportsSent}, {d.probes.digestsSent}
          </Fact>
        </dl>
      </section>

      <section className="inspector-section" aria-labelledby={`${titleId}-vectors`}>
        <h3 id={`${titleId}-vectors`} className="inspector-heading">
          Version vectors
        </h3>
        <p data-testid="inspector-vectors-equal" data-value={String(d.vectors.equal)}>
          {d.vectors.server === null
            ? 'No durable ack yet: the server’s vector is not known.'
            : d.vectors.equal
              ? 'This device and the server are at the same version.'
              : 'This device and the server are at different versions.'}
        </p>
        <div className="inspector-scroll" role="region" aria-label="Version vector table" tabIndex={0}>
          <table className="inspector-table" data-testid="inspector-vectors">
            <thead>
              <tr>
                <th scope="col">Writer</th>
                <th scope="col">This device</th>
                <th scope="col">Server (last ack)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.writer} data-writer={r.writer} data-same={String(r.same)}>
                  <td className="inspector-id">{r.writer}</td>
                  <td data-testid="inspector-vector-device">{r.device}</td>
                  <td data-testid="inspector-vector-server">{r.server ?? '—'}</td>
                </tr>
              ))}
              {rows.length === 0 && (
                <tr>
                  <td colSpan={3} className="muted">
                    Nobody has written to this space yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>

      <section className="inspector-section" aria-labelledby={`${titleId}-tabs`}>
        <h3 id={`${titleId}-tabs`} className="inspector-heading">
          Tabs in this browser
        </h3>
        <p className="muted small">
          {plural(d.tabs.length, 'tab has', 'tabs have')} this space open
          {leader ? `; ${leader.self ? 'this tab' : `tab ${leader.id}`} leads` : '; none leads yet'}.
        </p>
        <ul className="inspector-tabs" data-testid="inspector-tabs">
          {d.tabs.map((t) => (
            <li
              key={t.id}
              data-testid="inspector-tab"
              data-id={t.id}
              data-leader={String(t.leader)}
              data-self={String(t.self)}
            >
              <span className="inspector-id">Tab {t.id}</span>
              {t.self && ' (this tab)'}
              {t.leader && <strong> — leads</strong>}
            </li>
          ))}
        </ul>
      </section>

      <section className="inspector-section" aria-labelledby={`${titleId}-messages`}>
        <h3 id={`${titleId}-messages`} className="inspector-heading">
          Recent messages
        </h3>
        <p className="muted small">
          The last {d.messages.length} of at most 100, newest first: types and sizes only, never what they
          carry.
        </p>
        <div className="inspector-scroll inspector-log" role="region" aria-label="Message log" tabIndex={0}>
          <table className="inspector-table" data-testid="inspector-messages">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Way</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((m, k) => (
                <tr
                  key={`${m.at}-${messages.length - k}`}
                  data-testid="inspector-message"
                  data-dir={m.dir}
                  data-type={m.type}
                >
                  <td className="inspector-time">{formatClock(m.at)}</td>
                  <td>{m.dir === 'in' ? '↓ in' : '↑ out'}</td>
                  <td>{m.type}</td>
                  <td>{formatBytes(m.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <div className="inspector-actions">
        <button
          type="button"
          className="button primary"
          data-testid="inspector-copy"
          onClick={() => void copy()}
        >
          Copy diagnostics
        </button>
        <span className="inspector-copied" role="status" data-testid="inspector-copied">
          {copied ? 'Copied' : ''}
        </span>
      </div>
      {fallback !== null && (
        <div className="inspector-fallback">
          <p className="small">
            This browser did not let the page copy. The diagnostics are selected below: copy them with Ctrl+C
            (⌘C).
          </p>
          <textarea
            ref={fallbackField}
            className="input inspector-fallback-text"
            aria-label="Diagnostics to copy"
            data-testid="inspector-copy-fallback"
            readOnly
            rows={8}
            value={fallback}
          />
        </div>
      )}
    </div>
  )
}

function Fact({
  label,
  testId,
  value,
  children,
}: {
  readonly label: string
  readonly testId: string
  /** The exact value, for tests and tools (`data-value`). */
  readonly value: string | number
  readonly children: ReactNode
}) {
  return (
    <div className="inspector-fact">
      <dt>{label}</dt>
      <dd data-testid={testId} data-value={String(value)}>
        {children}
      </dd>
    </div>
  )
}
