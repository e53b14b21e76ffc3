/**
 * DIAG-2: the recent messages of a connection, in and out — when, which way, which type, how many
 * bytes; never what they carry (no update, no presence, no token). A ring of the last
 * `MESSAGE_LOG_SIZE`.
 */

/** One message on the socket. */
export interface MessageEntry {
  /** When it was sent or received (ms since the epoch, the connection's clock). */
  readonly at: number
  readonly dir: 'in' | 'out'
  /** The protocol's name of its type (`sync-update`, `durable-ack`, …; `undecodable` for a frame that is none). */
  readonly type: string
  /** The size of its frame (a message sent or received in chunks: of the whole). */
  readonly bytes: number
}

/** How many messages the log keeps. */
export const MESSAGE_LOG_SIZE = 100

export class MessageLog {
  private readonly ring: (MessageEntry | undefined)[]
  private next = 0
  private size = 0

  constructor(private readonly capacity = MESSAGE_LOG_SIZE) {
    this.ring = new Array<MessageEntry | undefined>(capacity)
  }

  push(entry: MessageEntry): void {
    this.ring[this.next] = entry
    this.next = (this.next + 1) % this.capacity
    this.size = Math.min(this.capacity, this.size + 1)
  }

  /** The messages kept, oldest first. */
  entries(): MessageEntry[] {
    const out: MessageEntry[] = []
    const start = (this.next - this.size + this.capacity) % this.capacity
    for (let k = 0; k < this.size; k++) {
      const e = this.ring[(start + k) % this.capacity]
      if (e) out.push(e)
    }
    return out
  }
}
