import { describe, expect, it } from 'vitest'
import {
  APP_VERSION,
  connectionText,
  formatAge,
  formatBytes,
  formatDuration,
  isInspectorShortcut,
  vectorRows,
} from './inspector.js'

const key = (
  key: string,
  mods: Partial<Record<'alt' | 'shift' | 'ctrl' | 'meta', boolean>>,
  code?: string,
) => ({
  key,
  code,
  altKey: !!mods.alt,
  shiftKey: !!mods.shift,
  ctrlKey: !!mods.ctrl,
  metaKey: !!mods.meta,
})

describe('the sync inspector', () => {
  it('[WEB-INSPECT-1] Alt+Shift+I opens it, on a Mac too; nothing else does', () => {
    expect(isInspectorShortcut(key('I', { alt: true, shift: true }, 'KeyI'))).toBe(true)
    expect(isInspectorShortcut(key('ˆ', { alt: true, shift: true }, 'KeyI'))).toBe(true) // macOS Option
    expect(isInspectorShortcut(key('i', { alt: true, shift: true }))).toBe(true)
    expect(isInspectorShortcut(key('I', { shift: true }, 'KeyI'))).toBe(false)
    expect(isInspectorShortcut(key('I', { alt: true, shift: true, ctrl: true }, 'KeyI'))).toBe(false)
    expect(isInspectorShortcut(key('I', { alt: true, shift: true, meta: true }, 'KeyI'))).toBe(false)
    expect(isInspectorShortcut(key('K', { alt: true, shift: true }, 'KeyK'))).toBe(false)
  })

  it('[WEB-INSPECT-2] durations, ages and sizes read as a person says them', () => {
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(0)).toBe('0 ms')
    expect(formatDuration(42.4)).toBe('42 ms')
    expect(formatDuration(12_345)).toBe('12.3 s')
    expect(formatDuration(125_000)).toBe('2 min 5 s')
    expect(formatDuration(3 * 3_600_000 + 4 * 60_000)).toBe('3 h 4 min')
    expect(formatDuration(26 * 3_600_000)).toBe('1 d 2 h')
    expect(formatAge(null)).toBe('never')
    expect(formatAge(300)).toBe('just now')
    expect(formatAge(5_000)).toBe('5.0 s ago')
    expect(formatBytes(17)).toBe('17 B')
    expect(formatBytes(4_200)).toBe('4.2 kB')
    expect(connectionText(null)).toBe('waiting for the leader tab')
    expect(
      connectionText({
        state: 'stopped',
        serverVersion: null,
        attempt: 0,
        error: 'Unauthorized',
        online: true,
      }),
    ).toBe('stopped for good — Unauthorized')
  })

  it('[WEB-INSPECT-2] the two vectors side by side, one row per writer of either', () => {
    expect(vectorRows({ '12': 3, '7': 2 }, { '7': 2, '99': 1 })).toEqual([
      { writer: '7', device: 2, server: 2, same: true },
      { writer: '12', device: 3, server: 0, same: false },
      { writer: '99', device: 0, server: 1, same: false },
    ])
    expect(vectorRows({ '7': 2 }, null)).toEqual([{ writer: '7', device: 2, server: null, same: false }])
  })

  it('[WEB-INSPECT-3] the copy names the app’s version', () => {
    expect(APP_VERSION).toMatch(/^\d+\.\d+\.\d+/)
  })
})
