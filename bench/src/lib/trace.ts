/** The editing traces in bench/data (josephg/editing-traces format; attribution in bench/data/SOURCES.md). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { DATA_DIR } from './paths.js'

export type Patch = [pos: number, del: number, ins: string]
export interface Trace {
  readonly startContent: string
  readonly endContent: string
  readonly patches: Patch[]
}

const cache = new Map<string, Trace>()

/** All patches of a sequential trace, in order (one per keystroke for automerge-paper). */
export function loadTrace(name = 'automerge-paper'): Trace {
  const hit = cache.get(name)
  if (hit) return hit
  const raw = JSON.parse(gunzipSync(readFileSync(join(DATA_DIR, `${name}.json.gz`))).toString('utf8')) as {
    startContent: string
    endContent: string
    txns: { patches: Patch[] }[]
  }
  const patches: Patch[] = []
  for (const t of raw.txns) for (const p of t.patches) patches.push(p)
  const trace = { startContent: raw.startContent, endContent: raw.endContent, patches }
  cache.set(name, trace)
  return trace
}

/** The characters the trace inserts, in order (what the fan-out writers type). */
export function insertedText(trace: Trace): string {
  let s = ''
  for (const [, , ins] of trace.patches) s += ins
  return s
}
