/** The update the crash child appends as its `i`-th: 64 bytes starting with `i`, easy to recognise. */
export function crashUpdate(i: number): Uint8Array {
  const out = new Uint8Array(64).fill(i & 0xff)
  new DataView(out.buffer).setUint32(0, i)
  return out
}
