import { type FormEvent, useRef, useState } from 'react'
import { useServices } from '../app/services.js'
import { PROFILE_COLORS, initials, profileLink } from '../services/profile.js'
import type { Profile } from '../services/types.js'
import { Dialog } from './Dialog.js'
import { QrCode } from './QrCode.js'

/**
 * "Be you on another device": a link (and its QR code) that gives another device this profile's
 * person id, name and colour, so your phone and your laptop show as one person, in one colour.
 */
function OtherDevices({ profile }: { readonly profile: Profile }) {
  const { origin } = useServices()
  const link = profileLink(origin, profile)
  const ref = useRef<HTMLInputElement>(null)
  const [qr, setQr] = useState(false)
  const [note, setNote] = useState('')
  return (
    <section className="stack other-devices" aria-labelledby="other-devices-heading">
      <h3 id="other-devices-heading" className="field-label">
        Your other devices
      </h3>
      <p className="hint">
        Open this link on your phone or another computer to be the same person there: one name, one colour,
        and others see you once.
      </p>
      <div className="share-row">
        <input
          ref={ref}
          className="input mono grow"
          value={link}
          readOnly
          aria-label="Link for your other devices"
          data-testid="profile-link"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button
          type="button"
          className="button"
          onClick={() => {
            navigator.clipboard.writeText(link).then(
              () => setNote('Copied'),
              () => {
                ref.current?.select()
                setNote('The link is selected: copy it by hand')
              },
            )
          }}
        >
          Copy
        </button>
        <button type="button" className="button" aria-expanded={qr} onClick={() => setQr((q) => !q)}>
          QR code
        </button>
      </div>
      {qr && <QrCode text={link} label="QR code of the link for your other devices" />}
      <p className="hint" role="status">
        {note}
      </p>
    </section>
  )
}

interface ProfileDialogProps {
  readonly profile: Profile
  readonly firstRun: boolean
  readonly onSave: (p: Pick<Profile, 'name' | 'color'>) => void
  readonly onClose: () => void
}

/** Name and colour, set once per device (first run) and editable from the header. */
export function ProfileDialog({ profile, firstRun, onSave, onClose }: ProfileDialogProps) {
  const [name, setName] = useState(profile.name)
  const [color, setColor] = useState(profile.color)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    onSave({ name: name.trim() || profile.name, color })
  }
  return (
    <Dialog
      title={firstRun ? 'Welcome to Converge' : 'Your name and colour'}
      description={
        firstRun
          ? 'Choose how others in your spaces see you. It is kept on this device; you can change it later.'
          : 'Others in your spaces see this name and colour next to your changes and cursor.'
      }
      testId="profile-dialog"
      onClose={firstRun ? () => onSave({ name: name.trim() || profile.name, color }) : onClose}
    >
      <form className="stack" onSubmit={submit}>
        <label className="field">
          <span className="field-label">Your name</span>
          <input
            className="input"
            value={name}
            maxLength={40}
            autoComplete="nickname"
            onChange={(e) => setName(e.target.value)}
            autoFocus
            required
          />
        </label>
        <fieldset className="colors">
          <legend className="field-label">Your colour</legend>
          <div className="color-options">
            {PROFILE_COLORS.map((c) => (
              <label key={c.value} className="color-option" title={c.name}>
                <input
                  type="radio"
                  name="profile-color"
                  value={c.value}
                  checked={color === c.value}
                  onChange={() => setColor(c.value)}
                  aria-label={c.name}
                />
                <span className="swatch" style={{ background: c.value }} aria-hidden="true" />
              </label>
            ))}
          </div>
        </fieldset>
        <div className="preview-row" aria-hidden="true">
          <span className="avatar" style={{ background: color }}>
            {initials(name || profile.name)}
          </span>
          <span>{name.trim() || profile.name}</span>
        </div>
        {!firstRun && <OtherDevices profile={profile} />}
        <div className="dialog-actions">
          {!firstRun && (
            <button type="button" className="button" onClick={onClose}>
              Cancel
            </button>
          )}
          <button type="submit" className="button primary">
            {firstRun ? 'Continue' : 'Save'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
