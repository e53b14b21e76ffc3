import type { CartItem } from '@converge/merge'
import { memo, useId, useRef, useState } from 'react'
import { MAX_ITEM_TEXT, MAX_NAME, formatCount, formatPrice, safeText } from '../../app/safe.js'
import { shownName } from '../../app/shopping.js'
import { type Draft, ItemEditor, type Patch } from './ItemEditor.js'
import { QuantityField } from './QuantityField.js'
import { type MenuEntry, RowMenu } from './RowMenu.js'

/**
 * What a row can ask the cart to do, by the line's key: one object for every row, the same for the
 * cart's whole life, so a row re-renders only when its own line (or its own flags) change.
 */
export interface RowActions {
  toggleExpanded(key: string): void
  startRename(key: string): void
  /** Enter (`refocus`: the focus goes back to the row) or leaving the field in the inline name */
  rename(key: string, name: string, refocus: boolean): void
  cancelRename(key: string): void
  increment(key: string): void
  decrement(key: string): void
  quantity(key: string, quantity: number): void
  remove(key: string): void
  checked(key: string, checked: boolean): void
  /** one place up (−1) or down (+1) within the line's group; `control` gets the focus back */
  move(key: string, by: -1 | 1, control: string): void
  save(key: string, name: string | null, patch: Patch): void
  /** the editor or the inline name changed (kept in case someone else removes the line meanwhile) */
  draft(key: string, draft: Draft | string): void
  dragStart(key: string, handle: HTMLElement, pointerId: number): void
  dragMove(clientY: number): void
  dragEnd(drop: boolean): void
}

export interface RowProps {
  readonly item: CartItem
  readonly currency: string | null
  readonly readOnly: boolean
  readonly canUp: boolean
  readonly canDown: boolean
  readonly expanded: boolean
  readonly renaming: boolean
  readonly dragging: boolean
  readonly dropBefore: boolean
  readonly dropAfter: boolean
  /** the category in the meta line (not under a category heading) */
  readonly showCategory: boolean
  /** the space's categories, for the editor (an empty list while it is closed) */
  readonly categories: readonly string[]
  readonly actions: RowActions
}

/**
 * One line of the cart, on one line at any width (390 px up): drag handle, check box, name (and a
 * muted meta line, cut with "…"), − quantity +, and ⋯ for the rest (rename, details, moves, remove).
 */
function Row(props: RowProps) {
  const { item, readOnly, expanded, actions } = props
  const key = item.key
  // every value read from the document is shown tolerantly (BAD-4 in the UI, app/safe.ts)
  const name = shownName(item)
  const unit = safeText(item.unit, MAX_NAME)
  const quantity = formatCount(item.quantity)
  const checkedBy = safeText(item.checkedBy, MAX_NAME)
  const detailsId = useId()
  const meta = [
    safeText(item.note, MAX_ITEM_TEXT),
    props.showCategory ? safeText(item.category, MAX_NAME) : '',
    item.priceCents !== null ? `${formatPrice(item.priceCents, '—', props.currency)} each` : '',
  ].filter(Boolean)
  const classes = ['cart-row']
  if (item.checked) classes.push('checked')
  if (props.dragging) classes.push('dragging')
  if (props.dropBefore) classes.push('drop-before')
  if (props.dropAfter) classes.push('drop-after')
  if (expanded) classes.push('expanded')

  const entries: MenuEntry[] = [
    { id: 'rename', label: 'Rename', hint: 'F2' },
    { id: 'edit', label: expanded ? 'Close details' : 'Edit details' },
    { id: 'up', label: 'Move up', hint: 'Alt+↑', disabled: !props.canUp },
    { id: 'down', label: 'Move down', hint: 'Alt+↓', disabled: !props.canDown },
    { id: 'remove', label: 'Remove', danger: true },
  ]

  return (
    <li
      className={classes.join(' ')}
      data-key={key}
      data-testid="cart-item"
      data-name={name}
      tabIndex={0}
      aria-label={`${name}, ${quantity}${unit ? ` ${unit}` : ''}${item.checked ? ', bought' : ''}`}
      onKeyDown={(e) => {
        if (readOnly) return
        const target = e.target as HTMLElement
        if (e.key === 'F2' && (target === e.currentTarget || target.tagName === 'BUTTON')) {
          e.preventDefault()
          actions.startRename(key)
          return
        }
        if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return
        if (target.tagName === 'INPUT' && (target as HTMLInputElement).type !== 'checkbox') return
        e.preventDefault()
        const up = e.key === 'ArrowUp'
        if (up ? !props.canUp : !props.canDown) return
        actions.move(key, up ? -1 : 1, target.dataset.control ?? 'row')
      }}
    >
      <div className="row-main">
        <span
          className={readOnly ? 'drag-handle disabled' : 'drag-handle'}
          aria-hidden="true"
          title="Drag to reorder"
          data-testid="drag-handle"
          onPointerDown={(e) => {
            if (readOnly || e.button !== 0) return
            e.preventDefault()
            e.currentTarget.setPointerCapture(e.pointerId)
            actions.dragStart(key, e.currentTarget, e.pointerId)
          }}
          onPointerMove={(e) => {
            if (e.currentTarget.hasPointerCapture(e.pointerId)) actions.dragMove(e.clientY)
          }}
          onPointerUp={(e) => {
            if (!e.currentTarget.hasPointerCapture(e.pointerId)) return
            e.currentTarget.releasePointerCapture(e.pointerId)
            actions.dragEnd(true)
          }}
          onPointerCancel={() => actions.dragEnd(false)}
          onLostPointerCapture={() => actions.dragEnd(false)}
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
          onChange={(e) => actions.checked(key, e.target.checked)}
        />
        <div className="item-text">
          {props.renaming && !readOnly ? (
            <InlineName itemKey={key} name={name} actions={actions} />
          ) : (
            <span
              className="item-name"
              title={readOnly ? undefined : 'Double-click to rename'}
              onDoubleClick={() => !readOnly && actions.startRename(key)}
            >
              {name}
            </span>
          )}
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
            onClick={() => actions.decrement(key)}
          >
            −
          </button>
          <QuantityField
            name={name}
            quantity={item.quantity}
            shown={quantity}
            unit={unit}
            readOnly={readOnly}
            onCommit={(n) => actions.quantity(key, n)}
          />
          <button
            type="button"
            className="icon-button"
            aria-label={`Increase ${name}`}
            disabled={readOnly}
            data-control="increase"
            onClick={() => actions.increment(key)}
          >
            +
          </button>
        </div>
        <RowMenu
          name={name}
          disabled={readOnly}
          entries={entries}
          onPick={(id) => {
            if (id === 'rename') actions.startRename(key)
            else if (id === 'edit') actions.toggleExpanded(key)
            else if (id === 'up' || id === 'down') actions.move(key, id === 'up' ? -1 : 1, 'more')
            else if (id === 'remove') actions.remove(key)
          }}
        />
      </div>
      {expanded && !readOnly && (
        <ItemEditor
          id={detailsId}
          item={item}
          categories={props.categories}
          onDraft={(d) => actions.draft(key, d)}
          onSave={(n, patch) => actions.save(key, n, patch)}
          onCancel={() => actions.toggleExpanded(key)}
        />
      )}
    </li>
  )
}

const sameItem = (a: CartItem, b: CartItem): boolean =>
  a === b ||
  (a.key === b.key &&
    a.name === b.name &&
    a.quantity === b.quantity &&
    a.note === b.note &&
    a.unit === b.unit &&
    a.priceCents === b.priceCents &&
    a.category === b.category &&
    a.checked === b.checked &&
    a.checkedBy === b.checkedBy)

/** A row re-renders only when its line or its own flags change (every document change makes new items). */
export const CartRow = memo(Row, (a, b) => {
  for (const k of Object.keys(a) as (keyof RowProps)[]) if (k !== 'item' && a[k] !== b[k]) return false
  return sameItem(a.item, b.item)
})

/**
 * The name as a field in place (F2, a double click, or "Rename"): Enter or leaving it saves, Escape
 * goes back; either way the focus returns to the row.
 */
function InlineName({
  itemKey,
  name,
  actions,
}: {
  readonly itemKey: string
  readonly name: string
  readonly actions: RowActions
}) {
  const [text, setText] = useState(name)
  const done = useRef(false)
  const finish = (save: boolean, refocus: boolean): void => {
    if (done.current) return
    done.current = true
    if (save) actions.rename(itemKey, text, refocus)
    else actions.cancelRename(itemKey)
  }
  return (
    <input
      className="input rename-input"
      aria-label={`Name of ${name}`}
      value={text}
      maxLength={200}
      autoFocus
      enterKeyHint="done"
      onFocus={(e) => e.target.select()}
      onChange={(e) => {
        setText(e.target.value)
        actions.draft(itemKey, e.target.value)
      }}
      onBlur={() => finish(true, false)}
      onKeyDown={(e) => {
        e.stopPropagation()
        if (e.key === 'Enter') {
          e.preventDefault()
          finish(true, true)
        } else if (e.key === 'Escape') {
          e.preventDefault()
          finish(false, true)
        }
      }}
    />
  )
}
