/**
 * The server's storage as a whole (server-core QUOTA-1): `MAX_TOTAL_STORAGE_BYTES` for what the
 * database takes (SQLite: its files; PostgreSQL: Converge's tables) and `MIN_FREE_DISK_BYTES` for the
 * disk under the SQLite database. The core asks `admit(bytes)` for every client update that would be
 * stored, so the answer is synchronous and cheap: it is the last measurement plus everything admitted
 * since, and a measurement older than `refreshMs` starts a new one in the background. A measurement
 * that fails (the database is unreachable) keeps the last one; the write then fails on its own, with
 * StorageUnavailable, if storage is really gone. Each refusal is a warn log line (rate-limited to one
 * per refresh) and a metric; the server starts refusing *before* the disk is full, so what is stored
 * stays intact and SQLite never has to fail a commit half-way.
 */
import { statfsSync } from 'node:fs'
import type { Clock, StorageQuota } from '@converge/server-core'
import type { Logger } from './log.js'

export interface StorageQuotaOptions {
  /** Bytes the database may take; 0: no limit. */
  readonly maxTotalBytes: number
  /** Free bytes the disk must keep; 0: no limit. */
  readonly minFreeBytes: number
  /** What the database takes now (the adapter's `storageBytes`). */
  readonly usedBytes: () => Promise<number>
  /** The folder whose disk is watched (the SQLite database's); null: no disk to watch (PostgreSQL). */
  readonly diskOf: string | null
  readonly clock: Clock
  readonly log: Logger
  /** A refusal, for the metric (`converge_limit_refusals_total{limit}`). */
  readonly refused: (limit: 'storage_total' | 'disk_free') => void
  /** How old a measurement may be before the next one is started (default 1 s). */
  readonly refreshMs?: number
}

export interface MeasuredStorageQuota extends StorageQuota {
  /** Measures now (at start, and in tests); resolves once the numbers are fresh. */
  refresh(): Promise<void>
  /** The last numbers, with what was admitted since (for /metrics and tests). */
  readonly usage: { readonly usedBytes: number; readonly freeBytes: number | null }
}

/** Free bytes for an unprivileged writer on the disk holding `dir`. */
export const freeBytesOf = (dir: string): number => {
  const s = statfsSync(dir)
  return Number(s.bavail) * Number(s.bsize)
}

export function createStorageQuota(options: StorageQuotaOptions): MeasuredStorageQuota {
  const { maxTotalBytes, minFreeBytes, clock, log, refused } = options
  const refreshMs = options.refreshMs ?? 1000
  let used = 0
  let free: number | null = null
  /** Bytes admitted since the last measurement began: not yet in its numbers. */
  let admitted = 0
  let measuredAt = Number.NEGATIVE_INFINITY
  let measuring: Promise<void> | null = null
  let lastWarning = Number.NEGATIVE_INFINITY

  const refresh = (): Promise<void> => {
    measuring ??= (async () => {
      const started = clock.now()
      const admittedBefore = admitted
      try {
        const [u, f] = await Promise.all([
          maxTotalBytes > 0 ? options.usedBytes() : Promise.resolve(0),
          Promise.resolve(minFreeBytes > 0 && options.diskOf !== null ? freeBytesOf(options.diskOf) : null),
        ])
        used = u
        free = f
        // what was admitted while measuring may or may not be in these numbers: counted again, to be safe
        admitted -= admittedBefore
        measuredAt = started
      } catch (e) {
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'storage quota: measuring failed')
        measuredAt = started
      } finally {
        measuring = null
      }
    })()
    return measuring
  }

  const refuse = (limit: 'storage_total' | 'disk_free', why: string, bytes: number): string => {
    refused(limit)
    const now = clock.now()
    if (now - lastWarning >= refreshMs) {
      lastWarning = now
      log.warn(
        { limit, bytes, usedBytes: used + admitted, freeBytes: free, maxTotalBytes, minFreeBytes },
        `update refused: ${why}`,
      )
    }
    return why
  }

  return {
    refresh,
    get usage() {
      return { usedBytes: used + admitted, freeBytes: free === null ? null : free - admitted }
    },
    admit(bytes) {
      if (maxTotalBytes <= 0 && minFreeBytes <= 0) return null
      if (clock.now() - measuredAt >= refreshMs) void refresh()
      if (maxTotalBytes > 0 && used + admitted + bytes > maxTotalBytes)
        return refuse('storage_total', "the server's storage quota is used up", bytes)
      if (free !== null && minFreeBytes > 0 && free - admitted - bytes < minFreeBytes)
        return refuse('disk_free', "the server's disk is full", bytes)
      admitted += bytes
      return null
    },
  }
}
