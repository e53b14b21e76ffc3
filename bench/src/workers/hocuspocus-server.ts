/**
 * Hocuspocus 4 as a peer under test: its stock `Server` with the default configuration, or with
 * `@hocuspocus/extension-sqlite` on a file when SQLITE_FILE is set. Loaded from bench/peers.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PEERS_DIR } from '../lib/paths.js'

interface HocuspocusServer {
  listen(): Promise<unknown>
  destroy(): Promise<void>
}
interface ServerModule {
  Server: new (config: Record<string, unknown>) => HocuspocusServer
}
interface SqliteModule {
  SQLite: new (config: { database: string }) => unknown
}

const load = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(PEERS_DIR, 'node_modules', path)).href)) as T

const { Server } = await load<ServerModule>('@hocuspocus/server/dist/hocuspocus-server.esm.js')
const file = process.env.SQLITE_FILE
const extensions = file
  ? [new (await load<SqliteModule>('@hocuspocus/extension-sqlite/dist/hocuspocus-sqlite.esm.js')).SQLite({ database: file })]
  : []
const server = new Server({
  port: Number(process.env.PORT),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true, // SIGTERM: store every document, then exit
  extensions,
})
await server.listen()
