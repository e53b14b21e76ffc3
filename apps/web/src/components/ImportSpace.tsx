import { createSpace, loadEngine, readExport, replayExport } from '@converge/merge'
import { createSpaceRecord } from '@converge/sync-client'
import { useRef, useState } from 'react'
import { navigate, spacePath } from '../app/router.js'
import { useServices } from '../app/services.js'
import { Banner } from './Banner.js'

/** Largest file taken: a space's whole document is bounded by the server at 64 MB. */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024

/**
 * "Import a space" (merge EXPORT-2…4): a file from "Download a copy". A file of a space this device
 * has is merged into it; any other becomes a new space with the same cart and notes. The file is
 * checked whole before anything is created, and what is wrong with it is said.
 */
export function ImportSpace() {
  const { catalog, api, newSpaces } = useServices()
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)

  async function onFile(file: File): Promise<void> {
    setError(null)
    if (file.size > MAX_IMPORT_BYTES) {
      setError('that file is larger than a space can be')
      return
    }
    setBusy(true)
    try {
      let json: unknown
      try {
        json = JSON.parse(await file.text())
      } catch {
        throw new Error('it is not a Converge space file (not JSON)')
      }
      const data = readExport(json)
      await loadEngine(data.engine)
      const existing = catalog.get(data.spaceId)
      if (existing && (existing.engine ?? 'yjs') === data.engine) {
        newSpaces.set(existing.id, { merge: data })
        navigate(spacePath(existing.id))
        return
      }
      // checked whole in a scratch space first: a refused value creates nothing
      replayExport(data, () => createSpace({ engine: data.engine })).destroy()
      const record = await createSpaceRecord({
        name: data.name,
        online: navigator.onLine,
        api,
        now: Date.now(),
        engine: data.engine,
      })
      await catalog.put(record)
      newSpaces.set(record.id, { name: data.name, file: data })
      navigate(spacePath(record.id))
    } catch (e) {
      setError(e instanceof Error ? e.message.replace(/^InvalidArgument: /, '') : String(e))
    } finally {
      setBusy(false)
      if (input.current) input.current.value = ''
    }
  }

  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading" className="section-title">
        Import a space
      </h2>
      {error && (
        <Banner kind="error" testId="banner-import" onDismiss={() => setError(null)}>
          Nothing was imported: {error}.
        </Banner>
      )}
      <label className="field">
        <span className="field-label">A file from “Download a copy”</span>
        <input
          ref={input}
          type="file"
          className="input"
          accept=".json,application/json"
          disabled={busy}
          data-testid="import-file"
          onChange={(e) => {
            const f = e.target.files?.[0]
            if (f) void onFile(f)
          }}
        />
      </label>
      <p className="hint">
        A copy of a space this device has is merged into it, nothing lost on either side; any other becomes a
        new space with the same list and notes.
      </p>
    </section>
  )
}
