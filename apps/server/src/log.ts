/**
 * JSON logs to stdout with pino, adapted to server-core's Logger. Log lines carry space ids,
 * connection ids and numbers — never document content and never tokens.
 */
import type { Logger as CoreLogger } from '@converge/server-core'
import { type DestinationStream, type Logger, pino } from 'pino'
import type { LogLevel } from './config.js'

export type { Logger } from 'pino'

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'converge-server' },
      formatters: { level: (label) => ({ level: label }) },
      // a safety net: these keys are never logged on purpose
      redact: { paths: ['token', '*.token', 'secret', '*.secret'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  )
}

/** The pino logger as server-core's Logger port. */
export function coreLogger(log: Logger): CoreLogger {
  return {
    debug: (fields, msg) => log.debug(fields, msg),
    info: (fields, msg) => log.info(fields, msg),
    warn: (fields, msg) => log.warn(fields, msg),
    error: (fields, msg) => log.error(fields, msg),
  }
}
