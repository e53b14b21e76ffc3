import type { Profile } from './types.js'

/** Colours that keep white initials readable (WCAG AA on their own background). */
export const PROFILE_COLORS: readonly { readonly name: string; readonly value: string }[] = [
  { name: 'Indigo', value: '#4f46e5' },
  { name: 'Teal', value: '#0f766e' },
  { name: 'Red', value: '#b91c1c' },
  { name: 'Magenta', value: '#a21caf' },
  { name: 'Orange', value: '#c2410c' },
  { name: 'Blue', value: '#1d4ed8' },
  { name: 'Green', value: '#15803d' },
  { name: 'Violet', value: '#7c3aed' },
]

const KEY = 'converge.profile'

export interface ProfileState {
  readonly profile: Profile
  /** false until the person chose a name on this device (the first-run prompt shows) */
  readonly chosen: boolean
}

/** A person id: `p-` and 16 hex digits (1–64 of [0-9a-z_-], as PEOPLE-1 and PRES-4 take). */
export const newPersonId = (): string =>
  `p-${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('')}`

const PERSON_ID = /^[0-9a-z_-]{1,64}$/

const valid = (v: unknown): v is Omit<Profile, 'id'> & { id?: unknown } => {
  const o = v as Partial<Record<keyof Profile, unknown>> | null
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.name === 'string' &&
    o.name.trim() !== '' &&
    typeof o.color === 'string' &&
    /^#[0-9a-f]{6}$/i.test(o.color)
  )
}

/**
 * A link that makes another device the same person: `${origin}/#me=…`, the profile as base64url JSON
 * in the fragment (never sent to the server). It names a person, it grants nothing: presence and
 * member records are what people say about themselves (sync-client PRES-4).
 */
export function profileLink(origin: string, p: Profile): string {
  const json = JSON.stringify({ id: p.id, name: p.name, color: p.color })
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(json)))
  return `${origin}/#me=${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`
}

/** The profile in a location fragment such as `#me=…`, if it is a well-formed one. */
export function fragmentProfile(hash: string): Profile | null {
  if (!hash.startsWith('#')) return null
  const me = new URLSearchParams(hash.slice(1)).get('me')
  if (!me || me.length > 2000) return null
  try {
    const bin = atob(me.replace(/-/g, '+').replace(/_/g, '/'))
    const o: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))),
    )
    if (!valid(o) || typeof o.id !== 'string' || !PERSON_ID.test(o.id)) return null
    return { id: o.id, name: o.name.trim().slice(0, 40), color: o.color }
  } catch {
    return null
  }
}

/** A light version of a colour for remote selections in the editor (y-codemirror reads `colorLight`). */
export const lightColor = (color: string): string => `${color}33`

/** Initials for an avatar: up to two letters. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean)
  const first = [...(words[0] ?? '?')][0] ?? '?'
  const second = words.length > 1 ? ([...(words[words.length - 1] ?? '')][0] ?? '') : ''
  return (first + second).toUpperCase()
}

/** The name and colour of this device's person, kept in localStorage (memory only if that fails). */
export class ProfileStore {
  private state: ProfileState
  private readonly listeners = new Set<() => void>()

  constructor(private readonly storage: Storage | null) {
    let stored: unknown
    try {
      const raw = storage?.getItem(KEY)
      stored = raw ? JSON.parse(raw) : null
    } catch {
      stored = null // unreadable: ask again
    }
    if (valid(stored)) {
      // a profile saved before people had ids gets one now, kept from then on
      const id = typeof stored.id === 'string' && PERSON_ID.test(stored.id) ? stored.id : newPersonId()
      this.state = {
        profile: { id, name: stored.name.trim().slice(0, 40), color: stored.color },
        chosen: true,
      }
      if (id !== stored.id) this.save(this.state.profile)
    } else this.state = { profile: ProfileStore.suggestion(), chosen: false }
  }

  static suggestion(): Profile {
    const n = crypto.getRandomValues(new Uint16Array(1))[0] ?? 0
    return {
      id: newPersonId(),
      name: `Guest ${(n % 900) + 100}`,
      color: PROFILE_COLORS[n % PROFILE_COLORS.length]?.value ?? '#4f46e5',
    }
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  readonly getSnapshot = (): ProfileState => this.state

  /** A new name or colour; the id stays. */
  set(profile: Pick<Profile, 'name' | 'color'>): void {
    const clean: Profile = {
      id: this.state.profile.id,
      name: profile.name.trim().slice(0, 40) || this.state.profile.name,
      color: profile.color,
    }
    this.state = { profile: clean, chosen: true }
    this.save(clean)
    for (const l of this.listeners) l()
  }

  /** Becomes the person of a profile link (`fragmentProfile`): their id, name and colour on this device. */
  adopt(profile: Profile): void {
    this.state = { profile, chosen: true }
    this.save(profile)
    for (const l of this.listeners) l()
  }

  private save(profile: Profile): void {
    try {
      this.storage?.setItem(KEY, JSON.stringify(profile))
    } catch {
      /* private mode: kept for this tab */
    }
  }
}
