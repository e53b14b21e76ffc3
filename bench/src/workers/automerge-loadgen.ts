/**
 * The fan-out load generator for Automerge spaces (forked by sections/automerge.ts), speaking to the
 * parent exactly as workers/loadgen.ts does, so the same measurement joins its sends and receives:
 *
 * - `converge`: Converge's Automerge spaces. Clients speak protocol version 4 with `engine:
 *   automerge` (lib/wire.ts); writers type through packages/merge's `Space` (the app's path: each
 *   keystroke one change into the space's note), readers read the (actor, seq) of each change a
 *   frame carries, without a document. Durable acks are version vectors.
 * - `repo`: automerge-repo 2's sync server. Each client is a `Repo` with automerge-repo's WebSocket
 *   client adapter, holding the document as automerge-repo apps do; writers `handle.change` a splice
 *   of one character, readers read the (actor, seq) of the changes each `change` event brought.
 *   automerge-repo is loaded from bench/peers (not a workspace dependency), with the Automerge it uses.
 *
 * A change's key is `idKey(writer, seq)`, its writer the first 32 bits of its actor.
 */
import * as A from '@automerge/automerge'
import { Origin, type Space, loadEngine, openSpace } from '@converge/merge'
import { decodeList, decodeVersionVector } from '@converge/merge/validate'
import { type RepoHandle, type RepoInstance, loadRepo } from '../lib/automerge-repo.js'
import { Growable } from '../lib/growable.js'
import { type Typist, now, typeAtRate } from '../lib/typing.js'
import { idKey } from '../lib/update-ids.js'
import { SyncClient, openAll } from '../lib/wire.js'
import type { FromWorker } from './loadgen.js'

export type AutomergeMode = 'converge' | 'repo'

export interface AutomergeClientSpec {
  /** the socket's URL (Converge: the space's; automerge-repo: the server's) */
  readonly url: string
  /** Converge: the space id; automerge-repo: the document's URL */
  readonly space: string
  readonly writer: boolean
  readonly probe: boolean
}

export type ToAutomergeWorker =
  | {
      t: 'setup'
      mode: AutomergeMode
      clients: AutomergeClientSpec[]
      /** Converge: the id of the note the writers type into */
      noteId: string
      text: string
      seed: number
    }
  | { t: 'run'; ratePerWriter: number; durationMs: number; graceMs: number }
  | { t: 'exit' }

/** The writer number of an actor: its first 32 bits (what `ready` reports and keys are made of). */
const writerOf = (actor: string): number => parseInt(actor.slice(0, 8), 16)

/* ---- the clients ---- */

interface Writer extends Typist {
  readonly client: number
  readonly space: string
  /** (seq, send time) awaiting a durable ack (Converge) */
  readonly unacked: [number, number][]
}

const send = (m: FromWorker): void => {
  process.send!(m)
}

const sends = new Growable()
const recvs = new Growable()
const acks = new Growable()
let delivered = 0
let text = ''
const writers: Writer[] = []
const closers: (() => Promise<void>)[] = []
let closedCount = (): number => 0

/** Where writer `n` of this process starts in the text: the writers type different parts of it. */
const startOf = (n: number): number => (n * 7919) % Math.max(1, text.length - 10_000)

/** Counts the changes `changes` (decoded) as deliveries to a client, stamping probes. */
function received(own: number, probe: boolean, metas: Iterable<{ actor: string; seq: number }>): void {
  const t = probe ? now() : 0
  for (const m of metas) {
    const w = writerOf(m.actor)
    if (w === own) continue // an echo of our own keystroke is not a delivery
    delivered++
    if (probe) recvs.push2(idKey(w, m.seq), t)
  }
}

function* decodeChanges(update: Uint8Array): Generator<{ actor: string; seq: number }> {
  for (const b of decodeList(update, 'update')) yield A.decodeChange(b)
}

async function setupConverge(m: Extract<ToAutomergeWorker, { t: 'setup' }>): Promise<void> {
  await loadEngine('automerge')
  const spaces = new Map<number, Space>()
  const writerByIndex = new Map<number, Writer>()
  m.clients.forEach((c, i) => {
    if (!c.writer) return
    // the replica id is the actor: its first 32 bits are the writer number
    const number = (m.seed * 1000 + i + 1) >>> 0
    const replicaId = number.toString(16).padStart(8, '0') + (i + 1).toString(16).padStart(8, '0')
    spaces.set(i, openSpace({ engine: 'automerge', spaceId: c.space, replicaId }))
  })
  const clients = await openAll(
    (i) => {
      const spec = m.clients[i]!
      const space = spaces.get(i)
      const own = space ? writerOf(space.replicaId) : -1
      return new SyncClient({
        url: spec.url,
        space: spec.space,
        flavour: 'yws',
        hello: true,
        engine: 'automerge',
        onUpdate: (update, step2) => {
          // a writer holds the space as it was when it joined (the note), and then types without
          // merging what others type, as the Yjs load generator's writers do; a reader holds nothing
          if (step2) space?.applyUpdate(update, Origin.Server)
          else received(own, spec.probe, decodeChanges(update))
        },
        onAck: (vector) => {
          const w = writerByIndex.get(i)
          if (!w || w.unacked.length === 0) return
          const acked = decodeVersionVector(vector).get(space!.replicaId) ?? 0
          const t = now()
          let k = 0
          while (k < w.unacked.length && w.unacked[k]![0] <= acked) acks.push(t - w.unacked[k++]![1])
          if (k > 0) w.unacked.splice(0, k)
        },
      })
    },
    m.clients.length,
    25,
  )
  closers.push(...clients.map((c) => () => c.close()))
  closedCount = () => clients.filter((c) => c.closed).length
  for (const [i, space] of spaces) {
    const client = clients[i]!
    const number = writerOf(space.replicaId)
    const w: Writer = {
      client: number,
      space: m.clients[i]!.space,
      pos: startOf(writers.length),
      unacked: [],
      type: (ch) => space.editNote(m.noteId, space.note(m.noteId)?.body.length ?? 0, 0, ch),
    }
    space.onUpdate((update, e) => {
      if (e.origin === Origin.Server) return
      const t = now()
      client.sendUpdate(update)
      for (const c of decodeChanges(update)) {
        sends.push2(idKey(number, c.seq), t)
        w.unacked.push([c.seq, t])
      }
    })
    writers.push(w)
    writerByIndex.set(i, w)
  }
}

async function setupRepo(m: Extract<ToAutomergeWorker, { t: 'setup' }>): Promise<void> {
  const R = await loadRepo()
  const sockets: { repo: RepoInstance; handle: RepoHandle }[] = []
  let next = 0
  // at most 25 finds in flight, as the Converge clients open
  const open = async (): Promise<void> => {
    while (next < m.clients.length) {
      const i = next++
      const spec = m.clients[i]!
      const repo = new R.Repo({ network: [new R.WebSocketClientAdapter(spec.url, 1000)] })
      const handle = await repo.find(spec.space)
      sockets[i] = { repo, handle }
    }
  }
  await Promise.all(Array.from({ length: Math.min(25, m.clients.length) }, open))
  closers.push(...sockets.map((s) => () => s.repo.shutdown()))
  m.clients.forEach((spec, i) => {
    const { handle } = sockets[i]!
    const own = spec.writer ? writerOf(R.A.getActorId(handle.doc())) : -1
    let heads = R.A.getHeads(handle.doc())
    handle.on('change', ({ doc }) => {
      const metas = R.A.getChangesMetaSince(doc, heads)
      heads = R.A.getHeads(doc)
      received(own, spec.probe, metas)
    })
    if (!spec.writer) return
    let seq = 0
    writers.push({
      client: own,
      space: spec.space,
      pos: startOf(writers.length),
      unacked: [],
      type: (ch) => {
        handle.change((d) => R.A.splice(d, ['text'], d.text.length, 0, ch))
        sends.push2(idKey(own, ++seq), now())
      },
    })
  })
}

async function run(m: Extract<ToAutomergeWorker, { t: 'run' }>): Promise<void> {
  delivered = 0
  const cores = await typeAtRate(writers, text, m.ratePerWriter, m.durationMs)
  await new Promise((r) => setTimeout(r, m.graceMs))
  for (const w of writers) w.unacked.length = 0
  send({
    t: 'done',
    sends: sends.take(),
    recvs: recvs.take(),
    acks: acks.take(),
    delivered,
    closed: closedCount(),
    cores,
  })
}

process.on('message', (m: ToAutomergeWorker) => {
  const fail = (e: unknown): void =>
    send({ t: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  if (m.t === 'setup') {
    text = m.text
    ;(m.mode === 'converge' ? setupConverge(m) : setupRepo(m))
      .then(() => send({ t: 'ready', writers: writers.map((w) => ({ client: w.client, space: w.space })) }))
      .catch(fail)
  } else if (m.t === 'run') run(m).catch(fail)
  else void Promise.all(closers.map((c) => c().catch(() => {}))).finally(() => process.exit(0))
})
