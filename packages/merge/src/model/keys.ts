import { MergeError } from '../errors.js'

/** Separator between the parts of a flat map key. A control character no user input keeps (see normaliseName). */
export const SEP = '\u001f'

export const joinKey = (...parts: string[]): string => parts.join(SEP)

/** Splits a flat key at its first separator: `[item, rest]`. */
export const splitKey = (key: string): [string, string] | null => {
  const i = key.indexOf(SEP)
  return i < 0 ? null : [key.slice(0, i), key.slice(i + 1)]
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu

/**
 * CART-1 / CART-9: an item is identified by its normalised name, computed in this order:
 * 1. Unicode NFKC (the ﬁ ligature is "fi", full-width "ＭＩＬＫ" is "MILK", "Ⅻ" is "XII");
 * 2. default-ignorable code points removed (zero-width space and joiners, soft hyphen, variation
 *    selectors: `\p{Default_Ignorable_Code_Point}`);
 * 3. control characters to spaces, runs of whitespace to one space, trimmed;
 * 4. full case folding, as upper-casing then lower-casing in the root locale ("Straße" and
 *    "STRASSE" are "strasse"; "ΟΔΟΣ", "οδοσ" and "οδος" are "οδος");
 * 5. NFKC again (case mapping can leave a string unnormalised).
 * An empty result is refused with InvalidArgument.
 */
export const normaliseName = (name: string): string => {
  const key = name
    .normalize('NFKC')
    .replace(IGNORABLE, '')
    .replace(CONTROL, ' ')
    .replace(/\s+/gu, ' ')
    .trim()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
  if (key === '') throw new MergeError('InvalidArgument', 'an item name must contain a visible character')
  return key
}

/** A display name: the user's spelling with invisible characters dropped and whitespace collapsed. */
export const displayName = (name: string): string =>
  name.replace(IGNORABLE, '').replace(CONTROL, ' ').replace(/\s+/gu, ' ').trim()

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
