/**
 * The production build's first visit: what index.html loads (its scripts, their static imports,
 * the stylesheet) holds no Automerge — no wasm, no wasm-bindgen glue — so a visitor on Yjs spaces
 * never downloads it; the service worker precaches the app shell only; every compressible file has
 * its precompressed .br / .gz sibling, and the shell stays under the first-visit budget (1 MB).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = mkdtempSync(join(tmpdir(), 'converge-web-build-'))

/** The files index.html references, and everything they import statically, transitively. */
function initialFiles(): string[] {
  const html = readFileSync(join(outDir, 'index.html'), 'utf8')
  const queue = [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!)
  const seen = new Set<string>()
  while (queue.length > 0) {
    const file = queue.shift()!
    if (seen.has(file)) continue
    seen.add(file)
    if (!file.endsWith('.js')) continue
    const code = readFileSync(join(outDir, file), 'utf8')
    const dir = file.slice(0, file.lastIndexOf('/') + 1)
    // static imports only (`import … from"./x.js"`, `import"./x.js"`), not `import("./x.js")`
    for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([^"']+\.js)["']/g)) queue.push(dir + m[1]!)
  }
  return [...seen]
}

describe('production build', () => {
  beforeAll(async () => {
    await build({ root, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
  }, 120_000)
  afterAll(() => rmSync(outDir, { recursive: true, force: true }))

  it('the initial chunks hold no Automerge and reference no wasm', () => {
    const files = initialFiles()
    expect(files.some((f) => /^assets\/index-.*\.js$/.test(f))).toBe(true)
    for (const file of files) {
      const code = readFileSync(join(outDir, file), 'utf8')
      expect(file).not.toMatch(/automerge|\.wasm$/i)
      expect(code, file).not.toMatch(/\.wasm\b|__wbindgen|@automerge/)
    }
  })

  it('the service worker precaches the app shell only: no wasm, no Automerge', () => {
    const sw = readFileSync(join(outDir, 'sw.js'), 'utf8')
    const urls = [...sw.matchAll(/["']?url["']?\s*:\s*["']([^"']+)["']/g)].map((m) => m[1]!)
    expect(urls).toContain('index.html')
    for (const file of initialFiles()) expect(urls).toContain(file)
    for (const url of urls) expect(url).not.toMatch(/\.wasm$|automerge/i)
  })

  it('every compressible file has .br and .gz siblings; the shell is under 1 MB as brotli', () => {
    const assets = readdirSync(join(outDir, 'assets'))
    for (const name of assets.filter((n) => /\.(js|css)$/.test(n) && !n.startsWith('rolldown-runtime'))) {
      expect(assets, name).toContain(`${name}.br`)
      expect(assets, name).toContain(`${name}.gz`)
    }
    const top = readdirSync(outDir)
    expect(top).toContain('sw.js.br')
    // what a browser that accepts brotli downloads (a file under 1 kB has no .br: it is sent as is)
    const sent = (f: string): number =>
      existsSync(join(outDir, `${f}.br`))
        ? statSync(join(outDir, `${f}.br`)).size
        : statSync(join(outDir, f)).size
    const brotli = ['index.html', ...initialFiles()].reduce((sum, f) => sum + sent(f), 0)
    expect(brotli).toBeLessThan(1024 * 1024)
  })
})
