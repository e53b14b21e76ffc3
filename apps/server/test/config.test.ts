import { spawnSync } from 'node:child_process'
import { defaultLimits } from '@converge/server-core'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DEFAULT_MEMORY_BUDGET,
  DEFAULT_WEB_DIST,
  OPTIONS,
  defaultPerIpLimits,
  helpText,
  parseConfig,
  wantsHelp,
} from '../src/config.js'
import { DEFAULT_CSP } from '../src/security.js'
import { PACKAGE_DIR } from './helpers.js'

describe('config', () => {
  it('has defaults', () => {
    const c = parseConfig([], {})
    expect(c).toEqual({
      port: 8787,
      host: 'localhost',
      dataDir: './data',
      auth: true,
      logLevel: 'info',
      secret: undefined,
      webDist: DEFAULT_WEB_DIST,
      storage: { kind: 'sqlite', file: './data/converge.sqlite' },
      redisUrl: undefined,
      limits: { ...defaultLimits, memoryBudgetBytes: DEFAULT_MEMORY_BUDGET },
      createSpaces: 'open',
      adminToken: undefined,
      trustProxy: 0,
      allowedOrigins: [],
      contentSecurityPolicy: DEFAULT_CSP,
      allowEmptyDatabase: false,
      storageQuota: { maxTotalBytes: 0, minFreeBytes: 64 * 1024 * 1024 },
      readAfterMaxMs: 10_000,
      history: {
        enabled: true,
        quietMs: 60_000,
        maxIntervalMs: 600_000,
        keepAllMs: 24 * 3_600_000,
        keepDays: 30,
        maxVersions: 200,
      },
      perIp: defaultPerIpLimits,
    })
    expect(defaultPerIpLimits).toEqual({
      spacesPerMinute: 10,
      spacesBurst: 10,
      connections: 32,
      connectsPerMinute: 120,
      connectBurst: 30,
      bytesPerSecond: 1024 * 1024,
      burstBytes: 4 * 1024 * 1024,
      readsPerMinute: 600,
      readsBurst: 60,
    })
    expect(DEFAULT_WEB_DIST.replaceAll('\\', '/')).toMatch(/apps\/web\/dist$/)
  })

  it('reads the environment, and flags win', () => {
    const env = {
      PORT: '1000',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/converge',
      AUTH: 'off',
      LOG_LEVEL: 'debug',
      SECRET: 's'.repeat(32),
      WEB_DIST: '/srv/web',
      MAX_FRAME_BYTES: '2048',
      MAX_DOCUMENT_BYTES: '100000',
      MAX_MESSAGES_PER_SECOND: '10',
      MAX_BYTES_PER_SECOND: '5000',
      MAX_PREAUTH_BYTES: '100',
      MAX_PREAUTH_MESSAGES: '3',
      MAX_CONNECTIONS: '7',
      MAX_ANSWER_BYTES_PER_SECOND: '4000',
      MAX_BUFFERED_BYTES: '8000',
      MAX_STRUCTS_PER_SPACE: '1000',
      MEMORY_BUDGET_BYTES: '123456',
      IDLE_UNLOAD_MS: '0',
      CHUNK_IDLE_MS: '1234',
      COMPACT_EVERY_UPDATES: '9',
      COMPACT_EVERY_BYTES: '999',
      UNRELATED: 'x',
    }
    const c = parseConfig([], env)
    expect(c).toMatchObject({ port: 1000, host: '0.0.0.0', dataDir: '/var/lib/converge', auth: false })
    expect(c.limits).toEqual({
      maxFrameBytes: 2048,
      maxDocumentBytes: 100000,
      maxMessagesPerSecond: 10,
      maxBytesPerSecond: 5000,
      maxPreAuthBytes: 100,
      maxPreAuthMessages: 3,
      maxConnections: 7,
      maxAnswerBytesPerSecond: 4000,
      maxBufferedBytes: 8000,
      maxStructsPerSpace: 1000,
      memoryBudgetBytes: 123456,
      idleUnloadMs: 0,
      chunkIdleMs: 1234,
      compactEveryUpdates: 9,
      compactEveryBytes: 999,
      laggingAfterMs: 10_000,
      probeAfterChangeMs: 30_000,
      digestEveryMs: 5_000,
    })
    const f = parseConfig(
      ['--port', '1234', '--data-dir', 'x', '--auth=on', '--max-frame-bytes=4096', '--log-level', 'warn'],
      env,
    )
    expect(f).toMatchObject({ port: 1234, dataDir: 'x', auth: true, logLevel: 'warn' })
    expect(f.limits.maxFrameBytes).toBe(4096)
    expect(parseConfig(['--no-auth'], {}).auth).toBe(false)
    expect(parseConfig(['--auth', 'off'], {}).auth).toBe(false)
    expect(parseConfig(['--no-auth', '--auth=on'], {}).auth).toBe(true) // the last one wins
    expect(parseConfig(['--port', '1', '--port=2'], {}).port).toBe(2)
    expect(parseConfig(['--host=a=b'], {}).host).toBe('a=b')
    expect(parseConfig(['--', '--port', '1234'], {}).port).toBe(1234) // `pnpm start -- --port 1234`
    expect(parseConfig(['--auth', 'on'], { AUTH: 'off' }).auth).toBe(true) // the flag wins
    expect(parseConfig([], { PORT: '' }).port).toBe(8787) // empty is unset
  })

  it('every option has a flag that mirrors its variable', () => {
    for (const o of OPTIONS) {
      expect(o.flag).toBe(o.env.toLowerCase().replaceAll('_', '-'))
      expect(helpText()).toContain(o.env)
      expect(helpText()).toContain(`--${o.flag}`)
    }
    expect(helpText()).toContain('--no-auth')
    expect(wantsHelp(['--help'])).toBe(true)
    expect(wantsHelp(['-h'])).toBe(true)
    expect(wantsHelp(['--port', '1', '--help'])).toBe(true)
    expect(wantsHelp(['--bogus', '-h'])).toBe(true)
    expect(wantsHelp([])).toBe(false)
    expect(wantsHelp(['--port', '1'])).toBe(false)
    expect(wantsHelp(['--host', 'help'])).toBe(false)
  })

  it('refuses bad values with a message naming each option', () => {
    const bad = (argv: string[], env: Record<string, string> = {}): string => {
      try {
        parseConfig(argv, env)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        return (e as Error).message
      }
      throw new Error('accepted')
    }
    expect(bad(['--port', '70000'])).toMatch(/PORT \(--port\): must be at most 65535/)
    expect(bad([], { PORT: '12ab' })).toMatch(/PORT \(--port\): must be a whole number/)
    expect(bad([], { AUTH: 'maybe' })).toMatch(/AUTH \(--auth\): must be on or off/)
    expect(bad([], { LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL/)
    expect(bad([], { MAX_CONNECTIONS: '0' })).toMatch(
      /MAX_CONNECTIONS \(--max-connections\): must be at least 1/,
    )
    expect(bad([], { MAX_FRAME_BYTES: '-5' })).toMatch(/MAX_FRAME_BYTES/)
    const secret = bad([], { SECRET: 'short-secret-value' })
    expect(secret).toMatch(/SECRET \(--secret\): must be at least 32 characters/)
    expect(secret).not.toContain('short-secret-value')
    expect(bad(['--bogus', '1'])).toMatch(/unknown option --bogus/)
    expect(bad(['--bogus=1'])).toMatch(/unknown option --bogus/)
    expect(bad(['-x'])).toMatch(/unknown option -x/)
    expect(bad(['--port'])).toMatch(/--port needs a value/)
    expect(bad(['--port', '--host', 'x'])).toMatch(/--port needs a value/)
    expect(bad(['--port='])).toMatch(/PORT \(--port\): must be a whole number/)
    expect(bad(['--no-auth=yes'])).toMatch(/--no-auth takes no value/)
    expect(bad(['stray'])).toMatch(/unexpected argument "stray"/)
    expect(bad(['--port', '1', 'stray'])).toMatch(/unexpected argument "stray"/)
    expect(bad([], { MAX_FRAME_BYTES: '5000', MAX_BYTES_PER_SECOND: '2000' })).toMatch(/byte burst/)
    const two = bad([], { PORT: 'x', HOST: ' ' })
    expect(two).toMatch(/PORT/)
    expect(two).toMatch(/HOST/)
  })

  it('STORAGE picks SQLite (default: in DATA_DIR) or PostgreSQL with an optional schema; REDIS_URL needs both PostgreSQL and SECRET', () => {
    expect(parseConfig([], { DATA_DIR: '/srv/c/' }).storage).toEqual({
      kind: 'sqlite',
      file: '/srv/c/converge.sqlite',
    })
    expect(parseConfig(['--storage', 'sqlite:/tmp/x.db'], {}).storage).toEqual({
      kind: 'sqlite',
      file: '/tmp/x.db',
    })
    expect(parseConfig([], { STORAGE: 'postgres://app:pw@db:5432/converge?schema=team_a' }).storage).toEqual({
      kind: 'postgres',
      url: 'postgres://app:pw@db:5432/converge',
      schema: 'team_a',
    })
    const secret = 's'.repeat(32)
    const many = parseConfig([], {
      STORAGE: 'postgresql://db/converge',
      REDIS_URL: 'redis://127.0.0.1:6379',
      SECRET: secret,
    })
    expect(many.storage).toMatchObject({ kind: 'postgres', schema: 'public' })
    expect(many.redisUrl).toBe('redis://127.0.0.1:6379')

    const bad = (env: Record<string, string>): string => {
      try {
        parseConfig([], env)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        return (e as Error).message
      }
      throw new Error('accepted')
    }
    const storage = bad({ STORAGE: 'mysql://u:hunter2@db/x' })
    expect(storage).toMatch(/STORAGE \(--storage\): must be sqlite:<file> or postgres:\/\/…/)
    expect(storage).not.toContain('hunter2') // URLs may hold passwords: never echoed
    expect(bad({ STORAGE: 'postgres://db/x?schema=Bad-Name' })).toMatch(
      /schema must be a lower-case SQL name/,
    )
    expect(bad({ REDIS_URL: 'redis://r', SECRET: secret })).toMatch(
      /must share their storage: set STORAGE=postgres/,
    )
    expect(bad({ REDIS_URL: 'redis://r', STORAGE: 'postgres://db/x' })).toMatch(
      /SECRET \(--secret\): required with REDIS_URL/,
    )
    expect(bad({ REDIS_URL: 'http://r' })).toMatch(/REDIS_URL \(--redis-url\): must be redis:\/\/host:port/)
  })

  it('the per-address, origin and data-directory options', () => {
    const admin = 'a'.repeat(40)
    const c = parseConfig(['--create-spaces', 'token', '--trust-proxy=1', '--max-connections-per-ip', '0'], {
      ADMIN_TOKEN: admin,
      SPACES_PER_MINUTE_PER_IP: '3',
      SPACES_BURST_PER_IP: '2',
      MAX_BYTES_PER_SECOND_PER_IP: '5000',
      MAX_BURST_BYTES_PER_IP: '2000000',
      ALLOWED_ORIGINS: ' https://A.example , http://b.example:8080/ ',
      CONTENT_SECURITY_POLICY: "default-src 'none'",
      ALLOW_EMPTY_DATABASE: '1',
    })
    expect(c).toMatchObject({
      createSpaces: 'token',
      adminToken: admin,
      trustProxy: 1,
      allowedOrigins: ['https://a.example', 'http://b.example:8080'],
      contentSecurityPolicy: "default-src 'none'",
      allowEmptyDatabase: true,
      perIp: {
        spacesPerMinute: 3,
        spacesBurst: 2,
        connections: 0,
        bytesPerSecond: 5000,
        burstBytes: 2000000,
      },
    })
    const bad = (env: Record<string, string>): string => {
      try {
        parseConfig([], env)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        return (e as Error).message
      }
      throw new Error('accepted')
    }
    expect(bad({ CREATE_SPACES: 'token' })).toMatch(
      /ADMIN_TOKEN \(--admin-token\): required with CREATE_SPACES=token/,
    )
    expect(bad({ CREATE_SPACES: 'closed' })).toMatch(
      /CREATE_SPACES \(--create-spaces\): must be open or token/,
    )
    const short = bad({ ADMIN_TOKEN: 'hunter2-hunter2' })
    expect(short).toMatch(/ADMIN_TOKEN \(--admin-token\): must be at least 32 characters/)
    expect(short).not.toContain('hunter2') // never echoed
    expect(bad({ ALLOWED_ORIGINS: '*' })).toMatch(/ALLOWED_ORIGINS .*\* \(any origin\) is not accepted/)
    expect(bad({ ALLOWED_ORIGINS: 'https://a.example/app' })).toMatch(/is not an origin/)
    expect(bad({ ALLOWED_ORIGINS: 'a.example' })).toMatch(/is not an origin/)
    expect(bad({ ALLOWED_ORIGINS: 'ftp://a.example' })).toMatch(/is not an origin/)
    expect(bad({ MAX_BURST_BYTES_PER_IP: '1000' })).toMatch(
      /MAX_BURST_BYTES_PER_IP .*at least MAX_FRAME_BYTES/,
    )
    expect(
      parseConfig([], { MAX_BURST_BYTES_PER_IP: '1000', MAX_BYTES_PER_SECOND_PER_IP: '0' }).perIp
        .bytesPerSecond,
    ).toBe(0) // off: no burst needed
    expect(bad({ SPACES_BURST_PER_IP: '0' })).toMatch(/SPACES_BURST_PER_IP .*must be at least 1/)
    expect(bad({ TRUST_PROXY: '17' })).toMatch(/TRUST_PROXY .*must be at most 16/)
    expect(bad({ ALLOW_EMPTY_DATABASE: 'yes' })).toMatch(/ALLOW_EMPTY_DATABASE .*must be 0 or 1/)
  })

  it('main: CREATE_SPACES=token without ADMIN_TOKEN refuses to start (exit 2)', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--create-spaces', 'token'], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, ADMIN_TOKEN: '', PORT: '0' },
    })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/ADMIN_TOKEN \(--admin-token\): required with CREATE_SPACES=token/)
  })

  it('main: --help prints every option; a bad config exits 2 with a hint', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
        cwd: PACKAGE_DIR,
        encoding: 'utf8',
        timeout: 15_000,
      })
    const help = run(['--help'])
    expect(help.status).toBe(0)
    for (const o of OPTIONS) expect(help.stdout).toContain(o.env)
    const bad = run(['--port', 'nope'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/PORT \(--port\): must be a whole number/)
    expect(bad.stderr).toMatch(/--help/)
  })
})
