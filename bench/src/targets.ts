/**
 * The performance targets (the performance issue's thresholds), each evaluated on the figures of the
 * same run. Where one is missed, `bound` says what the profile showed bounds it (kept here, next to the
 * target, so BENCHMARKS.md carries it).
 */
import { type Results, type Row, fmt } from './lib/results.js'
import { LIST_RENDER, LIST_SUBJECT, PLUS_DOM, PLUS_P95, PLUS_WORK_P95 } from './sections/list-render.js'

export interface Evaluation {
  readonly measured: string
  readonly met: boolean | undefined
  readonly reason: string
}
export interface Target {
  readonly name: string
  readonly threshold: string
  evaluate(r: Results): Evaluation
}

const F = '1 fan-out'
const ratio = (a: number, b: number): number => a / b

/** The better (lower or higher) figure of a peer's two configurations. */
function best(r: Results, s: string, metric: string, kinds: string[], lower: boolean): number {
  const v = kinds.map((k) => r.get(s, metric, k)).filter((x) => Number.isFinite(x))
  if (v.length === 0) return NaN
  return lower ? Math.min(...v) : Math.max(...v)
}

function compare(
  r: Results,
  s: string,
  metric: string,
  peers: string[],
  lower: boolean,
  limit: number,
  bound: string,
): Evaluation {
  const ours = r.get(s, metric, 'converge')
  const peer = best(r, s, metric, peers, lower)
  if (!Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0)
    return { measured: `${fmt(ours)} vs ${fmt(peer)}`, met: undefined, reason: '' }
  const x = ratio(ours, peer)
  const met = lower ? x <= limit : x >= limit
  return { measured: `${fmt(ours)} vs ${fmt(peer)} → ${x.toFixed(2)}×`, met, reason: bound }
}

const CLASSIC = ['yws', 'yws-leveldb']
const HOCUS = ['hocuspocus', 'hocuspocus-sqlite']

const FANOUT_BOUND =
  'measured (V8 CPU profile of the server through shapes a–d and the ramp): a third of the process is busy, and half of that is the socket writes (writev: on loopback the kernel does the receiver’s TCP work in the sender’s call), one per member per turn as for the peers; then merging a turn’s updates (Y.mergeUpdates, 4%), applying each update (validate and integrate, 2.5%), the SQLite commit hand-off (postMessage to its thread, 1.6%) and the durable acks. The latency percentiles are those of a 2-core machine shared with two load-generator processes receiving up to 150,000 frames/s: a server cannot be half as slow as another when both wait for the same two cores. Holding a busy room’s next batch for as long as its sends took (tried) cut CPU per delivered update by 30% in (b) and raised p50 by 2 ms: not kept. The classic server and Hocuspocus send each update as it comes without validating or storing it; with their persistence on they write asynchronously (LevelDB, debounced SQLite) without confirming durability to anyone. In shape (c) (profiled alone: the main thread busy 39% of the time, the socket writes a quarter of that) each keystroke costs five socket writes — two relays and three durable acks (the writer’s at once, the two readers’ within 100 ms, ACK-3) — where the classic server makes two. What would remove the CPU gap: fewer sends and hand-offs per update — the periodic ack only to members that wrote, which needs a client whose “saved” counts only its own changes (today it waits until the ack covers everything its document holds, relayed changes too, so a reader needs the periodic ack; a protocol rule change, P4.1) — a writer now gets two frames a turn (the others’ updates and its durable ack) where one message could carry both (a protocol version), and the commit reaches the SQLite thread by postMessage where a shared ring buffer would not copy; the validation and the durable commit stay (a valid token does not make an update valid). What would settle the p99 comparison: load generators on other cores than the server’s, which this 2-core machine does not have'

const RAMP_BOUND =
  'the server’s main thread (its CPU at the first rate that failed is in the fan-out table; the busiest load-generator process uses under half a core at every step): per incoming update Converge validates and applies it, hands it to the SQLite thread and acknowledges it durably, where the peers relay it as it comes; the relay joins a turn’s updates by copying their blocks (RELAY-5). Before one writer’s consecutive updates were joined that way too, a backlogged turn went to Y.mergeUpdates, which a profile of the ramp past 7,785/s put at 80% of the server: each slow turn made the next longer and the room stopped delivering'

const MEMORY_BOUND =
  'the process baseline: Converge runs as shipped, `node dist/main.mjs` (a bundle), yet pino, prom-client (with its default process metrics), zod, jose and ws are loaded before any space (the PostgreSQL and Redis drivers only when configured: 94 → 82 MB at start), and the SQLite append thread is a second V8 isolate (about 10 MB); the per-space cost is the difference between the rows (about 92 KB of RSS a space against the classic server’s 69). A heap snapshot at start and with the 1,000 small spaces open puts the live JS heap’s growth at 38 KB a space: most of it the space’s Y.Doc (its 40 items with their ids and contents, strings, arrays, maps), which the classic server holds too, and the socket (ws, net); Converge’s own objects per space — connection, room, commit pipeline, three token buckets, clock ranges, durable acks, presence, relay, fan-out link, budgets, a timer and their closures — about 3 KB. The other ~54 KB a space of RSS is not live heap: V8’s heap grown ahead of use and native buffers, which this snapshot does not attribute. What would remove it: prom-client without its default metrics until /metrics is first read, the SQLite appends without a second isolate (a libuv work queue through a native binding, or the main thread with the commit batched per turn), and the room’s caches dropped when a space goes quiet'

const V = '6 first visit'
const APP = 'Converge web app'
/** A figure of section 6 against a ceiling. */
function ceiling(metric: string, unit: string, limit: number, bound: string): Target['evaluate'] {
  return (r) => {
    const v = r.get(V, metric, APP)
    if (!Number.isFinite(v)) return { measured: 'n/a', met: undefined, reason: '' }
    return { measured: `${fmt(v)} ${unit}`, met: v <= limit, reason: bound }
  }
}

const SHAPE_IDS = ['a', 'b', 'c', 'd'] as const
const SHAPE_NAMES: Record<(typeof SHAPE_IDS)[number], string> = {
  a: '(a) 1 space × 50',
  b: '(b) 1 space × 500',
  c: '(c) 500 spaces × 3',
  d: '(d) 20 spaces × 10 at 5 Hz',
}

/** Fan-out p99 vs Hocuspocus and CPU per delivered update vs the classic server, for every shape. */
const fanoutTargets: Target[] = SHAPE_IDS.flatMap((id) => [
  {
    name: `fan-out p99, shape ${SHAPE_NAMES[id]}, vs Hocuspocus`,
    threshold: '≤ 0.5×',
    evaluate: (r: Results) => compare(r, F, `(${id}) latency p99`, HOCUS, true, 0.5, FANOUT_BOUND),
  },
  {
    name: `server CPU per 1,000 delivered updates, shape ${SHAPE_NAMES[id]}, vs the classic server`,
    threshold: '≤ 0.5×',
    evaluate: (r: Results) =>
      compare(r, F, `(${id}) server CPU per 1,000 delivered`, CLASSIC, true, 0.5, FANOUT_BOUND),
  },
])

const ENGINE_BOUND: Record<string, string> = {
  time: 'on Yjs, Yjs’s own transaction (integrating, encoding the update, cleanup) is most of each keystroke for both; around it packages/merge runs a command: the surrogate-pair check and the undo step (an anchor and the insertion’s id), found from the last position looked up since the position cache per note (they walked the body from its start: 40× raw on B4 before it), the note’s updatedAt (once a minute when typing; on every deletion, so that a deletion moves the replica’s clock for the durable ack) and the change event. On Automerge: the same command around each change, and typing backwards (B1.3) builds each keystroke as a change placed before the run’s first character and applies it (insertBackwards → applyChanges, NOTE-2), which Automerge 3.5 does in time linear in the note — a CPU profile of 3,000 prepends puts 12.7 of 18.3 s in its applyChanges. B6 is Automerge’s own apply, linear in the note (raw applyChanges is as slow); on Yjs, B6 (a peer’s keystroke applied, 0.09 ms each) is the check every update from a peer gets before Yjs applies it (BAD-1…7: decoded once more, each struct’s place and each guarded key looked up); the cart (2.2×) is each command’s own bookkeeping around a one-line write since CART-13 (it was 5.4×: every line rebuilt per command). What would remove the rest: on Yjs, checking a peer’s update while Yjs integrates it (one decode) instead of before; on Automerge, a text insert that Automerge applies in place before the run’s first character (NOTE-2 needs it placed there), which Automerge 3.5’s API does not offer',
  'document size':
    'on Yjs, the metadata packages/merge keeps beside the text and the cart (the item and note maps, updatedAt). On Automerge the whole state of a space (`encodeStateAsUpdate()`) is the list of its changes, each a change chunk as Automerge encodes one, so that a receiver can check every change before applying any (BAD-1…6); raw Automerge’s `save()` is the compressed columnar document, where a run of keystrokes costs a few bytes. What would remove it: storing and sending the saved document with a load that checks a saved document’s changes the same way (the Automerge end-to-end issue)',
  'cold load (fresh process)':
    'a fresh process loads the document and opens it through packages/merge (the space’s roots, the cart’s items and notes read once, the Automerge document’s change history replayed). What would remove it on Automerge: loading a saved document (above) instead of replaying changes; on Yjs: reading the cart’s items lazily, when the first query asks',
}

/** packages/merge ÷ raw library, per engine and metric: the issue's limits (also the charts' dashed lines). */
export const ENGINE_LIMITS = [
  ['yjs', 'time', 1.1],
  ['yjs', 'document size', 1.25],
  ['yjs', 'cold load (fresh process)', 1.5],
  ['automerge', 'time', 1.5],
  ['automerge', 'document size', 2],
] as const

/** packages/merge ÷ the raw library on the same engine, in one row of the engine table (NaN: not measured). */
export const mergeRatio = (row: Row | undefined, engine: 'yjs' | 'automerge'): number =>
  (row?.values[`merge/${engine}`] ?? NaN) / (row?.values[`raw ${engine}`] ?? NaN)

/** The worst merge ÷ raw ratio of one metric over the engine benchmarks of one engine. */
function worstOfEngines(r: Results, engine: 'yjs' | 'automerge', metric: string, limit: number): Evaluation {
  let worst = 0
  let where = ''
  for (const row of r.rows.filter((x) => x.section === '5 engines' && x.metric.endsWith(`: ${metric}`))) {
    const x = mergeRatio(row, engine)
    if (Number.isFinite(x) && x > worst) {
      worst = x
      where = row.metric.replace(`: ${metric}`, '')
    }
  }
  if (!where) return { measured: 'n/a', met: undefined, reason: '' }
  return {
    measured: `worst ${worst.toFixed(2)}× (${where})`,
    met: worst <= limit,
    reason: ENGINE_BOUND[metric] ?? '',
  }
}

export const TARGETS: Target[] = [
  ...fanoutTargets,
  {
    name: 'fan-out p99, shape (b), vs the classic server',
    threshold: '≤ 0.25×',
    evaluate: (r) => compare(r, F, '(b) latency p99', CLASSIC, true, 0.25, FANOUT_BOUND),
  },
  {
    name: 'highest sustained rate (ramp), vs the classic server',
    threshold: '≥ 2×',
    evaluate: (r) =>
      compare(r, F, 'ramp: highest rate, p99 < 50 ms, no drop (a)', CLASSIC, false, 2, FANOUT_BOUND),
  },
  {
    name: 'highest sustained rate (ramp), vs Hocuspocus',
    threshold: '≥ 1.2×',
    evaluate: (r) =>
      compare(r, F, 'ramp: highest rate, p99 < 50 ms, no drop (a)', HOCUS, false, 1.2, RAMP_BOUND),
  },
  {
    name: 'RSS at start, vs the classic server',
    threshold: '≤ 0.75×',
    evaluate: (r) => compare(r, '2 memory', 'RSS at start', CLASSIC, true, 0.75, MEMORY_BOUND),
  },
  {
    name: 'RSS with the small spaces open, vs the classic server',
    threshold: '≤ 0.75×',
    evaluate: (r) => {
      const row = r.rows.find((x) => x.section === '2 memory' && /small spaces open/.test(x.metric))
      return compare(r, '2 memory', row?.metric ?? '', CLASSIC, true, 0.75, MEMORY_BOUND)
    },
  },
  {
    name: 'join time (cold from storage, vs classic with LevelDB)',
    threshold: '≤ 0.75×',
    evaluate: (r) =>
      compare(
        r,
        '3 join',
        'cold (from storage): time to synced',
        ['yws-leveldb'],
        true,
        0.75,
        'loading: server-core room.ts load() applies the snapshot and every logged update with Y.applyUpdate one by one on a freshly started (JIT-cold) process',
      ),
  },
  {
    name: 'join time (warm), vs the classic server',
    threshold: '≤ 1.0×',
    evaluate: (r) =>
      compare(
        r,
        '3 join',
        'warm: time to synced',
        CLASSIC,
        true,
        1,
        'not found to the end: the server computes the same diff as the peers (Y.encodeStateAsUpdate of the room’s document) and its profile during joins is Yjs encoding; the remaining ~25–30 ms per join (of a 616 KB diff) is probably the lib0 framing copy and the hello/durable-ack exchange a Converge client adds — not confirmed',
      ),
  },
  {
    name: 'IndexedDB cold open after the most edits, vs y-indexeddb',
    threshold: '≤ 0.5×',
    evaluate: (r) => {
      const row = [...r.rows]
        .reverse()
        .find((x) => x.section === '4 client storage' && /^cold open/.test(x.metric))
      const ours = row?.values.IdbStore ?? NaN
      const peer = row?.values['y-indexeddb'] ?? NaN
      if (!Number.isFinite(ours) || !Number.isFinite(peer))
        return { measured: 'n/a', met: undefined, reason: '' }
      return {
        measured: `${row!.metric}: ${fmt(ours)} vs ${fmt(peer)} ms → ${(ours / peer).toFixed(2)}×`,
        met: ours / peer <= 0.5,
        reason:
          'both stores now integrate the same document: since STORE-20 IdbStore’s snapshot is the document as Yjs encodes it (runs merged, deleted text collected), as y-indexeddb’s is. In a fresh page most of the open is Yjs integrating ~300 KB of it before the JIT has warmed up; IdbStore adds the check of each record (records.ts checkUpdate decodes it, so that a corrupt one is skipped and reported; ~15 ms of ~110 ms measured in the page) and y-indexeddb its longer log. Half of y-indexeddb’s time would need not applying the document at all on open: what would remove it is a view of the space (the cart and note titles as JSON, written with each compaction) that the app shows at once while the document integrates behind it, or integrating in a worker',
      }
    },
  },
  {
    name: 'IndexedDB storage growth after 10 reopens (IdbStore)',
    threshold: '0 bytes',
    evaluate: (r) => {
      const v = r.get('4 client storage', 'storage growth after 10 reopens, no edit', 'IdbStore')
      if (!Number.isFinite(v)) return { measured: 'n/a', met: undefined, reason: '' }
      return { measured: `${fmt(v)} KB`, met: v === 0, reason: 'a reopen wrote data' }
    },
  },
  {
    name: 'IndexedDB keystroke → durable p99 (IdbStore)',
    threshold: '≤ 2 ms',
    evaluate: (r) => {
      const v = r.get('4 client storage', 'keystroke → durable p99', 'IdbStore')
      if (!Number.isFinite(v)) return { measured: 'n/a', met: undefined, reason: '' }
      return {
        measured: `${fmt(v)} ms`,
        met: v <= 2,
        reason:
          'the keystrokes that land behind a compaction (one in 200): its readwrite transaction (the snapshot put and one range delete) commits before their append, and the document it builds runs on the same thread; y-indexeddb pays the same for its trim every 500. What would remove it: building the compaction’s document in a worker (or in idle time), so that an append never waits behind it',
      }
    },
  },
  {
    name: 'IndexedDB bytes written per keystroke, vs y-indexeddb',
    threshold: '≤ 2×',
    evaluate: (r) => {
      const metric = 'bytes written per keystroke (typed one by one)'
      const ours = r.get('4 client storage', metric, 'IdbStore')
      const peer = r.get('4 client storage', metric, 'y-indexeddb')
      if (!Number.isFinite(ours) || !Number.isFinite(peer))
        return { measured: 'n/a', met: undefined, reason: '' }
      return {
        measured: `${fmt(ours)} vs ${fmt(peer)} bytes → ${(ours / peer).toFixed(2)}×`,
        met: ours / peer <= 2,
        reason:
          'each log record carries its space id (the index every read and compaction uses) and the change’s client id and clock (what counts it as pending until the server confirms it), where y-indexeddb stores the bare update; the rest is the snapshot rewritten every 200 writes. What would remove it: the space id only in the key (not again in the value) and the client id once per run of one client’s records instead of in each',
      }
    },
  },
  ...ENGINE_LIMITS.map(([engine, metric, limit]): Target => ({
    name: `packages/merge vs raw ${engine === 'yjs' ? 'Yjs' : 'Automerge'}, every engine benchmark (${metric})`,
    threshold: `≤ ${limit}×`,
    evaluate: (r) => worstOfEngines(r, engine, metric, limit),
  })),
  {
    name: 'first visit: bytes sent, service worker precache included (10 Mbps / 40 ms)',
    threshold: '≤ 1,000 KB',
    evaluate: ceiling(
      'first visit: bytes sent by the server (incl. precache)',
      'KB',
      1000,
      'the app shell itself: React, CodeMirror and Yjs, brotli-compressed',
    ),
  },
  {
    name: 'first visit: time to interactive (10 Mbps / 40 ms)',
    threshold: '≤ 1,500 ms',
    evaluate: ceiling(
      'first visit: time to interactive',
      'ms',
      1500,
      'the shell’s scripts download in parallel; what remains is their bytes at 10 Mbps and parsing',
    ),
  },
  {
    name: 'repeat visit: time to interactive (10 Mbps / 40 ms)',
    threshold: '≤ 500 ms',
    evaluate: ceiling('repeat visit: time to interactive', 'ms', 500, 'parsing and starting the app'),
  },
  {
    name: '+1 renders in one frame (150-item list, item 120; absolute, no peer)',
    threshold: 'work ≤ 16.7 ms p95',
    evaluate: (r) => {
      const work = r.get(LIST_RENDER, PLUS_WORK_P95, LIST_SUBJECT)
      const painted = r.get(LIST_RENDER, PLUS_P95, LIST_SUBJECT)
      const dom = r.get(LIST_RENDER, PLUS_DOM, LIST_SUBJECT)
      if (!Number.isFinite(work)) return { measured: 'n/a', met: undefined, reason: '' }
      return {
        measured: `${fmt(work)} ms (script ${fmt(dom)} ms median; click → painted ${fmt(painted)} ms p95)`,
        met: work <= 16.7,
        reason:
          'the work of the frame is the click’s script (the command on the document, React re-rendering the cart and committing) plus style and layout; click → painted adds the wait for the next frame (up to 16.7 ms at 60 Hz), which no app controls',
      }
    },
  },
]
