import { useLayoutEffect, useRef, useState } from 'react'
import { parseQuantity } from '../../app/shopping.js'

/**
 * The quantity as a button ("2 l") that becomes a number field on click, Enter or Space: Enter or
 * leaving the field sets it (through the counter, CART-2), Escape goes back. A value that is not a
 * whole number from 1 up is not taken (removing has its own button).
 */
export function QuantityField({
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
