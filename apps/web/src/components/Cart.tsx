import type { CartItem, ItemField } from '@converge/merge'
import type { SpaceSession } from '@converge/sync-client'
import { normaliseName } from '@converge/merge'
import {
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react'
import { CURRENCIES, currencyLabel, useSpaceCurrency } from '../app/currency.js'
import { formatCount, formatPrice } from '../app/safe.js'
import {
  type CategoryGroup,
  addFeedback,
  addRemembered,
  groupByCategory,
  groupMoves,
  renameItem,
  setQuantity,
  shownName,
  splitBought,
} from '../app/shopping.js'
import { categories as categoriesOf } from '../app/suggest.js'
import { useServices } from '../app/services.js'
import type { SpaceViewState } from '../app/space-view.js'
import type { Run } from './SpaceScreen.js'
import { Notice } from './Notice.js'
import { AddBox } from './cart/AddBox.js'
import { CartRow, type RowActions } from './cart/CartRow.js'
import { type Draft, ItemEditor, draftOf, hasIdentity } from './cart/ItemEditor.js'
import './cart/cart.css'

export { parsePrice } from './cart/ItemEditor.js'

interface CartProps {
  readonly session: SpaceSession
  readonly view: SpaceViewState
  readonly run: Run
  /** WEB-TRIP-1: "Done shopping" (left out where trips cannot be finished: read-only, not on the server). */
  readonly onDoneShopping?: (() => void) | undefined
}

/**
 * Focus to restore after an action re-renders the rows: which row and which of its controls ("row":
 * the row itself), or the add box.
 */
type PendingFocus = { readonly key: string; readonly control: string } | { readonly add: true }

/** What the cart says after an action: calm words in a status region, and maybe an Undo. */
interface Notice {
  readonly text: string
  /** the undo step this notice can take back; any later change of this device's clears it */
  readonly undoable: boolean
}

/** A line someone else removed while its editor was open here: the editor stays, with Keep it / Discard. */
interface Orphan {
  readonly item: CartItem
  readonly draft: Draft
}

/** A drag of a row by its handle (pointer events: mouse, pen and touch alike). */
interface DragState {
  readonly key: string
  /** the rows of the list it is dragged in (its category group, or the bought section), top to bottom */
  readonly keys: readonly string[]
  /** the vertical middle of each of those rows when the drag began */
  readonly mids: readonly number[]
  /** where it would land: before the row at this index (keys.length: after the last); null: nowhere new */
  dropIndex: number | null
}

/** What the rows show of a drag. */
interface DragView {
  readonly key: string
  readonly before: string | null
  readonly after: string | null
}

const NONE: readonly string[] = []

export function Cart({ session, view, run, onDoneShopping }: CartProps) {
  const { profile } = useServices()
  const me = useSyncExternalStore(profile.subscribe, profile.getSnapshot).profile
  const space = session.space
  const { items, totals, readOnly } = view
  const [expanded, setExpanded] = useState<string | null>(null)
  const [renaming, setRenaming] = useState<string | null>(null)
  const [orphan, setOrphan] = useState<Orphan | null>(null)
  const [drag, setDrag] = useState<DragView | null>(null)
  const [boughtOpen, setBoughtOpen] = useState(true)
  const [notice, setNotice] = useState<Notice | null>(null)
  const listRef = useRef<HTMLDivElement>(null)
  const cartRef = useRef<HTMLElement>(null)
  const addRef = useRef<HTMLInputElement>(null)
  const orphanRef = useRef<HTMLDivElement>(null)
  const pendingFocus = useRef<PendingFocus | null>(null)
  const noticeStep = useRef(false)
  const dragRef = useRef<DragState | null>(null)
  /** whether the last change of the document was this device's (a line gone by a local action) */
  const lastLocal = useRef(true)
  /** the open editor's / inline name's line as last seen, and what was typed there */
  const editing = useRef(new Map<string, { item: CartItem; draft: Draft | string | null }>())
  const baseId = useId()
  const boughtId = `${baseId}-bought`
  const [currency, setCurrency] = useSpaceCurrency(space)
  const { toBuy, bought } = useMemo(() => splitBought(items), [items])
  const groups = useMemo(() => groupByCategory(toBuy), [toBuy])
  // headings only once some line has a category: a plain list stays a plain list
  const grouped = groups.some((g) => g.id !== '')
  const onList = useMemo(() => new Set(toBuy.map((i) => i.key)), [toBuy])
  const history = useCallback(() => space.itemHistory(), [space])
  const categories = useMemo(
    () => (expanded !== null || orphan !== null ? categoriesOf([items, space.itemHistory()]) : NONE),
    [expanded, orphan, items, space],
  )

  // the lines being edited, as last seen while they were on the list
  for (const key of [expanded, renaming]) {
    if (key === null) continue
    const item = items.find((i) => i.key === key)
    if (item) editing.current.set(key, { item, draft: editing.current.get(key)?.draft ?? null })
  }

  const latest = useRef({ items, toBuy, bought, groups, boughtOpen, expanded, me, run })
  latest.current = { items, toBuy, bought, groups, boughtOpen, expanded, me, run }

  useLayoutEffect(() => {
    const want = pendingFocus.current
    if (!want || !listRef.current) return
    pendingFocus.current = null
    if ('add' in want) {
      addRef.current?.focus()
      return
    }
    const row = [...listRef.current.querySelectorAll<HTMLElement>('li[data-key]')].find(
      (el) => el.dataset.key === want.key,
    )
    const control = row?.querySelector<HTMLElement>(`[data-control="${want.control}"]`)
    // a line checked off into a folded "Bought" section: focus stays next to it, on the section's button
    const target =
      (control && !(control as HTMLButtonElement).disabled ? control : row) ??
      listRef.current.querySelector<HTMLElement>('.bought-toggle') ??
      addRef.current
    target?.focus()
  })

  // the add box sticks just below the app's sticky header (whatever height it has at this width)
  useLayoutEffect(() => {
    const header = document.querySelector<HTMLElement>('.app-header')
    const cart = cartRef.current
    if (!header || !cart || typeof ResizeObserver === 'undefined') return
    const measure = (): void => {
      const sticky = getComputedStyle(header).position === 'sticky'
      cart.style.setProperty('--cart-sticky-top', `${sticky ? header.offsetHeight : 0}px`)
    }
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(header)
    return () => observer.disconnect()
  }, [])

  // an Undo in the notice takes back exactly its own step: any later change made on this device
  // (another cart action, the toolbar's undo, a note) makes it a plain message
  useEffect(
    () =>
      space.subscribe((e) => {
        lastLocal.current = e.local
        if (!e.local) return
        if (noticeStep.current) {
          noticeStep.current = false
          return
        }
        setNotice((n) => (n?.undoable ? null : n))
      }),
    [space],
  )

  // a line being edited here that someone else removed: the editor stays open with what was typed,
  // and says so (Keep it re-adds the line, Discard closes); gone by this device's own doing, it closes
  useEffect(() => {
    const gone = (key: string | null): key is string => key !== null && !items.some((i) => i.key === key)
    for (const [key, close] of [
      [expanded, () => setExpanded(null)],
      [renaming, () => setRenaming(null)],
    ] as const) {
      if (!gone(key)) continue
      const seen = editing.current.get(key)
      editing.current.delete(key)
      close()
      if (lastLocal.current || !seen) continue
      const draft =
        typeof seen.draft === 'string' ? draftOf(seen.item, seen.draft) : (seen.draft ?? draftOf(seen.item))
      setOrphan({ item: seen.item, draft })
    }
  }, [items, expanded, renaming])

  useLayoutEffect(() => {
    // the editor's field had the focus and went with the row: it goes to "Keep it"
    if (!orphan) return
    const active = document.activeElement
    if (!active || active === document.body)
      orphanRef.current?.querySelector<HTMLElement>('[data-control="keep"]')?.focus()
  }, [orphan])

  /** Runs a command and says what it did; `undoable` offers an Undo for it. */
  const act = useCallback((what: string, fn: () => string | null, undoable = false): void => {
    latest.current.run(what, () => {
      noticeStep.current = undoable
      const said = fn()
      noticeStep.current = false
      setNotice(said === null ? null : { text: said, undoable })
    })
  }, [])

  const add = (typed: string): boolean => {
    const name = typed.trim()
    if (!name) return false
    let ok = false
    act(`add “${name}”`, () => {
      const before = items.find((i) => i.key === normaliseName(name))
      // a bought line added again goes back on the list as it was (its quantity, not one more): what a
      // shopper means by it; the uncheck is the same last-writer-wins write as CART-1's
      let key = before?.key ?? ''
      if (before?.checked) space.uncheck(before.key)
      else if (before) key = space.addItem(name, { by: me.name })
      else key = addRemembered(space, name, me.name)
      ok = true
      return addFeedback(name, before, space.item(key))
    })
    return ok
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

  const keepOrphan = (name: string, fields: Record<ItemField, string | number | null>): void => {
    const was = orphan?.item
    if (!was) return
    act(`keep “${name}”`, () => {
      const { name: _typed, ...rest } = fields
      let key = normaliseName(name)
      space.transact(() => {
        if (space.item(key)) {
          // someone put it back meanwhile: what was typed here goes onto it
          for (const [f, v] of Object.entries(rest) as [ItemField, string | number | null][])
            if (space.item(key)?.[f as 'note'] !== v) space.setField(key, f, v)
        } else key = space.addItem(name, { quantity: was.quantity, fields: rest, by: me.name })
        const now = space.item(key)
        if (now && now.name !== name) space.setField(key, 'name', name)
      })
      pendingFocus.current = { key, control: 'row' }
      const now = space.item(key)
      return `Kept ${now ? shownName(now) : name}.`
    })
    setOrphan(null)
  }

  const discardOrphan = (): void => {
    setOrphan(null)
    pendingFocus.current = { add: true }
  }

  // one object per space: the rows (React.memo) only re-render when their own line changes
  const actions = useMemo((): RowActions => {
    const nameOf = (key: string): string => {
      const item = latest.current.items.find((i) => i.key === key)
      return item ? shownName(item) : key
    }
    /** The group a line is moved in: its category's lines (to buy), or the bought section. */
    const groupOf = (key: string): readonly CartItem[] | undefined => {
      const { groups, bought } = latest.current
      if (bought.some((i) => i.key === key)) return bought
      return groups.find((g: CategoryGroup) => g.items.some((i) => i.key === key))?.items
    }

    const moveTo = (key: string, group: readonly CartItem[], to: number, what: string): void => {
      const moves = groupMoves(latest.current.items, group, key, to)
      if (moves.length === 0) return
      act(`move “${what}”`, () => {
        space.transact(() => {
          for (const [k, index] of moves) space.moveItem(k, index)
        })
        return null
      })
    }

    return {
      toggleExpanded: (key) => {
        const closing = latest.current.expanded === key
        if (closing) {
          pendingFocus.current = { key, control: 'more' }
          editing.current.delete(key)
        }
        setExpanded(closing ? null : key)
      },
      startRename: (key) => setRenaming(key),
      rename: (key, typed, refocus) => {
        const item = latest.current.items.find((i) => i.key === key)
        // gone meanwhile (someone removed it): the editor that outlives it takes over
        if (!item) return
        setRenaming(null)
        editing.current.delete(key)
        if (refocus) pendingFocus.current = { key, control: 'row' }
        const name = typed.trim()
        if (name === shownName(item)) return
        if (!hasIdentity(name)) {
          setNotice({
            text: 'An item needs a name: it is still called ' + shownName(item) + '.',
            undoable: false,
          })
          return
        }
        act(`rename “${shownName(item)}”`, () => {
          let said: string | null = null
          space.transact(() => {
            const renamed = renameItem(space, latest.current.items, item, name)
            if (refocus) pendingFocus.current = { key: renamed.key, control: 'row' }
            const now = space.item(renamed.key)
            const shown = now ? shownName(now) : name
            if (renamed.merged) said = `${shownName(item)} merged into ${shown}.`
            else if (renamed.key !== item.key) said = `Renamed ${shownName(item)} to ${shown}.`
          })
          return said
        })
      },
      cancelRename: (key) => {
        editing.current.delete(key)
        pendingFocus.current = { key, control: 'row' }
        setRenaming(null)
      },
      increment: (key) => act(`add one “${nameOf(key)}”`, () => (space.increment(key), null)),
      decrement: (key) => act(`take one “${nameOf(key)}”`, () => (space.decrement(key), null)),
      quantity: (key, quantity) =>
        act(`set the quantity of “${nameOf(key)}”`, () => (setQuantity(space, key, quantity), null)),
      remove: (key) => {
        const { items, groups, bought, boughtOpen } = latest.current
        const item = items.find((i) => i.key === key)
        if (!item) return
        // the focus goes to the next row as shown (or the one before, or the add box when none is left)
        const order = [...groups.flatMap((g) => g.items), ...(boughtOpen ? bought : [])]
        const at = order.findIndex((i) => i.key === key)
        const next = order[at + 1] ?? order[at - 1]
        pendingFocus.current = next ? { key: next.key, control: 'row' } : { add: true }
        setExpanded((k) => (k === key ? null : k))
        setRenaming((k) => (k === key ? null : k))
        editing.current.delete(key)
        act(`remove “${shownName(item)}”`, () => (space.removeItem(key), `Removed ${shownName(item)}.`), true)
      },
      checked: (key, checked) => {
        pendingFocus.current = { key, control: 'check' }
        act(`check off “${nameOf(key)}”`, () => {
          if (checked) space.check(key, latest.current.me.name)
          else space.uncheck(key)
          return null
        })
      },
      move: (key, by, control) => {
        const group = groupOf(key)
        if (!group) return
        const from = group.findIndex((i) => i.key === key)
        pendingFocus.current = { key, control }
        moveTo(key, group, from + by, shownName(group[from]!))
      },
      save: (key, name, patch) => {
        const item = latest.current.items.find((i) => i.key === key)
        if (!item) return
        let ok = false
        act(`save “${shownName(item)}”`, () => {
          let said: string | null = null
          space.transact(() => {
            let now = item.key
            if (name !== null) {
              const renamed = renameItem(space, latest.current.items, item, name)
              now = renamed.key
              const after = space.item(now)
              const shown = after ? shownName(after) : name
              if (renamed.merged) said = `${shownName(item)} merged into ${shown}.`
              else if (now !== item.key) said = `Renamed ${shownName(item)} to ${shown}.`
            }
            for (const [field, value] of patch) space.setField(now, field, value)
            pendingFocus.current = { key: now, control: 'more' }
          })
          ok = true
          return said
        })
        if (ok) {
          editing.current.delete(key)
          setExpanded(null)
        }
      },
      draft: (key, draft) => {
        const seen = editing.current.get(key)
        if (seen) seen.draft = draft
      },
      dragStart: (key, handle) => {
        const list = handle.closest('ul')
        if (!list) return
        const rows = [...list.querySelectorAll<HTMLElement>(':scope > li[data-key]')]
        dragRef.current = {
          key,
          keys: rows.map((r) => r.dataset.key ?? ''),
          mids: rows.map((r) => {
            const box = r.getBoundingClientRect()
            return box.top + box.height / 2
          }),
          dropIndex: null,
        }
        setDrag({ key, before: null, after: null })
      },
      dragMove: (y) => {
        const d = dragRef.current
        if (!d) return
        const from = d.keys.indexOf(d.key)
        const at = d.mids.filter((m) => m < y).length
        const index = at === from || at === from + 1 ? null : at
        if (index === d.dropIndex) return
        d.dropIndex = index
        setDrag({
          key: d.key,
          before: index !== null && index < d.keys.length ? (d.keys[index] ?? null) : null,
          after: index === d.keys.length ? (d.keys.at(-1) ?? null) : null,
        })
      },
      dragEnd: (drop) => {
        const d = dragRef.current
        if (!d) return
        dragRef.current = null
        setDrag(null)
        if (!drop || d.dropIndex === null) return
        const from = d.keys.indexOf(d.key)
        const target = d.keys[d.dropIndex > from ? d.dropIndex - 1 : d.dropIndex]
        const group = groupOf(d.key)
        const to = group?.findIndex((i) => i.key === target) ?? -1
        if (group && to >= 0) moveTo(d.key, group, to, nameOf(d.key))
      },
    }
  }, [space, act])

  const rows = (list: readonly CartItem[], section: 'toBuy' | 'bought') =>
    list.map((item, index) => (
      <CartRow
        key={item.key}
        item={item}
        currency={currency}
        readOnly={readOnly}
        canUp={index > 0}
        canDown={index < list.length - 1}
        expanded={expanded === item.key}
        renaming={renaming === item.key}
        dragging={drag?.key === item.key}
        dropBefore={drag?.before === item.key}
        dropAfter={drag?.after === item.key}
        showCategory={section === 'bought' || !grouped}
        categories={expanded === item.key ? categories : NONE}
        actions={actions}
      />
    ))

  return (
    <section ref={cartRef} className="card cart" aria-labelledby="cart-heading" data-testid="cart">
      <div className="section-head">
        <h2 id="cart-heading" className="section-title">
          Cart
        </h2>
        <span className="count" aria-hidden="true">
          {formatCount(totals.items)}
        </span>
        <label className="currency-pick" title="How prices are shown, for everyone in this space">
          <span className="visually-hidden">Currency</span>
          <select
            className="input small"
            value={currency ?? ''}
            disabled={readOnly}
            onChange={(e) => {
              const next = e.target.value || null
              run('set the currency', () => setCurrency(next))
            }}
          >
            <option value="">No currency</option>
            {/* a code a newer app wrote that this one does not offer: shown, kept selectable */}
            {currency && !(CURRENCIES as readonly string[]).includes(currency) && (
              <option value={currency}>{currencyLabel(currency)}</option>
            )}
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {currencyLabel(c)}
              </option>
            ))}
          </select>
        </label>
      </div>

      <AddBox
        readOnly={readOnly}
        currency={currency}
        inputRef={addRef}
        history={history}
        onList={onList}
        onAdd={add}
      />

      <Notice
        testId="cart-notice"
        text={notice?.text ?? null}
        onUndo={notice?.undoable && !readOnly ? undoNotice : undefined}
        onDismiss={() => setNotice(null)}
      />

      {orphan && !readOnly && (
        <div className="orphan-editor" ref={orphanRef} data-testid="cart-orphan">
          <p className="orphan-notice" role="alert">
            Someone removed {shownName(orphan.item)}. Keep it, or discard your changes?
          </p>
          <ItemEditor
            id={`${baseId}-orphan`}
            item={orphan.item}
            categories={categories}
            initial={orphan.draft}
            onSave={() => undefined}
            onCancel={discardOrphan}
            orphan={{ onKeep: keepOrphan }}
          />
        </div>
      )}

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
          <div className="cart-to-buy" data-testid="cart-to-buy">
            {grouped ? (
              groups.map((g, i) => (
                <div className="cart-group" key={g.id} data-testid="cart-group" data-category={g.label}>
                  <h3 className="cart-group-head" id={`${baseId}-g${i}`}>
                    {g.label}
                  </h3>
                  <ul className="cart-list" aria-labelledby={`${baseId}-g${i}`} aria-describedby="cart-keys">
                    {rows(g.items, 'toBuy')}
                  </ul>
                </div>
              ))
            ) : (
              <ul className="cart-list" aria-label="Items" aria-describedby="cart-keys">
                {rows(toBuy, 'toBuy')}
              </ul>
            )}
          </div>
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
              <span className="bought-actions">
                {!readOnly && (
                  <button type="button" className="button small" onClick={clearBought}>
                    Clear bought
                  </button>
                )}
                {!readOnly && onDoneShopping && (
                  <button
                    type="button"
                    className="button small primary"
                    data-testid="done-shopping"
                    onClick={onDoneShopping}
                    title="Record this trip (what was bought, for how much) and take the bought items off the list"
                  >
                    Done shopping
                  </button>
                )}
              </span>
            </div>
            <ul
              className="cart-list"
              aria-describedby="cart-keys"
              id={boughtId}
              aria-label="Bought items"
              hidden={!boughtOpen}
            >
              {boughtOpen && rows(bought, 'bought')}
            </ul>
          </div>
        )}
      </div>
      <p id="cart-keys" className="visually-hidden">
        On a focused row, Alt+Up and Alt+Down move the item, F2 renames it.
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
            {totals.items > 0 && totals.unpriced === totals.items ? (
              // no line has a price: no "0.00" total
              <span className="muted small">no prices yet</span>
            ) : (
              <>
                {formatPrice(totals.priceCents, '—', currency)}
                {totals.unpriced > 0 && (
                  <span className="muted small"> + {formatCount(totals.unpriced)} without price</span>
                )}
              </>
            )}
          </dd>
        </div>
      </dl>
    </section>
  )
}
