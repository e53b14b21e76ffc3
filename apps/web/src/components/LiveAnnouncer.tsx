import { OWN_ORIGINS } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { useEffect, useRef, useState } from 'react'
import { AnnounceThrottle, type AnnounceView, describeChanges } from '../app/announce.js'
import { highlight } from '../app/highlight.js'
import type { SpaceViewState } from '../app/space-view.js'

interface Props {
  readonly session: SpaceSession
  readonly view: SpaceViewState
}

/** A visually hidden polite live region: says `text` once each time it changes. */
export function LiveAnnouncer({ text, testId }: { readonly text: string; readonly testId?: string }) {
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid={testId}>
      {text}
    </div>
  )
}

/**
 * What others change in the open space, told calmly: a polite announcement (at most one every two
 * seconds; a burst becomes "3 changes from others") and a brief highlight of the changed rows and
 * notes. Only changes that came from elsewhere count — this device's own, its other tabs' and what it
 * read back from storage never do — and none before the space first synced (opening it is not news).
 */
export function RemoteActivity({ session, view }: Props) {
  const [text, setText] = useState('')
  const previous = useRef<AnnounceView>(view)
  const remote = useRef(false)
  const synced = useRef(view.status.kind === 'saved')
  const throttle = useRef<AnnounceThrottle | null>(null)

  useEffect(() => {
    // the same words twice in a row are said again: the region is emptied first
    const t = new AnnounceThrottle((s) => {
      setText('')
      requestAnimationFrame(() => setText(s))
    })
    throttle.current = t
    const stop = session.space.subscribe((e) => {
      if (!e.local && !OWN_ORIGINS.has(e.origin)) remote.current = true
    })
    return () => {
      stop()
      t.dispose()
      throttle.current = null
    }
  }, [session])

  useEffect(() => {
    const before = previous.current
    previous.current = view
    if (view.status.kind === 'saved') synced.current = true
    if (!remote.current) return
    remote.current = false
    if (!synced.current || before === view) return
    const changes = describeChanges(before, view)
    if (changes.length === 0) return
    throttle.current?.push(changes.map((c) => c.text))
    const targets = changes.flatMap((c) => (c.target ? [c.target] : []))
    const root = document.querySelector('[data-testid="space-screen"]') ?? document
    // after this frame: the new rows are in the DOM
    requestAnimationFrame(() => highlight(root, targets))
  }, [view])

  return <LiveAnnouncer text={text} testId="remote-activity" />
}
