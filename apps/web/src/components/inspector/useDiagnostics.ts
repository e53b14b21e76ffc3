import type { SessionDiagnostics, SyncDiagnostics } from '@converge/sync-client'
import { useEffect, useState } from 'react'

/** Changes closer together than this render once. */
const FRAME_MS = 16

/**
 * WEB-INSPECT-2: the session's diagnostics, live. Every change the diagnostics tell of (each message,
 * each round trip, the status, the tabs, and a tick a second while watched) takes a new snapshot, at
 * most one per frame's time (a timer: animation frames stop in a tab in the background), so a burst
 * of messages renders once.
 */
export function useDiagnostics(diagnostics: SessionDiagnostics): SyncDiagnostics {
  const [snapshot, setSnapshot] = useState(() => diagnostics.snapshot())
  useEffect(() => {
    let frame: number | null = null
    const take = (): void => {
      frame = null
      setSnapshot(diagnostics.snapshot())
    }
    const stop = diagnostics.subscribe(() => {
      frame ??= window.setTimeout(take, FRAME_MS)
    })
    take()
    return () => {
      stop()
      if (frame !== null) window.clearTimeout(frame)
    }
  }, [diagnostics])
  return snapshot
}
