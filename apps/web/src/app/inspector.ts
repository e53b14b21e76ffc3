/**
 * The sync inspector's words and numbers (WEB-INSPECT-1…5), framework-free: the shortcut, how a
 * duration, a connection state and a version vector are said, and what "Copy diagnostics" copies.
 */
import type { CopyableDiagnostics, LinkState, SyncDiagnostics, VectorRecord } from '@converge/sync-client'
import { version } from '../../package.json'

/** The app's version, as its package says (in every copy of the diagnostics). */
export const APP_VERSION: string = version

/** WEB-INSPECT-1: the shortcut that opens (and closes) the inspector, as `aria-keyshortcuts` says it. */
export const INSPECTOR_SHORTCUT = 'Alt+Shift+I'

/**
 * WEB-INSPECT-1: whether a key event is Alt+Shift+I. By `code` too: on a Mac, Option+Shift+I types a
 * character of its own (ˆ), and the key is still the I key.
 */
export function isInspectorShortcut(e: {
  readonly key: string
  readonly code?: string
  readonly altKey: boolean
  readonly shiftKey: boolean
  readonly ctrlKey: boolean
  readonly metaKey: boolean
}): boolean {
  if (!e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return false
  return e.code === 'KeyI' || e.key === 'I' || e.key === 'i'
}

/** A duration as a person reads it: "0 ms", "843 ms", "12.3 s", "2 min 5 s", "3 h 4 min"; "—" for none. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const v = Math.max(0, ms)
  if (v < 1_000) return `${Math.round(v)} ms`
  if (v < 60_000) return `${(Math.floor(v / 100) / 10).toFixed(1)} s`
  const s = Math.floor(v / 1_000)
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`
  const m = Math.floor(s / 60)
  if (m < 24 * 60) return `${Math.floor(m / 60)} h ${m % 60} min`
  return `${Math.floor(m / (24 * 60))} d ${Math.floor((m % (24 * 60)) / 60)} h`
}

/** An age: "just now" under a second, else "12.3 s ago"; "never" for none. */
export function formatAge(ms: number | null | undefined, never = 'never'): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return never
  return ms < 1_000 ? 'just now' : `${formatDuration(ms)} ago`
}

/** A time of day to the millisecond (the message log): "14:03:07.412". */
export function formatClock(at: number): string {
  const d = new Date(at)
  if (Number.isNaN(d.getTime())) return '—'
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

/** A size in bytes: "17 B", "4.2 kB", "1.3 MB". */
export function formatBytes(n: number): string {
  if (n < 1_000) return `${n} B`
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)} kB`
  return `${(n / 1_000_000).toFixed(1)} MB`
}

/** WEB-INSPECT-2: a connection state in words. */
export const LINK_TEXT: Readonly<Record<LinkState, string>> = {
  open: 'open',
  connecting: 'connecting',
  waiting: 'waiting to try again',
  offline: 'offline (the browser says so)',
  stopped: 'stopped for good',
  closed: 'closed',
  none: 'no server (local only)',
}

/** What the inspector says of the connection: its state, and the error of a permanent close. */
export function connectionText(c: SyncDiagnostics['connection']): string {
  if (!c) return 'waiting for the leader tab'
  const words = LINK_TEXT[c.state]
  return c.error ? `${words} — ${c.error}` : words
}

/** One writer of the two version vectors, side by side. */
export interface VectorRow {
  readonly writer: string
  readonly device: number
  /** null: no ack yet. */
  readonly server: number | null
  readonly same: boolean
}

/** WEB-INSPECT-2: the device's and the server's vectors, one row per writer of either, by writer. */
export function vectorRows(device: VectorRecord, server: VectorRecord | null): VectorRow[] {
  const writers = [...new Set([...Object.keys(device), ...Object.keys(server ?? {})])].sort((a, b) =>
    a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0,
  )
  return writers.map((writer) => {
    const d = device[writer] ?? 0
    const s = server ? (server[writer] ?? 0) : null
    return { writer, device: d, server: s, same: s === d }
  })
}

/** WEB-INSPECT-3: what "Copy diagnostics" puts on the clipboard. */
export const diagnosticsText = (copyable: CopyableDiagnostics): string => JSON.stringify(copyable, null, 2)
