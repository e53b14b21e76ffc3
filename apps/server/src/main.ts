/**
 * The composition root: the only place that reads flags and the environment. Run it with
 * `pnpm start` (node --import tsx src/main.ts); `--help` lists every option.
 */
import { realpathSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { fileURLToPath } from 'node:url'
import { ConfigError, helpText, parseConfig, wantsHelp } from './config.js'
import { type RunningServer, startServer } from './server.js'
import { TRIP_FAULTS } from './trips.js'
import { openLines, openUrls } from './urls.js'

export { type Config, parseConfig } from './config.js'
export { type RunningServer, type StartOptions, type Storage, startServer } from './server.js'

/** Exit code for a configuration that does not validate. */
const EXIT_CONFIG = 2

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (wantsHelp(argv)) {
    process.stdout.write(helpText())
    return
  }
  let config
  try {
    config = parseConfig(argv, env)
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    process.stderr.write(`converge server: ${e.message}\nRun with --help to see every option.\n`)
    process.exit(EXIT_CONFIG)
  }
  // the handlers come first: a signal during the start (or right after the ready line) still stops
  // gracefully and releases the DATA_DIR lock, instead of the default action killing the process
  let server: RunningServer | null = null
  let stopping: NodeJS.Signals | null = null
  const shutDown = (running: RunningServer): void => {
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        running.log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      server?.log.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(1)
    }
    stopping = signal
    if (!server) return // still starting: stopped as soon as it is up
    server.log.info({ signal }, 'signal received')
    shutDown(server)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // test-only (SPEC.md TRIPS-6): a fault between the steps of finishing a trip
  const fault = env.CONVERGE_TEST_TRIP_FAULT
  const running = await startServer(config, {
    tripFault: TRIP_FAULTS.find((f) => f === fault) ?? null,
  })
  server = running
  process.on('uncaughtException', (e) => {
    running.log.fatal({ err: e.stack ?? e.message }, 'uncaught exception')
    process.exit(1)
  })
  process.on('unhandledRejection', (e) => {
    running.log.fatal({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'unhandled rejection')
    process.exit(1)
  })
  if (stopping) {
    running.log.info({ signal: stopping }, 'signal received while starting')
    shutDown(running)
    return
  }
  // for a person at the terminal, on stderr: stdout stays one JSON log line per event
  process.stderr.write(openLines(openUrls(config.host, running.port, networkInterfaces())))
}

const isEntryPoint = (): boolean => {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), process.env).catch((e: unknown) => {
    // a StartupError (DATA_DIR locked, a damaged secret, a missing database) says what to do
    process.stderr.write(`converge server: failed to start: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  })
}
