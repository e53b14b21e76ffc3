import { useEffect, useState } from 'react'

/** The dark modules of a QR code for `text`, as one SVG path (1 unit per module). */
async function qrPath(text: string): Promise<{ size: number; d: string }> {
  // loaded when a code is first shown: the generator stays out of the first visit's bundle
  const { default: qrcode } = await import('qrcode-generator')
  const qr = qrcode(0, 'M')
  qr.addData(text)
  qr.make()
  const size = qr.getModuleCount()
  let d = ''
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (qr.isDark(r, c)) d += `M${c} ${r}h1v1h-1z`
  return { size, d }
}

/**
 * A QR code of a link, drawn as an SVG path (no inline HTML, no data URL: the CSP holds), for opening
 * the link on a phone by pointing its camera at the screen.
 */
export function QrCode({ text, label }: { readonly text: string; readonly label: string }) {
  const [code, setCode] = useState<{ size: number; d: string } | null>(null)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    let live = true
    qrPath(text).then(
      (c) => live && setCode(c),
      () => live && setFailed(true),
    )
    return () => {
      live = false
    }
  }, [text])
  if (failed) return <p className="hint">The QR code could not be drawn; copy the link instead.</p>
  if (!code) return <p className="hint">Drawing the QR code…</p>
  const quiet = 4 // the blank margin scanners need, in modules
  const view = code.size + quiet * 2
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      data-testid="qr-code"
      viewBox={`${-quiet} ${-quiet} ${view} ${view}`}
      width="240"
      height="240"
      shapeRendering="crispEdges"
    >
      <rect x={-quiet} y={-quiet} width={view} height={view} fill="#fff" />
      <path d={code.d} fill="#000" />
    </svg>
  )
}
