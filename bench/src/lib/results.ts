/** What a run measured: rows of figures per subject (a server, an engine or a store), and notes. */

export interface Row {
  readonly section: string
  readonly metric: string
  readonly unit: string
  readonly lowerIsBetter: boolean
  /** subject → figure (NaN: not applicable / failed) */
  readonly values: Record<string, number>
  readonly note?: string
}

/** A measured curve (the ramp): per subject, its points in the order measured. */
export interface SeriesPoint {
  readonly x: number
  readonly y: number
  readonly ok: boolean
}

export interface SavedResults {
  readonly rows: Row[]
  readonly notes: string[]
  readonly series: [string, [string, SeriesPoint[]][]][]
}

export class Results {
  readonly rows: Row[] = []
  readonly notes: string[] = []
  /** curve name → subject → points (drawn as charts beside the tables) */
  readonly series = new Map<string, Map<string, SeriesPoint[]>>()

  add(row: Row): void {
    this.rows.push(row)
    const cells = Object.entries(row.values)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join('  ')
    console.log(`  [${row.section}] ${row.metric} (${row.unit}): ${cells}`)
  }

  /** Merges values into an existing row (or adds it). */
  set(
    section: string,
    metric: string,
    unit: string,
    lowerIsBetter: boolean,
    subject: string,
    value: number,
  ): void {
    let row = this.rows.find((r) => r.section === section && r.metric === metric)
    if (!row) {
      row = { section, metric, unit, lowerIsBetter, values: {} }
      this.rows.push(row)
    }
    row.values[subject] = value
    console.log(`  [${section}] ${metric} ${subject} = ${fmt(value)} ${unit}`)
  }

  get(section: string, metric: string, subject: string): number {
    return this.rows.find((r) => r.section === section && r.metric === metric)?.values[subject] ?? NaN
  }

  point(curve: string, subject: string, p: SeriesPoint): void {
    let bySubject = this.series.get(curve)
    if (!bySubject) {
      bySubject = new Map<string, SeriesPoint[]>()
      this.series.set(curve, bySubject)
    }
    let points = bySubject.get(subject)
    if (!points) {
      points = []
      bySubject.set(subject, points)
    }
    points.push(p)
  }

  note(s: string): void {
    this.notes.push(s)
    console.log(`  note: ${s}`)
  }

  /** The figures as JSON (bench/results.json: `pnpm bench --report` writes BENCHMARKS.md from it again). */
  toJSON(): SavedResults {
    return {
      rows: this.rows,
      notes: this.notes,
      series: [...this.series].map(([curve, bySubject]) => [curve, [...bySubject]]),
    }
  }

  /**
   * This run's figures laid over an earlier run's (`pnpm bench --only=… --merge`): the earlier rows
   * of the sections measured now are dropped, the rest kept, with both runs' notes and curves.
   */
  over(earlier: Results, note: string): Results {
    const measured = new Set(this.rows.map((r) => r.section))
    const r = new Results()
    r.rows.push(...earlier.rows.filter((x) => !measured.has(x.section)), ...this.rows)
    r.notes.push(...earlier.notes, note, ...this.notes)
    for (const [curve, bySubject] of [...earlier.series, ...this.series]) r.series.set(curve, bySubject)
    return r
  }

  static fromJSON(saved: SavedResults): Results {
    const r = new Results()
    r.rows.push(...saved.rows)
    r.notes.push(...saved.notes)
    for (const [curve, bySubject] of saved.series) r.series.set(curve, new Map(bySubject))
    return r
  }
}

export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a'
  const a = Math.abs(v)
  if (a === 0) return '0'
  if (a >= 100_000) return v.toExponential(2)
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 1) return v.toFixed(2)
  return v.toPrecision(2)
}
