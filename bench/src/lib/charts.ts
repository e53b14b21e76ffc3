/**
 * SVG charts beside BENCHMARKS.md's tables, where a reader would rather look than read: the ramp
 * (p99 latency against offered rate, one line per server) and the engine ratios (packages/merge ÷ the
 * raw library, per workload and engine). d3-scale computes the scales and their ticks, d3-shape the
 * lines; the SVG itself is plain text, so a chart is a reviewable file in the repository.
 */
import { scaleLog } from 'd3-scale'
import { line } from 'd3-shape'

/** A point of a line: x, y, and whether the step held (a failed one is drawn as a cross). */
export interface LinePoint {
  readonly x: number
  readonly y: number
  readonly ok: boolean
}
export interface LineSeries {
  readonly name: string
  readonly points: readonly LinePoint[]
  /** drawn thicker, first in the legend */
  readonly highlight?: boolean
}

const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#57606a']
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function n(v: number): string {
  return (Math.round(v * 10) / 10).toString()
}

/** Tick labels: 1, 2, 5 × 10^k, short (1k, 10k). */
function tickLabel(v: number): string {
  if (v >= 1000) return `${v / 1000}k`
  return String(Number(v.toPrecision(3)))
}

function svg(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}

/** Log-log line chart (the ramp): x and y on log scales, an optional horizontal limit line. */
export function lineChart(o: {
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly series: readonly LineSeries[]
  readonly limit?: { readonly y: number; readonly label: string }
}): string {
  const W = 860
  const H = 420
  const m = { left: 64, right: 260, top: 40, bottom: 52 }
  const pts = o.series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0)
  const xs = pts.map((p) => p.x)
  const ys = [...pts.map((p) => p.y), ...(o.limit ? [o.limit.y] : [])]
  const x = scaleLog()
    .domain([Math.min(...xs) * 0.8, Math.max(...xs) * 1.25])
    .range([m.left, W - m.right])
    .nice()
  const y = scaleLog()
    .domain([Math.min(...ys) * 0.8, Math.max(...ys) * 1.3])
    .range([H - m.bottom, m.top])
    .nice()
  const body: string[] = [
    `<text x="${m.left}" y="22" font-size="14" font-weight="600">${esc(o.title)}</text>`,
  ]
  // grid and ticks: only 1, 2, 5 × 10^k are labelled, so log axes stay readable
  const major = (v: number): boolean =>
    [1, 2, 5].includes(Number((v / 10 ** Math.floor(Math.log10(v))).toPrecision(1)))
  for (const t of x.ticks().filter(major)) {
    const px = n(x(t))
    body.push(
      `<line x1="${px}" x2="${px}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eaeef2"/>`,
      `<text x="${px}" y="${H - m.bottom + 16}" text-anchor="middle" fill="#57606a">${tickLabel(t)}</text>`,
    )
  }
  for (const t of y.ticks().filter(major)) {
    const py = n(y(t))
    body.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${py}" y2="${py}" stroke="#eaeef2"/>`,
      `<text x="${m.left - 6}" y="${py}" dy="4" text-anchor="end" fill="#57606a">${tickLabel(t)}</text>`,
    )
  }
  body.push(
    `<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#8c959f"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  )
  if (o.limit) {
    const py = n(y(o.limit.y))
    body.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${py}" y2="${py}" stroke="#57606a" stroke-dasharray="6 4"/>`,
      `<text x="${m.left + 6}" y="${py}" dy="-5" fill="#57606a">${esc(o.limit.label)}</text>`,
    )
  }
  const ordered = [...o.series].sort((a, b) => Number(!!b.highlight) - Number(!!a.highlight))
  ordered.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!
    const width = s.highlight ? 3 : 1.5
    const p = s.points.filter((q) => q.x > 0 && q.y > 0)
    const path = line<LinePoint>()
      .x((q) => x(q.x))
      .y((q) => y(q.y))(p)
    if (path)
      body.push(
        `<path d="${path}" fill="none" stroke="${colour}" stroke-width="${width}" stroke-linejoin="round"/>`,
      )
    for (const q of p) {
      const cx = x(q.x)
      const cy = y(q.y)
      body.push(
        q.ok
          ? `<circle cx="${n(cx)}" cy="${n(cy)}" r="${s.highlight ? 3.5 : 2.5}" fill="${colour}"/>`
          : `<path d="M${n(cx - 5)} ${n(cy - 5)}L${n(cx + 5)} ${n(cy + 5)}M${n(cx - 5)} ${n(cy + 5)}L${n(cx + 5)} ${n(cy - 5)}" stroke="${colour}" stroke-width="2"/>`,
      )
    }
    const ly = m.top + 8 + i * 20
    const lx = W - m.right + 14
    body.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="${width}"/>`,
      `<text x="${lx + 28}" y="${ly}" dy="4"${s.highlight ? ' font-weight="600"' : ''}>${esc(s.name)}</text>`,
    )
  })
  const ly = m.top + 8 + ordered.length * 20 + 6
  body.push(`<text x="${W - m.right + 14}" y="${ly}" dy="4" fill="#57606a">● held   × failed</text>`)
  return svg(W, H, body)
}

/** One bar group: a label and one ratio per engine (NaN: not measured). */
export interface RatioRow {
  readonly label: string
  readonly values: readonly number[]
}
export interface RatioPanel {
  readonly title: string
  readonly rows: readonly RatioRow[]
  /** per engine, the target ratio (drawn as a dashed line in the engine's colour) */
  readonly targets: readonly number[]
}

/**
 * Ratio bars on a log scale from 1× (as fast / as small as the raw library): a bar to the right is
 * that many times slower or larger, one to the left faster or smaller. Panels side by side share the
 * workload labels.
 */
export function ratioChart(o: {
  readonly title: string
  readonly engines: readonly string[]
  readonly panels: readonly RatioPanel[]
}): string {
  const labels = o.panels[0]?.rows.map((r) => r.label) ?? []
  const labelW = Math.round(Math.max(160, ...labels.map((l) => l.length * 6.2)) + 24)
  const panelW = 250
  const gap = 24
  const bar = 8
  const rowH = o.engines.length * (bar + 2) + 10
  const rows = o.panels[0]?.rows.length ?? 0
  const top = 72
  const H = top + rows * rowH + 40
  const W = labelW + o.panels.length * (panelW + gap)
  const body: string[] = [`<text x="12" y="22" font-size="14" font-weight="600">${esc(o.title)}</text>`]
  o.engines.forEach((e, i) => {
    const lx = 12 + i * 170
    body.push(
      `<rect x="${lx}" y="36" width="14" height="${bar}" fill="${PALETTE[i]!}"/>`,
      `<text x="${lx + 20}" y="36" dy="8">${esc(e)}</text>`,
    )
  })
  body.push(
    `<text x="${12 + o.engines.length * 170}" y="36" dy="8" fill="#57606a">dashed: the target for that engine</text>`,
  )
  o.panels[0]?.rows.forEach((r, k) => {
    const cy = top + k * rowH + rowH / 2
    body.push(`<text x="${labelW - 10}" y="${n(cy)}" dy="4" text-anchor="end">${esc(r.label)}</text>`)
  })
  o.panels.forEach((p, j) => {
    const x0 = labelW + j * (panelW + gap)
    const finite = (v: number): boolean => Number.isFinite(v) && v > 0
    const vals = p.rows.flatMap((r) => r.values).filter(finite)
    const x = scaleLog()
      .domain([Math.min(0.5, ...vals) / 1.1, Math.max(2, ...p.targets.filter(finite), ...vals) * 1.6])
      .range([x0, x0 + panelW - 40])
      .nice()
    const [d0, d1] = x.domain() as [number, number]
    body.push(
      `<text x="${x0}" y="${top - 10}" font-weight="600">${esc(p.title)}</text>`,
      `<rect x="${x0}" y="${top}" width="${panelW - 40}" height="${rows * rowH}" fill="none" stroke="#d0d7de"/>`,
    )
    for (let e = Math.ceil(Math.log10(d0)); 10 ** e <= d1; e++) {
      const px = n(x(10 ** e))
      body.push(
        `<line x1="${px}" x2="${px}" y1="${top}" y2="${top + rows * rowH}" stroke="${e === 0 ? '#57606a' : '#eaeef2'}"/>`,
        `<text x="${px}" y="${top + rows * rowH + 16}" text-anchor="middle" fill="#57606a">${tickLabel(10 ** e)}×</text>`,
      )
    }
    p.targets.forEach((t, i) => {
      if (!Number.isFinite(t)) return
      const px = n(x(t))
      body.push(
        `<line x1="${px}" x2="${px}" y1="${top}" y2="${top + rows * rowH}" stroke="${PALETTE[i]!}" stroke-dasharray="4 3"/>`,
      )
    })
    p.rows.forEach((r, k) => {
      r.values.forEach((v, i) => {
        if (!Number.isFinite(v) || v <= 0) return
        const y0 = top + k * rowH + 5 + i * (bar + 2)
        const a = x(Math.min(1, v))
        const b = x(Math.max(1, v))
        body.push(
          `<rect x="${n(a)}" y="${n(y0)}" width="${n(Math.max(1, b - a))}" height="${bar}" fill="${PALETTE[i]!}"/>`,
          `<text x="${n(v >= 1 ? b + 3 : a - 3)}" y="${n(y0 + bar - 1)}" font-size="10" text-anchor="${v >= 1 ? 'start' : 'end'}" fill="#24292f">${v >= 100 ? v.toFixed(0) : v.toFixed(2)}</text>`,
        )
      })
    })
  })
  return svg(W, H, body)
}
