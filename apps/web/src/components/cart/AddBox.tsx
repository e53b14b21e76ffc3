import { type FormEvent, type Ref, useId, useMemo, useState } from 'react'
import { MAX_NAME, formatPrice, safeText } from '../../app/safe.js'
import { type PastItem, suggest } from '../../app/suggest.js'

interface AddBoxProps {
  readonly readOnly: boolean
  readonly currency: string | null
  readonly inputRef: Ref<HTMLInputElement>
  /** the items the space had (cheap: `space.itemHistory()` is cached per document version) */
  readonly history: () => readonly PastItem[]
  /** the keys on the list to buy now: not suggested */
  readonly onList: ReadonlySet<string>
  /** adds a line by this name; false when it did not happen (the text stays) */
  readonly onAdd: (name: string) => boolean
}

/** "l · 1.29 · Dairy": what a suggestion brings with it, muted after its name. */
function remembered(item: PastItem, currency: string | null): string {
  return [
    safeText(item.unit, MAX_NAME),
    item.priceCents !== null ? formatPrice(item.priceCents, '', currency) : '',
    safeText(item.category, MAX_NAME),
  ]
    .filter(Boolean)
    .join(' · ')
}

/**
 * The add box, sticky at the top while the list scrolls, with suggestions while typing (WAI-ARIA
 * combobox with a listbox): the items the space had before that are not on the list to buy now.
 * ↓/↑ move through them, Enter adds the active one (or the typed text when none is active), Escape
 * closes them, Tab leaves. A click on one adds it.
 */
export function AddBox({ readOnly, currency, inputRef, history, onList, onAdd }: AddBoxProps) {
  const [text, setText] = useState('')
  const [active, setActive] = useState(-1)
  const [closed, setClosed] = useState(false)
  const [focused, setFocused] = useState(false)
  const listId = useId()
  const options = useMemo(
    () => (text.trim() === '' || readOnly ? [] : suggest(history(), text, onList)),
    [text, history, onList, readOnly],
  )
  const open = focused && !closed && options.length > 0
  const activeOption = open && active >= 0 ? options[active] : undefined

  const add = (name: string): void => {
    if (!name.trim()) return
    if (onAdd(name.trim())) {
      setText('')
      setActive(-1)
      setClosed(false)
    }
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    add(activeOption ? activeOption.name : text)
  }

  return (
    <div className="add-box">
      <form className="add-form" onSubmit={submit}>
        <input
          ref={inputRef}
          className="input"
          aria-label="Add item"
          placeholder={readOnly ? 'Read-only' : 'Add an item, e.g. Milk'}
          value={text}
          maxLength={200}
          disabled={readOnly}
          data-cart-undo="1"
          enterKeyHint="done"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={activeOption ? `${listId}-${active}` : undefined}
          autoComplete="off"
          onChange={(e) => {
            setText(e.target.value)
            setActive(-1)
            setClosed(false)
          }}
          onFocus={() => setFocused(true)}
          onBlur={() => {
            setFocused(false)
            setActive(-1)
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              if (options.length === 0) return
              e.preventDefault()
              const n = options.length
              if (!open) {
                setClosed(false)
                setActive(e.key === 'ArrowDown' ? 0 : n - 1)
              } else if (e.key === 'ArrowDown') setActive((a) => (a + 1) % n)
              else setActive((a) => (a <= 0 ? n - 1 : a - 1))
            } else if (e.key === 'Escape' && open) {
              e.preventDefault()
              e.stopPropagation()
              setClosed(true)
              setActive(-1)
            }
          }}
        />
        <button type="submit" className="button primary" disabled={readOnly || text.trim() === ''}>
          Add
        </button>
      </form>
      <ul id={listId} className="suggestions" role="listbox" aria-label="Suggestions" hidden={!open}>
        {open &&
          options.map((o, i) => {
            const more = remembered(o, currency)
            return (
              <li
                key={o.key}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                className={i === active ? 'suggestion active' : 'suggestion'}
                data-testid="suggestion"
                // the input keeps the focus (and the list stays open) while the pointer is down
                onPointerDown={(e) => e.preventDefault()}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => add(o.name)}
                onPointerEnter={() => setActive(i)}
              >
                <span className="suggestion-name">{safeText(o.name, MAX_NAME)}</span>
                {more && <span className="suggestion-meta"> {more}</span>}
              </li>
            )
          })}
      </ul>
    </div>
  )
}
