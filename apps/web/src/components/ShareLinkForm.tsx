import { type FormEvent, useId, useState } from 'react'
import { navigate, spacePath } from '../app/router.js'
import { linkFragment, parseShareLink } from '../services/tokens.js'

const NOT_A_LINK = 'That is not a Converge share link (it looks like https://…/s/…#t=…).'
const NO_KEY =
  'That is the address of a space, without its key: ask for the share link (it ends with “#t=…”).'

/**
 * A field that takes a pasted share link and opens its space. `requireKey`: an address without its
 * key (`#t=…`) is refused with a word on what to ask for — where the page already says the space is
 * not here; on the home screen such an address opens the space if this device has it.
 */
export function ShareLinkForm({
  requireKey = false,
  primary = false,
}: {
  readonly requireKey?: boolean
  readonly primary?: boolean
}) {
  const [link, setLink] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const field = useId()
  const open = (e: FormEvent): void => {
    e.preventDefault()
    const parsed = parseShareLink(link)
    if (!parsed || (requireKey && !parsed.token)) {
      setProblem(parsed ? NO_KEY : NOT_A_LINK)
      return
    }
    setProblem(null)
    setLink('')
    navigate(spacePath(parsed.id) + (parsed.token ? linkFragment(parsed.token, parsed.engine ?? 'yjs') : ''))
  }
  return (
    <>
      <form className="inline-form" onSubmit={open}>
        <label className="field grow">
          <span className="field-label">Share link</span>
          <input
            className="input"
            value={link}
            inputMode="url"
            autoComplete="off"
            placeholder="https://…/s/…#t=…"
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${field}-problem` : undefined}
            onChange={(e) => setLink(e.target.value)}
          />
        </label>
        <button type="submit" className={primary ? 'button primary' : 'button'} disabled={link.trim() === ''}>
          Open
        </button>
      </form>
      {problem && (
        <p id={`${field}-problem`} className="field-error" role="alert">
          {problem}
        </p>
      )}
    </>
  )
}
