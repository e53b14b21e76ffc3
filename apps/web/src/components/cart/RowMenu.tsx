import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useRef, useState } from 'react'

export interface MenuEntry {
  readonly id: string
  readonly label: string
  readonly disabled?: boolean
  readonly danger?: boolean
  /** a key that does the same, shown muted at the right ("F2", "Alt+↑") */
  readonly hint?: string
}

interface RowMenuProps {
  /** the line's name: "More actions for Milk" */
  readonly name: string
  readonly disabled: boolean
  readonly entries: readonly MenuEntry[]
  /** an entry was picked (the menu is closed by then; focus is the action's to place) */
  readonly onPick: (id: string) => void
}

/**
 * A row's overflow menu (WAI-ARIA menu button): the ⋯ button opens a menu of the row's secondary
 * actions. Enter, Space or ↓ open it on the first entry, ↑ on the last; ↑/↓ (wrapping), Home and End
 * move; Enter or Space picks; Escape closes and returns to the button; Tab or a click outside closes.
 */
export function RowMenu({ name, disabled, entries, onPick }: RowMenuProps) {
  const [open, setOpen] = useState<'first' | 'last' | null>(null)
  const buttonRef = useRef<HTMLButtonElement>(null)
  const menuRef = useRef<HTMLDivElement>(null)
  const menuId = useId()

  const items = (): HTMLButtonElement[] =>
    menuRef.current
      ? [...menuRef.current.querySelectorAll<HTMLButtonElement>('[role="menuitem"]')].filter(
          (el) => el.getAttribute('aria-disabled') !== 'true',
        )
      : []

  useLayoutEffect(() => {
    if (open === null) return
    const list = items()
    ;(open === 'first' ? list[0] : list.at(-1))?.focus()
  }, [open])

  useEffect(() => {
    if (open === null) return
    const outside = (e: PointerEvent): void => {
      const t = e.target as Node | null
      if (t && !menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) setOpen(null)
    }
    document.addEventListener('pointerdown', outside, true)
    return () => document.removeEventListener('pointerdown', outside, true)
  }, [open])

  const close = (focusButton: boolean): void => {
    setOpen(null)
    if (focusButton) buttonRef.current?.focus()
  }

  const onMenuKey = (e: KeyboardEvent): void => {
    const list = items()
    const at = list.indexOf(document.activeElement as HTMLButtonElement)
    const go = (i: number): void => {
      e.preventDefault()
      list[(i + list.length) % list.length]?.focus()
    }
    if (e.key === 'ArrowDown') go(at + 1)
    else if (e.key === 'ArrowUp') go(at < 0 ? -1 : at - 1)
    else if (e.key === 'Home') go(0)
    else if (e.key === 'End') go(-1)
    else if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      close(true)
    } else if (e.key === 'Tab') setOpen(null)
    // the row's own keys (Alt+↑/↓, F2) are not for the menu
    if (e.altKey || e.key === 'F2') e.stopPropagation()
  }

  return (
    <div className="row-menu-wrap">
      <button
        ref={buttonRef}
        type="button"
        className="icon-button more-button"
        aria-label={`More actions for ${name}`}
        title="More actions"
        aria-haspopup="menu"
        aria-expanded={open !== null}
        aria-controls={open !== null ? menuId : undefined}
        disabled={disabled}
        data-control="more"
        onClick={() => setOpen((o) => (o === null ? 'first' : null))}
        onKeyDown={(e) => {
          // Alt+↑/↓ are the row's (move the line)
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !e.altKey) {
            e.preventDefault()
            setOpen(e.key === 'ArrowDown' ? 'first' : 'last')
          }
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open !== null && (
        <div
          ref={menuRef}
          id={menuId}
          className="row-menu"
          role="menu"
          aria-label={`Actions for ${name}`}
          onKeyDown={onMenuKey}
        >
          {entries.map((entry) => (
            <button
              key={entry.id}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={entry.danger ? 'danger' : undefined}
              aria-disabled={entry.disabled || undefined}
              onClick={() => {
                if (entry.disabled) return
                setOpen(null)
                onPick(entry.id)
              }}
            >
              <span>{entry.label}</span>
              {entry.hint && (
                <span className="menu-hint" aria-hidden="true">
                  {entry.hint}
                </span>
              )}
            </button>
          ))}
        </div>
      )}
    </div>
  )
}
