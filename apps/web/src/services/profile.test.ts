import { describe, expect, it } from 'vitest'
import { ProfileStore, fragmentProfile, newPersonId, profileLink } from './profile.js'

/** A Storage over a Map (Node has no localStorage). */
function memoryStorage(init: Record<string, string> = {}): Storage {
  const m = new Map(Object.entries(init))
  return {
    get length() {
      return m.size
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  }
}

describe('profile: one person id per device, and a link that makes another device the same person', () => {
  it('a profile saved before people had ids gets one, kept from then on; a new name keeps the id', () => {
    const storage = memoryStorage({ 'converge.profile': JSON.stringify({ name: 'Ana', color: '#0f766e' }) })
    const first = new ProfileStore(storage).getSnapshot().profile
    expect(first.id).toMatch(/^p-[0-9a-f]{16}$/)
    expect(new ProfileStore(storage).getSnapshot().profile.id).toBe(first.id)
    const store = new ProfileStore(storage)
    store.set({ name: 'Ana B', color: '#b91c1c' })
    expect(store.getSnapshot().profile).toEqual({ id: first.id, name: 'Ana B', color: '#b91c1c' })
    expect(newPersonId()).not.toBe(newPersonId())
  })

  it('the link round-trips the person (non-ASCII names too) and a forged or broken one is ignored', () => {
    const me = { id: 'p-0123456789abcdef', name: 'Zoë 🛒', color: '#4f46e5' }
    const link = profileLink('https://lists.example', me)
    expect(link).toMatch(/^https:\/\/lists\.example\/#me=[A-Za-z0-9_-]+$/)
    expect(fragmentProfile(new URL(link).hash)).toEqual(me)
    const enc = (o: unknown): string =>
      `#me=${btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o))))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '')}`
    for (const bad of [
      enc({ ...me, id: 'Not An Id' }),
      enc({ ...me, color: 'red;}' }),
      enc({ ...me, name: '  ' }),
      enc([1]),
      '#me=%%%',
      '#me=' + 'A'.repeat(3000),
      '#t=token',
      '',
    ])
      expect(fragmentProfile(bad)).toBeNull()
    const store = new ProfileStore(memoryStorage())
    expect(store.getSnapshot().chosen).toBe(false)
    store.adopt(me)
    expect(store.getSnapshot()).toEqual({ profile: me, chosen: true })
  })
})
