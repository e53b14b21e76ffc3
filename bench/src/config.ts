import type { ServerKind } from './lib/servers.js'

export type SectionId =
  'fanout' | 'memory' | 'join' | 'idb' | 'engines' | 'firstvisit' | 'listrender' | 'automerge'
export const SECTIONS: readonly SectionId[] = [
  'fanout',
  'memory',
  'join',
  'idb',
  'engines',
  'firstvisit',
  'listrender',
  'automerge',
]

export interface Config {
  readonly quick: boolean
  /** scratch folder of this run: logs, server data */
  readonly runDir: string
  readonly servers: readonly ServerKind[]
  readonly sections: readonly SectionId[]
}
