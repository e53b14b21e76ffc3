import type { CartItem, ItemField } from '@converge/merge'
import { normaliseName } from '@converge/merge'
import { type FormEvent, useEffect, useId, useState } from 'react'
import { MAX_ITEM_TEXT, MAX_NAME, priceInput, safeText } from '../../app/safe.js'
import { shownName } from '../../app/shopping.js'

/** Whether a name makes an item (CART-9: something visible is left once it is normalised). */
export function hasIdentity(name: string): boolean {
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

/** What the details editor holds, as typed. */
export interface Draft {
  readonly name: string
  readonly note: string
  readonly unit: string
  readonly price: string
  readonly category: string
}

/** The editor's fields as they start for a line: its values as shown. */
export function draftOf(item: CartItem, name?: string): Draft {
  return {
    name: name ?? shownName(item),
    note: safeText(item.note, MAX_ITEM_TEXT),
    unit: safeText(item.unit, MAX_NAME),
    price: priceInput(item.priceCents),
    category: safeText(item.category, MAX_NAME),
  }
}

/** A change of the editor: a new name (null: unchanged) and the fields that changed. */
export type Patch = [ItemField, string | number | null][]

interface EditorProps {
  readonly id: string
  readonly item: CartItem
  /** the categories of the space, offered for the Category field */
  readonly categories: readonly string[]
  /** where to start (a draft kept from before); the item's values when left out */
  readonly initial?: Draft | undefined
  /** told every change, so the draft outlives the editor (a line someone else removes) */
  readonly onDraft?: ((draft: Draft) => void) | undefined
  /** Save: a new name (null: unchanged) and the fields that changed. */
  readonly onSave: (name: string | null, patch: Patch) => void
  readonly onCancel: () => void
  /**
   * The line was removed by someone else while this editor was open: the buttons are "Keep it"
   * (re-adds it with what the editor holds) and "Discard".
   */
  readonly orphan?: {
    readonly onKeep: (name: string, fields: Record<ItemField, string | number | null>) => void
  }
}

/** The details of a line: name, note, unit, price, category. Escape cancels. */
export function ItemEditor({
  id,
  item,
  categories,
  initial,
  onDraft,
  onSave,
  onCancel,
  orphan,
}: EditorProps) {
  // the fields start from the values as shown: saving writes them back without what safeText dropped
  const [draft, setDraft] = useState<Draft>(() => initial ?? draftOf(item))
  const [nameError, setNameError] = useState(false)
  const [priceError, setPriceError] = useState(false)
  const listId = useId()
  useEffect(() => onDraft?.(draft), [draft, onDraft])
  const set = (field: keyof Draft) => (value: string) => setDraft((d) => ({ ...d, [field]: value }))

  const submit = (e: FormEvent): void => {
    e.preventDefault()
    const cents = parsePrice(draft.price)
    const newName = draft.name.trim()
    const nameEmpty = !hasIdentity(newName)
    if (cents === undefined || nameEmpty) {
      setPriceError(cents === undefined)
      setNameError(nameEmpty)
      return
    }
    if (orphan) {
      orphan.onKeep(newName, {
        note: draft.note.trim(),
        unit: draft.unit.trim(),
        priceCents: cents,
        category: draft.category.trim(),
        name: newName,
      })
      return
    }
    const renamed = newName !== shownName(item) ? newName : null
    const patch: Patch = []
    if (draft.note.trim() !== item.note) patch.push(['note', draft.note.trim()])
    if (draft.unit.trim() !== item.unit) patch.push(['unit', draft.unit.trim()])
    if (cents !== item.priceCents) patch.push(['priceCents', cents])
    if (draft.category.trim() !== item.category) patch.push(['category', draft.category.trim()])
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
        if (e.key === 'Escape' && !orphan) {
          e.stopPropagation()
          onCancel()
        }
      }}
    >
      <label className="field">
        <span className="field-label">Name</span>
        <input
          className="input"
          value={draft.name}
          maxLength={200}
          aria-invalid={nameError || undefined}
          aria-describedby={nameError ? `${id}-name-error` : undefined}
          onChange={(e) => {
            set('name')(e.target.value)
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
          value={draft.note}
          maxLength={1000}
          onChange={(e) => set('note')(e.target.value)}
          autoFocus={!orphan}
        />
      </label>
      <label className="field">
        <span className="field-label">Unit</span>
        <input
          className="input"
          value={draft.unit}
          maxLength={40}
          placeholder="e.g. kg, pack"
          onChange={(e) => set('unit')(e.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">Price</span>
        <input
          className="input"
          value={draft.price}
          inputMode="decimal"
          placeholder="0.00"
          aria-invalid={priceError || undefined}
          aria-describedby={priceError ? `${id}-price-error` : undefined}
          onChange={(e) => {
            set('price')(e.target.value)
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
          value={draft.category}
          maxLength={60}
          placeholder="e.g. Dairy"
          list={categories.length > 0 ? listId : undefined}
          autoComplete="off"
          onChange={(e) => set('category')(e.target.value)}
        />
        {categories.length > 0 && (
          <datalist id={listId}>
            {categories.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        )}
      </label>
      <div className="editor-actions">
        <button type="button" className="button" onClick={onCancel}>
          {orphan ? 'Discard' : 'Cancel'}
        </button>
        <button type="submit" className="button primary" data-control="keep">
          {orphan ? 'Keep it' : 'Save'}
        </button>
      </div>
    </form>
  )
}
