// Bundles the server into dist/main.mjs with esbuild: the shipped start runs plain Node on it, without
// a TypeScript loader in the process (about 50 MB less resident memory). Native and optional modules
// stay outside the bundle; the SQLite append thread's script is copied next to it, and so is
// Automerge's wasm, which Automerge's Node build reads from `${__dirname}` when the first Automerge
// space opens (BUILD_OUT=<dir>: bundle there instead of dist/, for tests).
import { copyFileSync, mkdirSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const out = process.env.BUILD_OUT ?? join(here, 'dist')
mkdirSync(out, { recursive: true })
await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(out, 'main.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['better-sqlite3', 'pg-native'],
  // CommonJS dependencies call require() for Node's built-ins, and find their files by __dirname
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      "import { dirname as __pathDirname } from 'node:path'; import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const __filename = __fileURLToPath(import.meta.url); const __dirname = __pathDirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
})
copyFileSync(
  join(here, '../../packages/persistence-sqlite/src/append-worker.js'),
  join(out, 'append-worker.js'),
)
// the wasm beside the Node build esbuild bundled (the package's "node" + "import" entry)
const automerge = realpathSync(join(here, '../../packages/merge/node_modules/@automerge/automerge'))
copyFileSync(
  join(automerge, 'dist/mjs/wasm_bindgen_output/nodejs/automerge_wasm_bg.wasm'),
  join(out, 'automerge_wasm_bg.wasm'),
)
