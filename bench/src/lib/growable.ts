/** A growing Float64Array the load generators record sends, receives and ack times in. */
export class Growable {
  a = new Float64Array(1 << 14)
  n = 0
  push2(x: number, y: number): void {
    if (this.n + 2 > this.a.length) {
      const b = new Float64Array(this.a.length * 2)
      b.set(this.a)
      this.a = b
    }
    this.a[this.n++] = x
    this.a[this.n++] = y
  }
  push(x: number): void {
    if (this.n + 1 > this.a.length) {
      const b = new Float64Array(this.a.length * 2)
      b.set(this.a)
      this.a = b
    }
    this.a[this.n++] = x
  }
  take(): Float64Array {
    const out = this.a.slice(0, this.n)
    this.n = 0
    return out
  }
}
