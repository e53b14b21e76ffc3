/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** '1' exposes `window.__converge` for end-to-end tests; never set in a normal build. */
  readonly VITE_TEST_HOOKS?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
