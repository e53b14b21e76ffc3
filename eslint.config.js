// One lint setup for the whole workspace: type-aware rules (no floating promises) and the import
// boundaries of ARCHITECTURE.md ("Import rules").
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const noIO = {
  patterns: [
    {
      group: ['node:*', 'fs', 'path', 'ws', 'idb', 'react', 'react-dom'],
      message: 'packages/merge is pure: no I/O.',
    },
    { group: ['@converge/*'], message: 'packages/merge depends on no other Converge package.' },
  ],
}

// what packages/sync-client reads of the browser only in src/browser.ts (its "one place")
const browserGlobals = [
  'window',
  'document',
  'navigator',
  'location',
  'localStorage',
  'indexedDB',
  'fetch',
  'WebSocket',
  'BroadcastChannel',
  'IDBRequest',
  'IDBTransaction',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
]

const restrict = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })
const adapters = ['better-sqlite3', 'pg', 'ioredis', 'redis', '@converge/persistence-*', '@converge/fanout-*']

export default tseslint.config(
  {
    ignores: [
      'eslint.config.js',
      '**/node_modules/**',
      '**/dist/**',
      '**/dist-e2e/**',
      '**/dist-test/**',
      '**/test-results/**',
      '**/playwright-report/**',
      '**/coverage/**',
      '**/.data/**',
      'data/**',
      // the peers' own project: plain-JS glue run by the peers' Node, outside the workspace's types
      'bench/peers/**',
      'bench/.runs/**',
      'bench/.cache/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.ts', 'scripts/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.es2022 },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['packages/merge/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noIO] },
  },
  restrict(
    ['packages/protocol/src/**/*.ts'],
    [
      {
        group: ['@converge/*', 'node:*', 'ws'],
        message: 'packages/protocol is a pure codec: no I/O, no other package.',
      },
    ],
  ),
  restrict(
    ['packages/server-core/src/**/*.ts'],
    [
      {
        group: ['ws', 'node:*', 'http', ...adapters],
        message: 'server-core is transport- and storage-free: adapters plug in through its ports.',
      },
      {
        group: ['@converge/sync-client', '@converge/web', '@converge/server'],
        message: 'server-core never imports clients or apps.',
      },
    ],
  ),
  restrict(
    ['packages/persistence-*/src/**/*.ts', 'packages/fanout-*/src/**/*.ts'],
    [
      {
        group: ['@converge/persistence-*', '@converge/fanout-*', '@converge/server', '@converge/web'],
        message: 'an adapter imports server-core (and protocol), never another adapter or an app.',
      },
    ],
  ),
  restrict(
    ['packages/sync-client/src/**/*.ts'],
    [
      {
        group: ['react', 'react-dom', 'node:*', 'ws', ...adapters],
        message: 'sync-client is a framework-free browser library: no React, no Node, no server storage.',
      },
      {
        group: ['@converge/server-core', '@converge/server-core/*', '@converge/web', '@converge/server'],
        message: 'sync-client never imports the server core (tests only) or the apps.',
      },
    ],
  ),
  {
    // sync-client reads the browser in one place only, src/browser.ts: every other part takes it as an
    // option (packages/sync-client/SPEC.md, "Parts")
    files: ['packages/sync-client/src/**/*.ts'],
    ignores: ['packages/sync-client/src/browser.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...browserGlobals.map((name) => ({
          name,
          message: 'sync-client reads browser globals only in src/browser.ts.',
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'globalThis', message: 'sync-client reads browser globals only in src/browser.ts.' },
      ],
    },
  },
  restrict(
    ['apps/server/src/**/*.ts'],
    [
      {
        group: ['@converge/web', '@converge/sync-client', 'react', 'react-dom'],
        message: 'the server never imports the web app or the client.',
      },
    ],
  ),
  restrict(
    ['apps/web/src/**/*.{ts,tsx}'],
    [
      {
        group: [
          'node:*',
          'ws',
          '@converge/server-core',
          '@converge/server-core/*',
          '@converge/server',
          ...adapters,
        ],
        message: 'the web app runs in the browser: it talks to the server through sync-client only.',
      },
    ],
  ),
  {
    files: ['**/test/**/*.ts', '**/*.test.ts', '**/examples/**/*.ts', '**/scripts/**/*.{ts,js}', '*.js'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  prettier,
)
