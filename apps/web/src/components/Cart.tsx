import type { CartItem, ItemField } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { type FormEvent, useId, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react'
import { MAX_ITEM_TEXT, MAX_NAME, formatCount, formatPrice, priceInput, safeText } from '../app/safe.js'
import { useServices } from '../app/services.js'
import type { SpaceViewState } from '../app/space-view.js'
import type { Run } from './SpaceScreen.js'

/** An item's name as shown (BAD-4 in the UI: cut to MAX_NAME, no control characters; its key if empty). */
const shownName = (item: CartItem): string => safeText(item.name, MAX_NAME) || safeText(item.key, MAX_NAME)

/** "2.49" or "2,49" → 249; "" → null; anything else → undefined (invalid). */
export function parsePrice(text: string): number | null | undefined {
  const t = text.trim().replace(',', '.')
  if (t === '') return null
  if (!/^\d+(\.\d{0,2})?$/.test(t) && !/^\.\d{1,2}$/.test(t)) return undefined
  const cents = Math.round(Number(t) * 100)
  return Number.isSafeInteger(cents) ? cents : undefined
}

interface CartProps {
  readonly session: SpaceSession
  readonly view: SpaceViewState
  readonly run: Run
}

/** Focus to restore after a move re-orders the rows: which row, and which of its controls. */
interface PendingFocus {
  readonly key: string
  readonly control: string
}

export function Cart({ session, view, run }: CartProps) {
  const { profile } = useServices()
  const me = useSyncExternalStore(profile.subscribe, profile.getSnapshot).profile
  const space = session.space
  const { items, totals, readOnly } = view
  const [text, setText] = useState('')
  const [expanded, setExpanded] = useState<string | null>(null)
  const [dragKey, setDragKey] = useState<string | null>(null)
  const [dropIndex, setDropIndex] = useState<number | null>(null)
  const listRef = useRef<HTMLUListElement>(null)
  const pendingFocus = useRef<PendingFocus | null>(null)

  useLayoutEffect(() => {
    const want = pendingFocus.current
    if (!want || !listRef.current) return
    pendingFocus.current = null
    const row = [...listRef.current.querySelectorAll<HTMLElement>('li[data-key]')].find(
      (el) => el.dataset.key === want.key,
    )
    const control = row?.querySelector<HTMLElement>(`[data-control="${want.control}"]`)
    const target = control && !(control as HTMLButtonElement).disabled ? control : row
    target?.focus()
  })

  const add = (e: FormEvent): void => {
    e.preventDefault()
    const name = text.trim()
    if (!name) return
    run(`add “${name}”`, () => {
      space.addItem(name)
      setText('')
    })
  }

  const move = (item: CartItem, toIndex: number, control: string): void => {
    const from = items.findIndex((i) => i.key === item.key)
    if (toIndex < 0 || toIndex >= items.length || toIndex === from) return
    pendingFocus.current = { key: item.key, control }
    run(`move “${shownName(item)}”`, () => space.moveItem(item.key, toIndex))
  }

  const drop = (): void => {
    const from = items.findIndex((i) => i.key === dragKey)
    const item = items[from]
    if (item && dropIndex !== null) {
      const to = dropIndex > from ? dropIndex - 1 : dropIndex
      if (to !== from) run(`move “${shownName(item)}”`, () => space.moveItem(item.key, to))
    }
    setDragKey(null)
    setDropIndex(null)
  }

  return (
    <section className="card cart" aria-labelledby="cart-heading" data-testid="cart">
      <div className="section-head">
        <h2 id="cart-heading" className="section-title">
          Cart
        </h2>
        <span className="count" aria-hidden="true">
          {formatCount(totals.items)}
        </span>
      </div>

      <form className="add-form" onSubmit={add}>
        <input
          className="input"
          aria-label="Add item"
          placeholder={readOnly ? 'Read-only' : 'Add an item, e.g. Milk'}
          value={text}
          maxLength={200}
          disabled={readOnly}
          data-cart-undo="1"
          enterKeyHint="done"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="button primary" disabled={readOnly || text.trim() === ''}>
          Add
        </button>
      </form>

      {items.length === 0 ? (
        <p className="empty" data-testid="cart-empty">
          The cart is empty.{readOnly ? '' : ' Add the first item above.'}
        </p>
      ) : (
        <ul
          ref={listRef}
          className="cart-list"
          aria-label="Items"
          aria-describedby="cart-keys"
          onDragOver={(e) => {
            if (dragKey) e.preventDefault()
          }}
          onDrop={(e) => {
            e.preventDefault()
            drop()
          }}
        >
          {items.map((item, index) => (
            <CartRow
              key={item.key}
              item={item}
              index={index}
              count={items.length}
              readOnly={readOnly}
              expanded={expanded === item.key}
              dragging={dragKey === item.key}
              dropBefore={dragKey !== null && dropIndex === index}
              dropAfter={dragKey !== null && index === items.length - 1 && dropIndex === items.length}
              onToggleExpanded={() => setExpanded((k) => (k === item.key ? null : item.key))}
              onIncrement={() => run(`add one “${shownName(item)}”`, () => space.increment(item.key))}
              onDecrement={() => run(`take one “${shownName(item)}”`, () => space.decrement(item.key))}
              onRemove={() => run(`remove “${shownName(item)}”`, () => space.removeItem(item.key))}
              onChecked={(checked) =>
                run(`check off “${shownName(item)}”`, () =>
                  checked ? space.check(item.key, me.name) : space.uncheck(item.key),
                )
              }
              onMove={(to, control) => move(item, to, control)}
              onSave={(patch) => {
                let ok = false
                run(`save “${shownName(item)}”`, () => {
                  space.transact(() => {
                    for (const [field, value] of patch) space.setField(item.key, field, value)
                  })
                  ok = true
                })
                if (ok) setExpanded(null)
              }}
              onDragStart={() => setDragKey(item.key)}
              onDragEnd={() => {
                setDragKey(null)
                setDropIndex(null)
              }}
              onDragOverRow={(after) => setDropIndex(index + (after ? 1 : 0))}
            />
          ))}
        </ul>
      )}
      <p id="cart-keys" className="visually-hidden">
        On a focused row, Alt+Up and Alt+Down move the item.
      </p>

      <dl className="totals" data-testid="cart-totals">
        <div>
          <dt>Items</dt>
          <dd data-testid="total-items">{formatCount(totals.items)}</dd>
        </div>
        <div>
          <dt>Quantity</dt>
          <dd data-testid="total-quantity">{formatCount(totals.quantity)}</dd>
        </div>
        <div>
          <dt>Bought</dt>
          <dd data-testid="total-bought">
            {formatCount(totals.checked)} of {formatCount(totals.items)}
          </dd>
        </div>
        <div>
          <dt>Price</dt>
          <dd data-testid="total-price">
            {formatPrice(totals.priceCents)}
            {totals.unpriced > 0 && (
              <span className="muted small"> + {formatCount(totals.unpriced)} without price</span>
            )}
          </dd>
        </div>
      </dl>
    </section>
  )
}

interface RowProps {
  readonly item: CartItem
  readonly index: number
  readonly count: number
  readonly readOnly: boolean
  readonly expanded: boolean
  readonly dragging: boolean
  readonly dropBefore: boolean
  readonly dropAfter: boolean
  readonly onToggleExpanded: () => void
  readonly onIncrement: () => void
  readonly onDecrement: () => void
  readonly onRemove: () => void
  readonly onChecked: (checked: boolean) => void
  readonly onMove: (toIndex: number, control: string) => void
  readonly onSave: (patch: [ItemField, string | number | null][]) => void
  readonly onDragStart: () => void
  readonly onDragEnd: () => void
  readonly onDragOverRow: (after: boolean) => void
}

function CartRow(props: RowProps) {
  const { item, index, count, readOnly, expanded } = props
  const rowRef = useRef<HTMLLIElement>(null)
  // every value read from the document is shown tolerantly (BAD-4 in the UI, app/safe.ts)
  const name = shownName(item)
  const unit = safeText(item.unit, MAX_NAME)
  const quantity = formatCount(item.quantity)
  const checkedBy = safeText(item.checkedBy, MAX_NAME)
  const detailsId = useId()
  const meta = [
    safeText(item.note, MAX_ITEM_TEXT),
    safeText(item.category, MAX_NAME),
    item.priceCents !== null ? `${formatPrice(item.priceCents)} each` : '',
  ].filter(Boolean)
  const classes = ['cart-row']
  if (item.checked) classes.push('checked')
  if (props.dragging) classes.push('dragging')
  if (props.dropBefore) classes.push('drop-before')
  if (props.dropAfter) classes.push('drop-after')

  return (
    <li
      ref={rowRef}
      className={classes.join(' ')}
      data-key={item.key}
      data-testid="cart-item"
      data-name={name}
      tabIndex={0}
      aria-label={`${name}, ${quantity}${unit ? ` ${unit}` : ''}${item.checked ? ', bought' : ''}`}
      onKeyDown={(e) => {
        if (!e.altKey || readOnly || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return
        e.preventDefault()
        const control = e.target instanceof HTMLElement ? (e.target.dataset.control ?? 'row') : 'row'
        props.onMove(index + (e.key === 'ArrowUp' ? -1 : 1), control)
      }}
      onDragOver={(e) => {
        const rect = e.currentTarget.getBoundingClientRect()
        props.onDragOverRow(e.clientY > rect.top + rect.height / 2)
      }}
    >
      <div className="row-main">
        <span
          className={readOnly ? 'drag-handle disabled' : 'drag-handle'}
          draggable={!readOnly}
          aria-hidden="true"
          title="Drag to reorder"
          data-testid="drag-handle"
          onDragStart={(e) => {
            e.dataTransfer.effectAllowed = 'move'
            e.dataTransfer.setData('text/plain', name)
            if (rowRef.current) e.dataTransfer.setDragImage(rowRef.current, 16, 16)
            props.onDragStart()
          }}
          onDragEnd={props.onDragEnd}
        >
          ⋮⋮
        </span>
        <input
          type="checkbox"
          className="checkbox"
          aria-label={`Bought ${name}`}
          checked={item.checked}
          disabled={readOnly}
          data-control="check"
          onChange={(e) => props.onChecked(e.target.checked)}
        />
        <div className="item-text">
          <span className="item-name">{name}</span>
          {(meta.length > 0 || item.checked) && (
            <span className="item-meta">
              {meta.join(' · ')}
              {item.checked && (
                <span className="bought-by" data-testid="bought-by">
                  {meta.length > 0 ? ' · ' : ''}bought{checkedBy ? ` by ${checkedBy}` : ''}
                </span>
              )}
            </span>
          )}
        </div>
        <div className="qty-group">
          <button
            type="button"
            className="icon-button"
            aria-label={`Decrease ${name}`}
            disabled={readOnly}
            data-control="decrease"
            onClick={props.onDecrement}
          >
            −
          </button>
          <span className="qty" data-testid="item-quantity">
            {quantity}
            {unit && <span className="unit"> {unit}</span>}
          </span>
          <button
            type="button"
            className="icon-button"
            aria-label={`Increase ${name}`}
            disabled={readOnly}
            data-control="increase"
            onClick={props.onIncrement}
          >
            +
          </button>
        </div>
      </div>
      <div className="row-actions">
        <button
          type="button"
          className="icon-button"
          aria-label={`Move ${name} up`}
          title="Move up (Alt+↑)"
          disabled={readOnly || index === 0}
          data-control="up"
          onClick={() => props.onMove(index - 1, 'up')}
        >
          ↑
        </button>
        <button
          type="button"
          className="icon-button"
          aria-label={`Move ${name} down`}
          title="Move down (Alt+↓)"
          disabled={readOnly || index === count - 1}
          data-control="down"
          onClick={() => props.onMove(index + 1, 'down')}
        >
          ↓
        </button>
        <button
          type="button"
          className="button small"
          aria-expanded={expanded}
          aria-controls={detailsId}
          aria-label={`Edit ${name}`}
          disabled={readOnly}
          data-control="edit"
          onClick={props.onToggleExpanded}
        >
          Edit
        </button>
        <button
          type="button"
          className="button small danger-text"
          aria-label={`Remove ${name}`}
          disabled={readOnly}
          data-control="remove"
          onClick={props.onRemove}
        >
          Remove
        </button>
      </div>
      {expanded && !readOnly && (
        <ItemEditor id={detailsId} item={item} onSave={props.onSave} onCancel={props.onToggleExpanded} />
      )}
    </li>
  )
}

function ItemEditor({
  id,
  item,
  onSave,
  onCancel,
}: {
  readonly id: string
  readonly item: CartItem
  readonly onSave: RowProps['onSave']
  readonly onCancel: () => void
}) {
  // the fields start from the values as shown: saving writes them back without what safeText dropped
  const [note, setNote] = useState(() => safeText(item.note, MAX_ITEM_TEXT))
  const [unit, setUnit] = useState(() => safeText(item.unit, MAX_NAME))
  const [price, setPrice] = useState(() => priceInput(item.priceCents))
  const [category, setCategory] = useState(() => safeText(item.category, MAX_NAME))
  const [priceError, setPriceError] = useState(false)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    const cents = parsePrice(price)
    if (cents === undefined) {
      setPriceError(true)
      return
    }
    const patch: [ItemField, string | number | null][] = []
    if (note.trim() !== item.note) patch.push(['note', note.trim()])
    if (unit.trim() !== item.unit) patch.push(['unit', unit.trim()])
    if (cents !== item.priceCents) patch.push(['priceCents', cents])
    if (category.trim() !== item.category) patch.push(['category', category.trim()])
    if (patch.length === 0) onCancel()
    else onSave(patch)
  }
  return (
    <form
      id={id}
      className="item-editor"
      aria-label={`Details of ${shownName(item)}`}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation()
          onCancel()
        }
      }}
    >
      <label className="field">
        <span className="field-label">Note</span>
        <input
          className="input"
          value={note}
          maxLength={1000}
          onChange={(e) => setNote(e.target.value)}
          autoFocus
        />
      </label>
      <label className="field">
        <span className="field-label">Unit</span>
        <input
          className="input"
          value={unit}
          maxLength={40}
          placeholder="e.g. kg, pack"
          onChange={(e) => setUnit(e.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">Price</span>
        <input
          className="input"
          value={price}
          inputMode="decimal"
          placeholder="0.00"
          aria-invalid={priceError || undefined}
          aria-describedby={priceError ? `${id}-price-error` : undefined}
          onChange={(e) => {
            setPrice(e.target.value)
            setPriceError(false)
          }}
        />
        {priceError && (
          <span id={`${id}-price-error`} className="field-error">
            A price such as 2.49
          </span>
        )}
      </label>
      <label className="field">
        <span className="field-label">Category</span>
        <input
          className="input"
          value={category}
          maxLength={60}
          placeholder="e.g. Dairy"
          onChange={(e) => setCategory(e.target.value)}
        />
      </label>
      <div className="editor-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary">
          Save
        </button>
      </div>
    </form>
  )
}
