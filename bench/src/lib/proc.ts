/**
 * Child processes of a bench run: every one is registered, and killed by its PID when the run ends —
 * normally, on an exception, or on SIGINT/SIGTERM. /proc readers for CPU time and RSS.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const children = new Set<ChildProcess>()

function killAll(): void {
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }
  }
  children.clear()
}

let installed = false
/** Kill every registered child when this process leaves, however it leaves. */
export function installReaper(): void {
  if (installed) return
  installed = true
  process.on('exit', killAll)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      killAll()
      process.exit(130)
    })
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** stdout and stderr go to this file */
  readonly logFile: string
}

/** The parent's environment with `env` on top; a key set to undefined is removed. */
function environment(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env ?? {})) if (v === undefined) delete out[k]
  return out
}

function track(c: ChildProcess): ChildProcess {
  children.add(c)
  c.on('exit', () => children.delete(c))
  return c
}

/** Starts a command whose PID is the measured process itself (no shell, no wrapper). */
export function start(cmd: string, args: readonly string[], o: StartOptions): ChildProcess {
  const fd = openSync(o.logFile, 'a')
  return track(spawn(cmd, args, { cwd: o.cwd, env: environment(o.env), stdio: ['ignore', fd, fd] }))
}

/** Forks a TypeScript worker (through tsx) with an IPC channel using structured-clone serialization. */
export function forkWorker(file: string, args: readonly string[], o: StartOptions): ChildProcess {
  const fd = openSync(o.logFile, 'a')
  return track(
    fork(file, args, {
      cwd: o.cwd,
      env: environment(o.env),
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', fd, fd, 'ipc'],
    }),
  )
}

/** SIGTERM, then SIGKILL after `ms`; resolves once the process has exited. */
export async function stop(c: ChildProcess, ms = 5000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
  try {
    process.kill(c.pid, 'SIGTERM')
  } catch {
    return
  }
  const timer = setTimeout(() => {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  }, ms)
  await exited
  clearTimeout(timer)
}

export async function kill(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
  try {
    process.kill(c.pid, 'SIGKILL')
  } catch {
    return
  }
  await exited
}

const TICKS = 100 // CLK_TCK on Linux

export interface ProcSample {
  /** user + system CPU seconds so far */
  readonly cpu: number
  /** resident set size, bytes */
  readonly rss: number
  /** peak resident set size since start (VmHWM), bytes */
  readonly hwm: number
}

export function sample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
  return { cpu, rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 }
}

/** Samples RSS every `ms` and keeps the peak (VmHWM covers the whole life; this covers a window). */
export function peakSampler(pid: number, ms = 100): { stop(): number } {
  let peak = 0
  const tick = (): void => {
    try {
      peak = Math.max(peak, sample(pid).rss)
    } catch {
      /* exited */
    }
  }
  tick()
  const t = setInterval(tick, ms)
  return {
    stop: () => {
      clearInterval(t)
      tick()
      return peak
    },
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `url` until it answers (any status), or throws after `ms`. */
export async function waitForHttp(url: string, ms: number, child?: ChildProcess): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(`${url}: the server exited (${child.exitCode ?? child.signalCode}) before answering`)
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await r.arrayBuffer()
      return
    } catch {
      if (Date.now() > until) throw new Error(`${url} did not answer within ${ms} ms`)
      await sleep(50)
    }
  }
}

/** Waits until `pid` uses less than `share` of a core over 300 ms (or `ms` passed): lets a server settle. */
export async function waitIdle(pid: number, ms = 15_000, share = 0.05): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    let a: number
    try {
      a = sample(pid).cpu
    } catch {
      return
    }
    await sleep(300)
    let b: number
    try {
      b = sample(pid).cpu
    } catch {
      return
    }
    if (b - a <= share * 0.3) return
  }
}
