import { defineConfig } from 'vitest/config'

// unit tests of the app's framework-free modules (src/**/*.test.ts), in Node: no browser, no plugins
// (vite.config.ts, with React and the PWA plugin, is for the app's build only); test/ builds the app
// with it and checks the output
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
  },
})
