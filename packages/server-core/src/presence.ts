/**
 * Presence a room can trust (SPEC.md PRESENCE-1…6): what one presence (awareness) state may hold,
 * how an awareness update is read into its entries, how the room's states are encoded into an
 * awareness message, and the gate every awareness update passes before anything of it is applied or
 * relayed — from a member (validated, then kept to the ids that member owns) or from another
 * instance (validated again, then kept to the ids no connection here owns). Who owns which id is
 * membership's (`membership.ts`); this file decides what is well formed.
 *
 * A state is `null` (removed) or `{ user?, cursor? }`, nothing else:
 * - `user`: `{ id?: [0-9a-z_-]{1,64}, name: string ≤ 64, color?: #rgb | #rrggbb, colorLight?: #rgb | #rrggbb | #rrggbbaa }`
 *   — y-codemirror.next puts the colours into `style` attributes, so only hex digits pass;
 * - `cursor`: `null` or `{ anchor, head }`, each a position in a note body as the space's engine
 *   writes it: on Yjs a relative position as y-codemirror.next writes it (`{ type, tname, item,
 *   assoc }`, JSON of `Y.RelativePosition`); on Automerge a cursor as `A.getCursor` writes it
 *   (`s`, `e`, or `[-]counter@actor`).
 */
import { Origin } from '@converge/merge/validate'
import { encodeMessage } from '@converge/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { decodeUtf8 } from 'lib0/string'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { CoreEvents } from './events.js'
import { TokenBucket } from './limits.js'
import type { Membership, RoomMember } from './membership.js'
import type { Clock, Logger, SpaceEngine } from './ports.js'

/** Largest presence state, in bytes of its JSON (checked before it is parsed). */
export const PRESENCE_MAX_STATE_BYTES = 1024
/** Presence ids one connection may own: its tab, and the sibling tabs a leader tab carries. */
export const PRESENCE_MAX_IDS_PER_CONNECTION = 8
/** A person's id (the web app's profile id, the key of the space's member record, merge PEOPLE-1). */
const PRESENCE_PERSON_ID = /^[0-9a-z_-]{1,64}$/

/** Longest `user.name`, in UTF-16 code units. */
export const PRESENCE_MAX_NAME_LENGTH = 64
/** Longest `tname` (root type name) of a cursor position. */
export const PRESENCE_MAX_TYPE_NAME_LENGTH = 128
/** Invalid presence updates a connection may send at once before it is closed… */
export const PRESENCE_STRIKE_BURST = 8
/** …and how many more it is allowed per second after that. */
export const PRESENCE_STRIKES_PER_SECOND = 0.2

/** One client id's entry of an awareness update. */
export interface AwarenessEntry {
  readonly clientId: number
  readonly clock: number
  /** The state as sent (JSON); `"null"` for a removal. */
  readonly json: string
  /** The parsed state (null: removed). */
  readonly state: unknown
}

/** A malformed awareness update: it does not decode (the connection closes with MalformedFrame). */
export class MalformedPresence extends Error {
  override readonly name = 'MalformedPresence'
}

/**
 * Reads an awareness update into its entries (`count, (clientId, clock, json)*`, y-protocols'
 * format), checking each string's length against the update's own bytes and each state's size
 * before it is parsed. Throws `MalformedPresence` for bytes that are not an awareness update at all
 * (truncated, a length past the end, bad UTF-8); bytes after the last state are ignored. `problem` is why the first unacceptable state is refused
 * (then the update is refused whole, and `entries` is incomplete), or null.
 */
export function decodeAwarenessUpdate(
  update: Uint8Array,
  engine: SpaceEngine = 'yjs',
): {
  entries: AwarenessEntry[]
  /** How many states the update holds. */
  count: number
  problem: string | null
} {
  const d = decoding.createDecoder(update)
  const entries: AwarenessEntry[] = []
  let problem: string | null = null
  let count: number
  try {
    count = decoding.readVarUint(d)
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(d)
      const clock = decoding.readVarUint(d)
      const length = decoding.readVarUint(d)
      if (length > update.length - d.pos) throw new MalformedPresence('a state runs past the update')
      const bytes = decoding.readUint8Array(d, length)
      if (problem !== null) continue // the update is refused whole: only the framing is still checked
      if (length > PRESENCE_MAX_STATE_BYTES) {
        problem = `a state over ${PRESENCE_MAX_STATE_BYTES} bytes`
        continue
      }
      const json = decodeUtf8(bytes)
      let state: unknown
      try {
        state = JSON.parse(json)
      } catch {
        problem = 'a state that is not JSON'
        continue
      }
      problem = presenceStateProblem(state, engine)
      entries.push({ clientId, clock, json, state })
    }
  } catch (e) {
    if (e instanceof MalformedPresence) throw e
    throw new MalformedPresence('undecodable awareness update')
  }
  // bytes after the last state are ignored, as y-protocols does: the room applies and relays only
  // what it encodes again from the entries
  return { entries, count, problem }
}

/** Encodes entries back into one awareness update (what the room applies: never the bytes as sent). */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(e, entry.clientId)
    encoding.writeVarUint(e, entry.clock)
    encoding.writeVarString(e, entry.json)
  }
  return encoding.toUint8Array(e)
}

/** The awareness message of the states of `ids` (what the room relays when they change). */
export const awarenessFrameOf = (awareness: awarenessProtocol.Awareness, ids: number[]): Uint8Array =>
  encodeMessage({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(awareness, ids) })

/**
 * Every presence state in the room as one awareness message (what a member joining and an instance
 * resyncing are sent), or null when there is none.
 */
export function fullAwarenessFrame(awareness: awarenessProtocol.Awareness): Uint8Array | null {
  const ids = [...awareness.getStates().keys()]
  if (ids.length === 0) return null
  return awarenessFrameOf(awareness, ids)
}

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const has = (o: Obj, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key)
const onlyKeys = (o: Obj, allowed: readonly string[]): boolean =>
  Object.keys(o).every((k) => allowed.includes(k))

/** `#rgb` or `#rrggbb`: nothing but hex digits can reach a style attribute. */
export const PRESENCE_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i
/** `colorLight` also as `#rrggbbaa`: the web app (and y-codemirror.next's default) append an alpha. */
export const PRESENCE_LIGHT_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i

const isUint = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0

/** A Yjs ID as JSON: `{ client, clock }`, both whole numbers. */
const isIdJson = (v: unknown): boolean =>
  isObject(v) && onlyKeys(v, ['client', 'clock']) && isUint(v.client) && isUint(v.clock)

/**
 * A `Y.RelativePosition` as y-codemirror.next writes it (JSON of the class: `type`, `tname`, `item`,
 * `assoc`): well formed, and naming something (Yjs throws on a position with neither item, type nor
 * root name). It must also survive Yjs' own decoding: `createRelativePositionFromJSON`, encoded and
 * decoded again.
 */
export function isRelativePositionJson(v: unknown): boolean {
  if (!isObject(v) || !onlyKeys(v, ['type', 'tname', 'item', 'assoc'])) return false
  const { type = null, tname = null, item = null, assoc = 0 } = v
  if (type !== null && !isIdJson(type)) return false
  if (item !== null && !isIdJson(item)) return false
  if (tname !== null && (typeof tname !== 'string' || tname.length > PRESENCE_MAX_TYPE_NAME_LENGTH))
    return false
  if (!Number.isSafeInteger(assoc)) return false
  if (type === null && tname === null && item === null) return false
  try {
    const rpos = Y.createRelativePositionFromJSON(v)
    Y.decodeRelativePosition(Y.encodeRelativePosition(rpos))
    return true
  } catch {
    return false
  }
}

/** An Automerge text cursor as `A.getCursor` writes it: the start, the end, or an element id (negative: before it). */
const AUTOMERGE_CURSOR = /^(?:s|e|-?[0-9]{1,15}@[0-9a-f]{2,128})$/

export const isAutomergeCursor = (v: unknown): boolean => typeof v === 'string' && AUTOMERGE_CURSOR.test(v)

/** Why a presence state is refused, or null when it is acceptable. Reasons are fixed text, never content. */
export function presenceStateProblem(state: unknown, engine: SpaceEngine = 'yjs'): string | null {
  if (state === null) return null
  if (!isObject(state)) return 'a state that is not an object'
  if (!onlyKeys(state, ['user', 'cursor'])) return 'a state with an unknown field'
  if (has(state, 'user')) {
    const user = state.user
    if (!isObject(user) || !onlyKeys(user, ['id', 'name', 'color', 'colorLight'])) return 'a malformed user'
    if (has(user, 'id') && (typeof user.id !== 'string' || !PRESENCE_PERSON_ID.test(user.id)))
      return 'a person id that is not 1–64 of [0-9a-z_-]'
    if (typeof user.name !== 'string' || user.name.length > PRESENCE_MAX_NAME_LENGTH)
      return 'a user name that is not a string of at most 64 characters'
    if (has(user, 'color') && (typeof user.color !== 'string' || !PRESENCE_COLOR.test(user.color)))
      return 'a colour that is not #rgb or #rrggbb'
    if (
      has(user, 'colorLight') &&
      (typeof user.colorLight !== 'string' || !PRESENCE_LIGHT_COLOR.test(user.colorLight))
    )
      return 'a light colour that is not #rgb, #rrggbb or #rrggbbaa'
  }
  if (has(state, 'cursor') && state.cursor !== null) {
    const cursor = state.cursor
    const isPosition = engine === 'automerge' ? isAutomergeCursor : isRelativePositionJson
    if (
      !isObject(cursor) ||
      !onlyKeys(cursor, ['anchor', 'head']) ||
      !isPosition(cursor.anchor) ||
      !isPosition(cursor.head)
    )
      return 'a malformed cursor'
  }
  return null
}

export interface PresenceGateDeps {
  readonly spaceId: string
  readonly awareness: awarenessProtocol.Awareness
  readonly membership: Membership
  readonly clock: Clock
  readonly logger: Logger
  readonly events: CoreEvents
  /** The space's engine: what a cursor position looks like. */
  readonly engine?: SpaceEngine
}

/** What became of a member's awareness update; `close`: too many invalid ones, close the socket. */
export type PresenceOutcome = 'applied' | 'dropped' | 'close'

/**
 * The gate every awareness update passes before the room applies it (PRESENCE-1…6). The room's
 * awareness then only ever holds well-formed states, each set by the connection (or instance) that
 * owns its id, and y-protocols applies bytes the gate encoded, never the bytes as sent.
 */
export class PresenceGate {
  private readonly strikes = new WeakMap<RoomMember, TokenBucket>()
  /** Members already logged for a refusal (one line per connection and kind of refusal). */
  private readonly loggedRefusal = new WeakSet<RoomMember>()
  private readonly loggedInvalid = new WeakSet<RoomMember>()

  constructor(private readonly deps: PresenceGateDeps) {}

  /**
   * An awareness update from a member. Throws `MalformedPresence` when it does not decode. An
   * invalid state drops the whole update and costs a strike (PRESENCE-4, PRESENCE-5); entries for
   * ids the member does not own are dropped alone (PRESENCE-1, PRESENCE-3).
   */
  fromMember(update: Uint8Array, member: RoomMember): PresenceOutcome {
    const { deps } = this
    const { entries, count, problem } = decodeAwarenessUpdate(update, deps.engine)
    if (problem !== null) {
      deps.events.presenceRefused?.('invalid', count)
      if (!this.loggedInvalid.has(member)) {
        this.loggedInvalid.add(member)
        deps.logger.warn(
          { spaceId: deps.spaceId, conn: member.id },
          `presence refused: ${problem} (further ones from this connection are not logged)`,
        )
      }
      const now = deps.clock.now()
      let bucket = this.strikes.get(member)
      if (!bucket) {
        bucket = new TokenBucket(PRESENCE_STRIKES_PER_SECOND, PRESENCE_STRIKE_BURST, now)
        this.strikes.set(member, bucket)
      }
      return bucket.take(1, now) ? 'dropped' : 'close'
    }
    const { kept, notOwned, tooMany } = deps.membership.admit(member, entries)
    if (notOwned > 0) deps.events.presenceRefused?.('not-owned', notOwned)
    if (tooMany > 0) deps.events.presenceRefused?.('too-many', tooMany)
    if ((notOwned > 0 || tooMany > 0) && !this.loggedRefusal.has(member)) {
      this.loggedRefusal.add(member)
      deps.logger.info(
        { spaceId: deps.spaceId, conn: member.id, notOwned, tooMany },
        'presence refused for ids this connection does not own (further ones are not logged)',
      )
    }
    if (kept.length === 0) return 'dropped'
    awarenessProtocol.applyAwarenessUpdate(deps.awareness, encodeAwarenessEntries(kept), member)
    return kept.length === entries.length ? 'applied' : 'dropped'
  }

  /**
   * An awareness update from another instance (PRESENCE-6). Validated again, since an instance of
   * another version may relay what this one refuses; throws (the fan-out link logs and drops it, as
   * LINK-1 says) when it does not decode or holds an invalid state. Entries for ids a connection
   * here owns are dropped: here, its owner decides.
   */
  fromInstance(update: Uint8Array): void {
    const { deps } = this
    const { entries, count, problem } = decodeAwarenessUpdate(update, deps.engine)
    if (problem !== null) {
      deps.events.presenceRefused?.('fanout-invalid', count)
      throw new MalformedPresence(`presence from another instance refused: ${problem}`)
    }
    const { kept, notOwned } = deps.membership.admitForeign(entries)
    if (notOwned > 0) {
      deps.events.presenceRefused?.('fanout-not-owned', notOwned)
      deps.logger.debug(
        { spaceId: deps.spaceId, states: notOwned },
        'presence from another instance for ids a connection here owns: dropped',
      )
    }
    if (kept.length > 0)
      awarenessProtocol.applyAwarenessUpdate(deps.awareness, encodeAwarenessEntries(kept), Origin.FanOut)
  }
}
