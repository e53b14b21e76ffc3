// Hocuspocus 4 as a peer under test, in plain JavaScript (no TypeScript loader in its process): the stock
// `Server` with the default configuration, or with @hocuspocus/extension-sqlite on a file when SQLITE_FILE is set.
import { Server } from '@hocuspocus/server'
import { SQLite } from '@hocuspocus/extension-sqlite'

const file = process.env.SQLITE_FILE
const server = new Server({
  port: Number(process.env.PORT),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true, // SIGTERM: store every document, then exit
  extensions: file ? [new SQLite({ database: file })] : [],
})
await server.listen()
