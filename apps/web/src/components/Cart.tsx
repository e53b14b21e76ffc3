import type { CartItem, ItemField } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { normaliseName } from '@converge/merge'
import {
  type DragEvent,
  type FormEvent,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react'
import { CURRENCIES, currencyLabel, useCurrency } from '../app/currency.js'
import { MAX_ITEM_TEXT, MAX_NAME, formatCount, formatPrice, priceInput, safeText } from '../app/safe.js'
import {
  addFeedback,
  parseQuantity,
  renameItem,
  sectionMoveIndex,
  setQuantity,
  shownName,
  splitBought,
} from '../app/shopping.js'
import { useServices } from '../app/services.js'
import type { SpaceViewState } from '../app/space-view.js'
import type { Run } from './SpaceScreen.js'
import { Notice } from './Notice.js'

/** Whether a name makes an item (CART-9: something visible is left once it is normalised). */
function hasIdentity(name: string): boolean {
  try {
    return normaliseName(name) !== ''
  } catch {
    return false
  }
}

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

/** What the cart says after an action: calm words in a status region, and maybe an Undo. */
interface Notice {
  readonly text: string
  /** the undo step this notice can take back; any later change of this device's clears it */
  readonly undoable: boolean
}

export function Cart({ session, view, run }: CartProps) {
  const { profile } = useServices()
  const me = useSyncExternalStore(profile.subscribe, profile.getSnapshot).profile
  const space = session.space
  const { items, totals, readOnly } = view
  const [text, setText] = useState('')
  const [expanded, setExpanded] = useState<string | null>(null)
  const [drag, setDrag] = useState<{ key: string; section: Section } | null>(null)
  const [dropIndex, setDropIndex] = useState<number | null>(null)
  const [boughtOpen, setBoughtOpen] = useState(true)
  const [notice, setNotice] = useState<Notice | null>(null)
  const listRef = useRef<HTMLDivElement>(null)
  const pendingFocus = useRef<PendingFocus | null>(null)
  const noticeStep = useRef(false)
  const boughtId = useId()
  const [currency, setCurrency] = useCurrency(space.id)
  const { toBuy, bought } = splitBought(items)

  useLayoutEffect(() => {
    const want = pendingFocus.current
    if (!want || !listRef.current) return
    pendingFocus.current = null
    const row = [...listRef.current.querySelectorAll<HTMLElement>('li[data-key]')].find(
      (el) => el.dataset.key === want.key,
    )
    const control = row?.querySelector<HTMLElement>(`[data-control="${want.control}"]`)
    // a line checked off into a folded "Bought" section: focus stays next to it, on the section's button
    const target =
      (control && !(control as HTMLButtonElement).disabled ? control : row) ??
      listRef.current.querySelector<HTMLElement>('.bought-toggle')
    target?.focus()
  })

  // an Undo in the notice takes back exactly its own step: any later change made on this device
  // (another cart action, the toolbar's undo, a note) makes it a plain message
  useEffect(
    () =>
      space.subscribe((e) => {
        if (!e.local) return
        if (noticeStep.current) {
          noticeStep.current = false
          return
        }
        setNotice((n) => (n?.undoable ? null : n))
      }),
    [space],
  )

  /** Runs a command and says what it did; `undoable` offers an Undo for it. */
  const act = (what: string, fn: () => string | null, undoable = false): void => {
    run(what, () => {
      noticeStep.current = undoable
      const said = fn()
      noticeStep.current = false
      setNotice(said === null ? null : { text: said, undoable })
    })
  }

  const add = (e: FormEvent): void => {
    e.preventDefault()
    const name = text.trim()
    if (!name) return
    act(`add “${name}”`, () => {
      const before = items.find((i) => i.key === normaliseName(name))
      // a bought line added again goes back on the list as it was (its quantity, not one more): what a
      // shopper means by it; the uncheck is the same last-writer-wins write as CART-1's
      let key = before?.key ?? ''
      if (before?.checked) space.uncheck(before.key)
      else key = space.addItem(name)
      setText('')
      return addFeedback(name, before, space.item(key))
    })
  }

  const clearBought = (): void => {
    const n = bought.length
    if (n === 0) return
    act(
      'clear the bought items',
      () => {
        space.transact(() => {
          for (const item of bought) space.removeItem(item.key)
        })
        return `Cleared ${n} bought ${n === 1 ? 'item' : 'items'}.`
      },
      true,
    )
  }

  const undoNotice = (): void => {
    run('undo', () => {
      space.undo()
      setNotice({ text: 'Put back.', undoable: false })
    })
  }

  const move = (item: CartItem, section: readonly CartItem[], to: number, control: string): void => {
    const index = sectionMoveIndex(items, section, item.key, to)
    if (index === null) return
    pendingFocus.current = { key: item.key, control }
    run(`move “${shownName(item)}”`, () => space.moveItem(item.key, index))
  }

  const drop = (section: Section): void => {
    const list = section === 'bought' ? bought : toBuy
    const from = list.findIndex((i) => i.key === drag?.key)
    const item = list[from]
    if (item && drag?.section === section && dropIndex !== null) {
      const to = dropIndex > from ? dropIndex - 1 : dropIndex
      const index = sectionMoveIndex(items, list, item.key, to)
      if (index !== null) run(`move “${shownName(item)}”`, () => space.moveItem(item.key, index))
    }
    setDrag(null)
    setDropIndex(null)
  }

  const rows = (section: Section, list: readonly CartItem[]) =>
    list.map((item, index) => (
      <CartRow
        key={item.key}
        item={item}
        currency={currency}
        index={index}
        count={list.length}
        readOnly={readOnly}
        expanded={expanded === item.key}
        dragging={drag?.key === item.key}
        dropBefore={drag?.section === section && dropIndex === index}
        dropAfter={drag?.section === section && index === list.length - 1 && dropIndex === list.length}
        onToggleExpanded={() => setExpanded((k) => (k === item.key ? null : item.key))}
        onIncrement={() => act(`add one “${shownName(item)}”`, () => (space.increment(item.key), null))}
        onDecrement={() => act(`take one “${shownName(item)}”`, () => (space.decrement(item.key), null))}
        onQuantity={(quantity) =>
          act(
            `set the quantity of “${shownName(item)}”`,
            () => (setQuantity(space, item.key, quantity), null),
          )
        }
        onRemove={() =>
          act(
            `remove “${shownName(item)}”`,
            () => (space.removeItem(item.key), `Removed ${shownName(item)}.`),
            true,
          )
        }
        onChecked={(checked) => {
          pendingFocus.current = { key: item.key, control: 'check' }
          act(`check off “${shownName(item)}”`, () => {
            if (checked) space.check(item.key, me.name)
            else space.uncheck(item.key)
            return null
          })
        }}
        onMove={(to, control) => move(item, list, to, control)}
        onSave={(name, patch) => {
          let ok = false
          act(`save “${shownName(item)}”`, () => {
            let said: string | null = null
            space.transact(() => {
              let key = item.key
              if (name !== null) {
                const renamed = renameItem(space, items, item, name)
                key = renamed.key
                const now = space.item(key)
                const shown = now ? shownName(now) : name
                if (renamed.merged) said = `${shownName(item)} merged into ${shown}.`
                else if (key !== item.key) said = `Renamed ${shownName(item)} to ${shown}.`
              }
              for (const [field, value] of patch) space.setField(key, field, value)
            })
            ok = true
            return said
          })
          if (ok) setExpanded(null)
        }}
        onDragStart={() => setDrag({ key: item.key, section })}
        onDragEnd={() => {
          setDrag(null)
          setDropIndex(null)
        }}
        onDragOverRow={(after) => setDropIndex(index + (after ? 1 : 0))}
      />
    ))

  const listProps = (section: Section) => ({
    className: 'cart-list',
    'aria-describedby': 'cart-keys',
    onDragOver: (e: DragEvent) => {
      if (drag?.section === section) e.preventDefault()
    },
    onDrop: (e: DragEvent) => {
      e.preventDefault()
      drop(section)
    },
  })

  return (
    <section className="card cart" aria-labelledby="cart-heading" data-testid="cart">
      <div className="section-head">
        <h2 id="cart-heading" className="section-title">
          Cart
        </h2>
        <span className="count" aria-hidden="true">
          {formatCount(totals.items)}
        </span>
        <label className="currency-pick" title="How prices are shown on this device">
          <span className="visually-hidden">Currency (this device)</span>
          <select
            className="input small"
            value={currency ?? ''}
            onChange={(e) => setCurrency(e.target.value || null)}
          >
            <option value="">No currency</option>
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {currencyLabel(c)}
              </option>
            ))}
          </select>
        </label>
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

      <Notice
        testId="cart-notice"
        text={notice?.text ?? null}
        onUndo={notice?.undoable && !readOnly ? undoNotice : undefined}
        onDismiss={() => setNotice(null)}
      />

      <div ref={listRef}>
        {items.length === 0 ? (
          <div className="empty cart-empty" data-testid="cart-empty">
            <p className="empty-title">The list is empty.</p>
            {readOnly ? (
              <p className="muted small">Nothing to buy yet. Items others add show up here.</p>
            ) : (
              <p className="muted small">
                Add what you need above — one item per line, e.g. “Milk”. Adding the same item again adds one
                more; tick it off when it is in the basket.
              </p>
            )}
          </div>
        ) : toBuy.length === 0 ? (
          <p className="empty all-bought" data-testid="cart-all-bought">
            Everything is bought.
          </p>
        ) : (
          <ul {...listProps('toBuy')} aria-label="Items" data-testid="cart-to-buy">
            {rows('toBuy', toBuy)}
          </ul>
        )}

        {bought.length > 0 && (
          <div className="bought-section" data-testid="cart-bought">
            <div className="bought-head">
              <button
                type="button"
                className="bought-toggle"
                aria-expanded={boughtOpen}
                aria-controls={boughtId}
                onClick={() => setBoughtOpen((o) => !o)}
              >
                <span className="chevron" aria-hidden="true">
                  {boughtOpen ? '▾' : '▸'}
                </span>{' '}
                Bought ({formatCount(bought.length)})
              </button>
              {!readOnly && (
                <button type="button" className="button small" onClick={clearBought}>
                  Clear bought
                </button>
              )}
            </div>
            <ul {...listProps('bought')} id={boughtId} aria-label="Bought items" hidden={!boughtOpen}>
              {boughtOpen && rows('bought', bought)}
            </ul>
          </div>
        )}
      </div>
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
            {formatPrice(totals.priceCents, '—', currency)}
            {totals.unpriced > 0 && (
              <span className="muted small"> + {formatCount(totals.unpriced)} without price</span>
            )}
          </dd>
        </div>
      </dl>
    </section>
  )
}

type Section = 'toBuy' | 'bought'

interface RowProps {
  readonly item: CartItem
  readonly currency: string | null
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
  readonly onQuantity: (quantity: number) => void
  readonly onRemove: () => void
  readonly onChecked: (checked: boolean) => void
  readonly onMove: (toIndex: number, control: string) => void
  /** a new name (null: unchanged) and the fields that changed */
  readonly onSave: (name: string | null, patch: [ItemField, string | number | null][]) => void
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
    item.priceCents !== null ? `${formatPrice(item.priceCents, '—', props.currency)} each` : '',
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
          <QuantityField
            name={name}
            quantity={item.quantity}
            shown={quantity}
            unit={unit}
            readOnly={readOnly}
            onCommit={props.onQuantity}
          />
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
  const [name, setName] = useState(() => shownName(item))
  const [nameError, setNameError] = useState(false)
  const [note, setNote] = useState(() => safeText(item.note, MAX_ITEM_TEXT))
  const [unit, setUnit] = useState(() => safeText(item.unit, MAX_NAME))
  const [price, setPrice] = useState(() => priceInput(item.priceCents))
  const [category, setCategory] = useState(() => safeText(item.category, MAX_NAME))
  const [priceError, setPriceError] = useState(false)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    const cents = parsePrice(price)
    const newName = name.trim()
    const nameEmpty = !hasIdentity(newName)
    if (cents === undefined || nameEmpty) {
      setPriceError(cents === undefined)
      setNameError(nameEmpty)
      return
    }
    const renamed = newName !== shownName(item) ? newName : null
    const patch: [ItemField, string | number | null][] = []
    if (note.trim() !== item.note) patch.push(['note', note.trim()])
    if (unit.trim() !== item.unit) patch.push(['unit', unit.trim()])
    if (cents !== item.priceCents) patch.push(['priceCents', cents])
    if (category.trim() !== item.category) patch.push(['category', category.trim()])
    if (patch.length === 0 && renamed === null) onCancel()
    else onSave(renamed, patch)
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
        <span className="field-label">Name</span>
        <input
          className="input"
          value={name}
          maxLength={200}
          aria-invalid={nameError || undefined}
          aria-describedby={nameError ? `${id}-name-error` : undefined}
          onChange={(e) => {
            setName(e.target.value)
            setNameError(false)
          }}
        />
        {nameError && (
          <span id={`${id}-name-error`} className="field-error">
            An item needs a name
          </span>
        )}
      </label>
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

/**
 * The quantity as a button ("2 l") that becomes a number field on click, Enter or Space: Enter or
 * leaving the field sets it (through the counter, CART-2), Escape goes back. A value that is not a
 * whole number from 1 up is not taken (removing has its own button).
 */
function QuantityField({
  name,
  quantity,
  shown,
  unit,
  readOnly,
  onCommit,
}: {
  readonly name: string
  readonly quantity: number
  readonly shown: string
  readonly unit: string
  readonly readOnly: boolean
  readonly onCommit: (quantity: number) => void
}) {
  const [editing, setEditing] = useState<string | null>(null)
  const buttonRef = useRef<HTMLButtonElement>(null)
  const refocus = useRef(false)
  useLayoutEffect(() => {
    if (editing === null && refocus.current) {
      refocus.current = false
      buttonRef.current?.focus()
    }
  }, [editing])
  const closed = useRef(false)

  if (editing === null || readOnly)
    return (
      <button
        ref={buttonRef}
        type="button"
        className="qty qty-button"
        data-testid="item-quantity"
        data-control="quantity"
        aria-label={`Quantity of ${name}: ${shown}${unit ? ` ${unit}` : ''}`}
        title="Type a quantity"
        disabled={readOnly}
        onClick={() => {
          closed.current = false
          setEditing(String(quantity))
        }}
      >
        {shown}
        {unit && <span className="unit"> {unit}</span>}
      </button>
    )

  const commit = (focusBack: boolean): void => {
    // once per edit: the field leaving the page after Enter or Escape may still report a blur
    if (closed.current) return
    closed.current = true
    const n = parseQuantity(editing)
    refocus.current = focusBack
    setEditing(null)
    if (n !== undefined && n !== quantity) onCommit(n)
  }
  return (
    <input
      className="input qty-input"
      type="number"
      inputMode="numeric"
      min={1}
      step={1}
      aria-label={`Quantity of ${name}`}
      data-control="quantity-input"
      value={editing}
      autoFocus
      onFocus={(e) => e.target.select()}
      onChange={(e) => setEditing(e.target.value)}
      onBlur={() => commit(false)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault()
          commit(true)
        } else if (e.key === 'Escape') {
          e.preventDefault()
          e.stopPropagation()
          closed.current = true
          refocus.current = true
          setEditing(null)
        }
      }}
    />
  )
}
