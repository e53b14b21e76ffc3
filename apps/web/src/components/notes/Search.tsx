import type { CartItem, Note } from '@converge/merge'
import { useEffect, useId, useMemo, useRef, useState } from 'react'
import { displayLine } from '../../app/notes-checklist.js'
import { type SearchResult, search } from '../../app/notes-search.js'
import { MAX_NAME, MAX_TITLE, safeText } from '../../app/safe.js'
import './search.css'

interface SpaceSearchProps {
  readonly items: readonly CartItem[]
  readonly notes: readonly Note[]
  readonly onOpenItem: (key: string) => void
  readonly onOpenNote: (id: string) => void
}

/** Where a keystroke is typing: a text field, a select, the note editor (a shortcut must not fire). */
const isTyping = (target: EventTarget | null): boolean => {
  if (!(target instanceof HTMLElement)) return false
  if (
    target.isContentEditable ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  )
    return true
  if (!(target instanceof HTMLInputElement)) return false
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type)
}

const resultKey = (r: SearchResult): string => (r.kind === 'item' ? `item:${r.key}` : `note:${r.id}`)

/**
 * One field that finds cart items (name, note, category) and notes (title, text) — case and accents
 * ignored. Ctrl/Cmd+K or "/" (when not typing somewhere) puts the focus in it; the results are a
 * listbox driven from the field (↑/↓, Enter), Escape clears it and gives the focus back.
 */
export function SpaceSearch({ items, notes, onOpenItem, onOpenNote }: SpaceSearchProps) {
  const [query, setQuery] = useState('')
  const [active, setActive] = useState(0)
  const field = useRef<HTMLInputElement>(null)
  /** Where the focus was when a shortcut brought it here: Escape takes it back there. */
  const returnTo = useRef<HTMLElement | null>(null)
  const listId = useId()
  const optionId = useId()
  const results = useMemo(() => search(query, items, notes), [query, items, notes])
  const open = query.trim() !== ''
  const activeIndex = Math.min(active, Math.max(0, results.length - 1))

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.defaultPrevented || e.altKey) return
      const ctrlK = (e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'k'
      const slash = e.key === '/' && !e.ctrlKey && !e.metaKey
      if (!ctrlK && !slash) return
      if (isTyping(e.target)) return
      // a modal dialog keeps the keyboard to itself
      if (document.querySelector('dialog[open], [aria-modal="true"]')) return
      e.preventDefault()
      const from = document.activeElement
      returnTo.current =
        from instanceof HTMLElement && from !== document.body && from !== field.current ? from : null
      field.current?.focus()
      field.current?.select()
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [])

  const clear = (): void => {
    setQuery('')
    setActive(0)
  }

  const choose = (r: SearchResult): void => {
    clear()
    returnTo.current = null
    if (r.kind === 'item') onOpenItem(r.key)
    else onOpenNote(r.id)
  }

  const giveBack = (): void => {
    const to = returnTo.current
    returnTo.current = null
    if (to?.isConnected) to.focus()
  }

  const status = !open
    ? ''
    : results.length === 0
      ? `Nothing matches “${query.trim()}”`
      : `${results.length} ${results.length === 1 ? 'result' : 'results'}`

  return (
    <div className="space-search" role="search" data-testid="space-search">
      <div className="space-search-field">
        <span className="space-search-icon" aria-hidden="true">
          ⌕
        </span>
        <input
          ref={field}
          className="input"
          type="text"
          role="combobox"
          aria-label="Search items and notes"
          aria-expanded={open && results.length > 0}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && results.length > 0 ? `${optionId}-${activeIndex}` : undefined}
          aria-keyshortcuts="Control+K Meta+K /"
          placeholder="Search items and notes (Ctrl+K)"
          autoComplete="off"
          spellCheck={false}
          value={query}
          onChange={(e) => {
            setQuery(e.target.value)
            setActive(0)
          }}
          onBlur={() => {
            returnTo.current = null
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              if (results.length === 0) return
              e.preventDefault()
              const step = e.key === 'ArrowDown' ? 1 : -1
              setActive((activeIndex + step + results.length) % results.length)
            } else if (e.key === 'Enter') {
              const r = results[activeIndex]
              if (!open || !r) return
              e.preventDefault()
              choose(r)
            } else if (e.key === 'Escape') {
              if (!open && !returnTo.current) return
              e.preventDefault()
              clear()
              giveBack()
            }
          }}
        />
      </div>
      <p className="space-search-status" role="status" data-testid="search-status">
        {status}
      </p>
      <ul
        id={listId}
        role="listbox"
        aria-label="Search results"
        className="space-search-results"
        hidden={!open || results.length === 0}
      >
        {open &&
          results.map((r, i) => (
            <li
              key={resultKey(r)}
              id={`${optionId}-${i}`}
              role="option"
              aria-selected={i === activeIndex}
              className="space-search-result"
              data-testid="search-result"
              data-kind={r.kind}
              // the field keeps the focus; a click chooses
              onMouseDown={(e) => e.preventDefault()}
              onMouseMove={() => {
                if (i !== activeIndex) setActive(i)
              }}
              onClick={() => choose(r)}
            >
              <span className="space-search-kind">{r.kind === 'item' ? 'Item' : 'Note'}</span>
              <span className="space-search-label">
                {r.kind === 'item'
                  ? safeText(r.label, MAX_NAME)
                  : safeText(r.label, MAX_TITLE) || 'Untitled note'}
              </span>
              {r.detail && (
                <span className="space-search-detail">
                  {safeText(r.kind === 'note' ? displayLine(r.detail) : r.detail, 120)}
                </span>
              )}
            </li>
          ))}
      </ul>
    </div>
  )
}
