import { defineConfig } from 'vitest/config'

// every test runs on both engines: Automerge, loaded on demand in an app, is loaded up front here
export default defineConfig({
  test: { setupFiles: ['test/setup.ts'] },
})
