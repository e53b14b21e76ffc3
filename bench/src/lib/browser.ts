/** The web app build and the browser the browser-driven sections (first visit, IndexedDB, list render) share. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium } from '@playwright/test'
import type { Config } from '../config.js'
import { REPO_DIR } from './paths.js'
import type { Results } from './results.js'

/**
 * The production web app (`vite build`) in this run's folder, built once per run whichever section
 * asks first; `BENCH_WEB_DIST=<dir>` measures that build instead (e.g. another version's, to compare).
 */
export function webBuild(cfg: Config, results: Results, section: string): string {
  const given = process.env.BENCH_WEB_DIST
  if (given !== undefined) {
    results.note(`${section}: the build in ${given} (BENCH_WEB_DIST)`)
    return given
  }
  const webDist = join(cfg.runDir, 'web-dist')
  if (existsSync(join(webDist, 'index.html'))) return webDist
  mkdirSync(webDist, { recursive: true })
  const built = spawnSync(
    'pnpm',
    [
      '--filter',
      '@converge/web',
      'exec',
      'vite',
      'build',
      '--outDir',
      webDist,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: REPO_DIR, stdio: 'inherit' },
  )
  if (built.status !== 0) throw new Error('building apps/web failed')
  return webDist
}

/** Headless Chromium: Debian's where it exists (Playwright cannot download browsers here), else Playwright's. */
export function launchChromium(): Promise<Browser> {
  const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
  return chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
