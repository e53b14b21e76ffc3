import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'
import { precompress } from './precompress'

/** The sync server in development (`cd apps/server && PORT=8787 pnpm start`); in production it serves this app. */
const SERVER = 'http://localhost:8787'

export default defineConfig({
  // packages/merge imports automerge; without this the dev server shows a blank page (TOOLCHAIN-NOTES 2c)
  optimizeDeps: { exclude: ['@automerge/automerge'] },
  build: {
    rolldownOptions: {
      output: {
        // vendor chunks: cached across app releases, and none over the 500 kB warning
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            {
              name: 'editor',
              test: /node_modules[\\/](@codemirror|@lezer|codemirror|y-codemirror\.next|style-mod|w3c-keyname|crelt)[\\/]/,
            },
            {
              name: 'crdt',
              test: /node_modules[\\/](yjs|y-protocols|lib0|fractional-indexing|idb)[\\/]/,
            },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: SERVER, changeOrigin: true },
      '/sync': { target: SERVER, ws: true, changeOrigin: true },
    },
  },
  plugins: [
    react(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      includeAssets: ['favicon.svg'],
      manifest: {
        name: 'Converge',
        short_name: 'Converge',
        description: 'A shared shopping cart and shared notes that work offline',
        start_url: '/',
        display: 'standalone',
        background_color: '#f6f7fb',
        theme_color: '#4f46e5',
        icons: [{ src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        // take over the page of the first visit too, so it works offline without a reload
        clientsClaim: true,
        skipWaiting: true,
        // the app shell only: no wasm (Automerge's, 3.6 MB, is loaded only for a space on Automerge;
        // the app opens Yjs spaces alone) and no lazily loaded engine chunk
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        globIgnores: ['**/node_modules/**', '**/*.wasm', '**/automerge*'],
        // WEB-ENGINE-2: a device that opened an Automerge space keeps the engine (its chunk and wasm,
        // hashed names) from then on, so that space opens offline too; a Yjs visitor never fetches it
        runtimeCaching: [
          {
            urlPattern: ({ url }) => /\/assets\/[^/]*automerge[^/]*\.(?:js|wasm)$/.test(url.pathname),
            handler: 'CacheFirst',
            options: { cacheName: 'converge-engines', expiration: { maxEntries: 8 } },
          },
        ],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/api(\/|$)/, /^\/sync(\/|$)/],
      },
    }),
    // last: compresses what the plugins above wrote too (sw.js, workbox-*.js)
    precompress(),
  ],
})
