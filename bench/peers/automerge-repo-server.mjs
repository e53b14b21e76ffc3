// automerge-repo 2 as a peer under test, in plain JavaScript: the sync server as automerge-repo's own
// automerge-repo-sync-server sets it up — a Repo with the WebSocket server adapter and the Node file
// system storage adapter in DATA_DIR, announcing nothing to its peers (`sharePolicy: false`: it answers
// what a client asks for and stores what a client sends). GET / answers 200 once it listens.
import { createServer } from 'node:http'
import { Repo } from '@automerge/automerge-repo'
import { WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket'
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs'
import { WebSocketServer } from 'ws'

const wss = new WebSocketServer({ noServer: true })
const http = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('automerge-repo sync server\n')
})
http.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
})
const repo = new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(process.env.DATA_DIR),
  peerId: `storage-server-bench`,
  sharePolicy: async () => false,
})
// SIGTERM: write what the repo holds (its saves are throttled to one per 100 ms per document), then exit
process.on('SIGTERM', () => {
  void repo
    .flush()
    .catch(() => {})
    .finally(() => process.exit(0))
})
http.listen(Number(process.env.PORT), '127.0.0.1')
