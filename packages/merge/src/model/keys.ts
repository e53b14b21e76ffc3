import { MergeError } from '../errors.js'

/** Separator between the parts of a flat map key. A control character no user input keeps (see normaliseName). */
export const SEP = '\u001f'

export const joinKey = (a: string, b: string): string => `${a}${SEP}${b}`

export const splitKey = (key: string): [string, string] | null => {
  const i = key.indexOf(SEP)
  return i < 0 ? null : [key.slice(0, i), key.slice(i + 1)]
}

/**
 * CART-1: an item is identified by its normalised name: Unicode NFKC, control characters dropped,
 * whitespace collapsed to one space, trimmed, case-folded.
 */
export const normaliseName = (name: string): string => {
  const key = name
    .normalize('NFKC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/gu, ' ')
    .trim()
    .toLowerCase()
  if (key === '') throw new MergeError('InvalidArgument', 'an item name must contain a visible character')
  return key
}

/** A replica id: 16 lower-case hex digits (valid as an Automerge actor id too). */
export const isReplicaId = (id: string): boolean => /^[0-9a-f]{16}$/.test(id)

export const randomReplicaId = (random: () => number = Math.random): string => {
  let id = ''
  for (let i = 0; i < 16; i++) id += Math.floor(random() * 16).toString(16)
  return id
}

export const randomId = (random: () => number = Math.random): string => {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz'
  let id = ''
  for (let i = 0; i < 12; i++) id += alphabet[Math.floor(random() * alphabet.length)]
  return id
}
