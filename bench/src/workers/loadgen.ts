/**
 * A fan-out load generator process (forked by sections/fanout.ts, never in the server's process).
 * Opens its share of the clients, then on `run` makes its writers type at a fixed rate for a fixed
 * time, and reports every send and every timed receive on the machine's monotonic clock
 * (CLOCK_MONOTONIC, the same in every process), so the parent can join them into latencies.
 */
import * as Y from 'yjs'
import type { Flavour } from '../lib/servers.js'
import { idKey, forEachId } from '../lib/update-ids.js'
import { Growable } from '../lib/growable.js'
import { type Typist, now, typeAtRate } from '../lib/typing.js'
import { SyncClient, openAll } from '../lib/wire.js'

export interface ClientSpec {
  readonly url: string
  readonly space: string
  readonly writer: boolean
  /** records receive times (every writer and a sample of readers); all clients count deliveries */
  readonly probe: boolean
}

export type ToWorker =
  | { t: 'setup'; flavour: Flavour; hello: boolean; clients: ClientSpec[]; text: string; seed: number }
  | { t: 'run'; ratePerWriter: number; durationMs: number; graceMs: number }
  | { t: 'exit' }

export type FromWorker =
  | { t: 'ready'; writers: { client: number; space: string }[] }
  | {
      t: 'done'
      /** [key, time ms] pairs */
      sends: Float64Array
      recvs: Float64Array
      /** send → durable ack (Converge), ms */
      acks: Float64Array
      delivered: number
      closed: number
      /** this process's CPU (user + system) while it sent, ÷ that time: 1 is one core, its limit */
      cores: number
    }
  | { t: 'error'; message: string }

interface Writer extends Typist {
  readonly doc: Y.Doc
  readonly text: Y.Text
  readonly client: SyncClient
  readonly clientId: number
  readonly space: string
  clock: number
  /** (clock, send time) awaiting a durable ack */
  readonly unacked: [number, number][]
}

const send = (m: FromWorker): void => {
  process.send!(m)
}

let clients: SyncClient[] = []
const writers: Writer[] = []
const sends = new Growable()
const recvs = new Growable()
const acks = new Growable()
let delivered = 0
let text = ''

async function setup(m: Extract<ToWorker, { t: 'setup' }>): Promise<void> {
  text = m.text
  const ownId = new Map<number, number>() // client index → own writer's Yjs client id
  const writerOf = new Map<number, Writer>()
  m.clients.forEach((c, i) => {
    if (c.writer) ownId.set(i, (m.seed * 1000 + i + 1) >>> 0)
  })
  clients = await openAll(
    (i) => {
      const spec = m.clients[i]!
      const own = ownId.get(i) ?? -1
      const client = new SyncClient({
        url: spec.url,
        space: spec.space,
        flavour: m.flavour,
        hello: m.hello,
        onUpdate: (update, step2) => {
          if (step2) return
          const t = spec.probe ? now() : 0
          forEachId(update, (cl, clock, len) => {
            if (cl === own) return // an echo of our own keystroke is not a delivery
            delivered += len
            if (spec.probe) for (let k = 0; k < len; k++) recvs.push2(idKey(cl, clock + k), t)
          })
        },
        onAck: (sv) => {
          const w = writerOf.get(i)
          if (!w || w.unacked.length === 0) return
          const acked = Y.decodeStateVector(sv).get(w.clientId) ?? 0
          const t = now()
          let k = 0
          while (k < w.unacked.length && w.unacked[k]![0] < acked) acks.push(t - w.unacked[k++]![1])
          if (k > 0) w.unacked.splice(0, k)
        },
      })
      return client
    },
    m.clients.length,
    25,
  )
  m.clients.forEach((c, i) => {
    if (!c.writer) return
    const doc = new Y.Doc()
    doc.clientID = ownId.get(i)!
    const w: Writer = {
      doc,
      text: doc.getText('body:bench'),
      client: clients[i]!,
      clientId: doc.clientID,
      space: c.space,
      clock: 0,
      pos: (i * 7919) % Math.max(1, text.length - 10_000),
      unacked: [],
      type: (ch) => w.text.insert(w.text.length, ch),
    }
    doc.on('update', (u: Uint8Array) => {
      const t = now()
      w.client.sendUpdate(u)
      const clock = w.clock++ // one character per update: the clock advances by one
      sends.push2(idKey(doc.clientID, clock), t)
      if (m.hello) w.unacked.push([clock, t])
    })
    writers.push(w)
    writerOf.set(i, w)
  })
  send({ t: 'ready', writers: writers.map((w) => ({ client: w.clientId, space: w.space })) })
}

async function run(m: Extract<ToWorker, { t: 'run' }>): Promise<void> {
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
    closed: clients.filter((c) => c.closed).length,
    cores,
  })
}

process.on('message', (m: ToWorker) => {
  const fail = (e: unknown): void => send({ t: 'error', message: e instanceof Error ? e.message : String(e) })
  if (m.t === 'setup') setup(m).catch(fail)
  else if (m.t === 'run') run(m).catch(fail)
  else {
    void Promise.all(clients.map((c) => c.close())).finally(() => process.exit(0))
  }
})
