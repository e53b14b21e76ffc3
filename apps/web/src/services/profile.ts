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

const valid = (v: unknown): v is Profile => {
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
    this.state = valid(stored)
      ? { profile: { name: stored.name.trim().slice(0, 40), color: stored.color }, chosen: true }
      : { profile: ProfileStore.suggestion(), chosen: false }
  }

  static suggestion(): Profile {
    const n = crypto.getRandomValues(new Uint16Array(1))[0] ?? 0
    return {
      name: `Guest ${(n % 900) + 100}`,
      color: PROFILE_COLORS[n % PROFILE_COLORS.length]?.value ?? '#4f46e5',
    }
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  readonly getSnapshot = (): ProfileState => this.state

  set(profile: Profile): void {
    const clean = { name: profile.name.trim().slice(0, 40) || this.state.profile.name, color: profile.color }
    this.state = { profile: clean, chosen: true }
    try {
      this.storage?.setItem(KEY, JSON.stringify(clean))
    } catch {
      /* private mode: kept for this tab */
    }
    for (const l of this.listeners) l()
  }
}
