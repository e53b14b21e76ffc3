import type { MapName, Scalar } from '../engine.js'
import { MergeError } from '../errors.js'
import { decodePN, lifeEpoch } from './counter.js'
import { SEP } from './keys.js'

/**
 * BAD-7: what a space's flat maps may hold, as one set of rules both engines and the server apply
 * to every update before any of it touches a document (SPEC.md, "Document layout"). A write that
 * breaks one is refused whole with `InvalidValue`.
 */
export const LIMITS = {
  /** An item's identity, a display name, a note, a unit, a category, an order key. */
  text: 1_000,
  /** Who checked a line, who created a note. */
  who: 200,
  /** The space's name. */
  spaceName: 200,
  /** A note's title. */
  title: 10_000,
  /** A remover's tombstone (JSON of what it saw). */
  tomb: 256 * 1024,
  /** The latest timestamp (ms) a space may carry: Date's own maximum. */
  time: 8.64e15,
  /** The schema versions a creator may write. */
  schema: 1_000,
  /** A person's display name (PEOPLE-1). */
  personName: 200,
} as const

/** A person id (PEOPLE-1), like a note id. */
export const PERSON_ID = /^[0-9a-z_-]{1,64}$/
/** A person's colour: `#rrggbb`, lower case (PEOPLE-1). */
export const PERSON_COLOR = /^#[0-9a-f]{6}$/
/** The fields of a person record, each its own `meta` register `person␟<id>␟<field>` (PEOPLE-1). */
export const PERSON_FIELD_NAMES = new Set(['name', 'color', 'seenAt'])
/** The prefix of a person record's meta keys. */
export const PERSON_PREFIX = 'person'
/** An ISO 4217 currency code (SPACE-1). */
export const CURRENCY = /^[A-Z]{3}$/

export const ITEM_FIELD_NAMES = new Set([
  'name',
  'note',
  'unit',
  'priceCents',
  'category',
  'checkedBy',
  'order',
  'addedBy',
  'addedAt',
])
export const NOTE_FIELD_NAMES = new Set([
  'title',
  'createdAt',
  'createdBy',
  'updatedAt',
  'trashedAt',
  'pinnedAt',
])
/** The meta keys only the creator writes, once: changing or deleting one is refused (SCH-1, BAD-7). */
export const SET_ONCE_META = new Set(['schema', 'id', 'createdAt'])
const NOTE_ID = /^[0-9a-z_-]{1,64}$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

const invalid = (why: string): never => {
  throw new MergeError('InvalidValue', why)
}

const isString = (v: Scalar, max: number): boolean => typeof v === 'string' && v.length <= max
const isTime = (v: Scalar): boolean =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= LIMITS.time
const isItemKey = (k: string): boolean =>
  k.length > 0 && k.length <= LIMITS.text && !CONTROL.test(k) && k.trim() === k

/** Splits `a␟b` (or `a␟b␟c`); null when the key does not have that many parts. */
const parts = (key: string): string[] => key.split(SEP)

export interface DomainWrite {
  readonly map: MapName
  readonly key: string
  /** The value written; `undefined` for a deletion of the key. */
  readonly value: Scalar | undefined
  /**
   * The replica whose single-writer registers the writer may write (qty, tomb): the writer's replica
   * id when the engine knows it (Automerge: the change's actor), or a check of the replica id named in
   * the key against the writer (Yjs: the writer's client id is derived from its replica id).
   */
  readonly writerOwns: (replica: string) => boolean
  /** The value the document holds for the key now, if any (monotonic counters, set-once meta). */
  readonly current: Scalar | undefined
  /** Whether the document holds the key at all. */
  readonly exists: boolean
}

/** Checks one map write of an incoming update against BAD-7; throws `InvalidValue`. */
export const checkDomainWrite = ({ map, key, value, writerOwns, current, exists }: DomainWrite): void => {
  if (value !== undefined && value !== null && typeof value === 'object')
    invalid(`${map}.${key} holds a structure`)
  switch (map) {
    case 'meta': {
      if (SET_ONCE_META.has(key) && exists) invalid(`meta.${key} is set once, by the creator`)
      const p = parts(key)
      if (
        p.length > 1 &&
        !(p.length === 3 && p[0] === PERSON_PREFIX && PERSON_ID.test(p[1]!) && PERSON_FIELD_NAMES.has(p[2]!))
      )
        invalid(`meta has no "${key.slice(0, 64)}"`)
      if (value === undefined) return
      if (key === 'schema') {
        if (!(Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= LIMITS.schema))
          invalid('meta.schema is a small whole number')
      } else if (key === 'id') {
        if (!isString(value, 64)) invalid('meta.id is a space id')
      } else if (key === 'createdAt') {
        if (!isTime(value)) invalid('meta.createdAt is a time')
      } else if (key === 'name') {
        if (!isString(value, LIMITS.spaceName)) invalid(`meta.name is at most ${LIMITS.spaceName} characters`)
      } else if (key === 'currency') {
        // SPACE-1
        if (!(value === null || (typeof value === 'string' && CURRENCY.test(value))))
          invalid('meta.currency is null or an ISO 4217 code (three capital letters)')
      } else if (p.length === 3 && p[0] === PERSON_PREFIX) {
        // PEOPLE-1: person␟<id>␟<field>, one register per field (the key itself was checked above)
        const field = p[2]!
        if (field === 'name') {
          if (!(typeof value === 'string' && value.length >= 1 && value.length <= LIMITS.personName))
            invalid(`a person's name is 1 to ${LIMITS.personName} characters`)
        } else if (field === 'color') {
          if (!(typeof value === 'string' && PERSON_COLOR.test(value)))
            invalid("a person's colour is #rrggbb, lower case")
        } else if (!(value === null || isTime(value))) invalid("a person's seenAt is null or a time")
      } else invalid(`meta has no "${key.slice(0, 64)}"`)
      return
    }
    case 'items': {
      const p = parts(key)
      if (p.length !== 2 || !isItemKey(p[0]!) || !ITEM_FIELD_NAMES.has(p[1]!))
        invalid(`items has no key "${key.slice(0, 64)}"`)
      if (value === undefined) return
      const field = p[1]!
      if (field === 'priceCents') {
        if (!(value === null || (Number.isSafeInteger(value) && (value as number) >= 0)))
          invalid('priceCents is null or a whole number ≥ 0')
      } else if (field === 'checkedBy') {
        if (!(value === null || isString(value, LIMITS.who))) invalid('checkedBy is null or who checked it')
      } else if (field === 'addedBy') {
        // CART-11
        if (!(value === null || isString(value, LIMITS.who))) invalid('addedBy is null or who added it')
      } else if (field === 'addedAt') {
        if (!isTime(value)) invalid('addedAt is a time')
      } else if (!isString(value, LIMITS.text)) invalid(`items.${field} is at most ${LIMITS.text} characters`)
      return
    }
    case 'qty': {
      const p = parts(key)
      const life = p.length === 3 ? p[2]! : p.length === 2 ? '0' : null
      if (life === null || !isItemKey(p[0]!) || lifeEpoch(life) === null)
        invalid(`qty has no key "${key.slice(0, 64)}"`)
      // CART-2: a counter register is its replica's alone
      if (!writerOwns(p[1]!)) invalid('a counter is written only by its own replica')
      if (value === undefined) invalid('a counter is never deleted')
      const pn = typeof value === 'string' ? /^(\d{1,16}):(\d{1,16})$/.exec(value) : null
      const next = pn ? decodePN(value) : null
      if (!next || next.p !== Number(pn![1]) || next.n !== Number(pn![2]))
        invalid('a counter is "p:n" of whole numbers')
      const was = decodePN(current)
      if (next!.p < was.p || next!.n < was.n) invalid('a counter only grows')
      return
    }
    case 'tomb': {
      const p = parts(key)
      if (p.length !== 2 || !isItemKey(p[0]!)) invalid(`tomb has no key "${key.slice(0, 64)}"`)
      if (!writerOwns(p[1]!)) invalid('a tombstone is written only by its remover')
      if (value === undefined) invalid('a tombstone is never deleted')
      if (!isString(value!, LIMITS.tomb)) invalid('a tombstone is JSON text of bounded size')
      let seen: unknown
      try {
        seen = JSON.parse(value as string)
      } catch {
        invalid('a tombstone is JSON')
      }
      if (seen === null || typeof seen !== 'object' || Array.isArray(seen))
        invalid('a tombstone maps counters to "p:n"')
      for (const [counter, pn] of Object.entries(seen as Record<string, unknown>)) {
        const c = counter.split(SEP)
        if (c.length > 2 || c[0] === '' || (c.length === 2 && lifeEpoch(c[1]!) === null))
          invalid('a tombstone names counters')
        if (typeof pn !== 'string' || !/^\d{1,16}:\d{1,16}$/.test(pn))
          invalid('a tombstone maps counters to "p:n"')
      }
      return
    }
    case 'notes': {
      const p = parts(key)
      if (p.length !== 2 || !NOTE_ID.test(p[0]!) || !NOTE_FIELD_NAMES.has(p[1]!))
        invalid(`notes has no key "${key.slice(0, 64)}"`)
      if (value === undefined) return
      const field = p[1]!
      if (field === 'title') {
        if (!isString(value, LIMITS.title)) invalid(`a title is at most ${LIMITS.title} characters`)
      } else if (field === 'createdBy') {
        if (!isString(value, LIMITS.who)) invalid('createdBy names a replica')
      } else if (field === 'trashedAt' || field === 'pinnedAt') {
        if (!(value === null || isTime(value))) invalid(`${field} is null or a time`)
      } else if (!isTime(value)) invalid(`notes.${field} is a time`)
      return
    }
  }
}

/** Whether a body root name names a note (`body:<noteId>`, BAD-7). */
export const isBodyOfNote = (noteId: string): boolean => NOTE_ID.test(noteId)
