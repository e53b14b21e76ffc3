import { type FormEvent, useState } from 'react'
import { PROFILE_COLORS, initials } from '../services/profile.js'
import type { Profile } from '../services/types.js'
import { Dialog } from './Dialog.js'

interface ProfileDialogProps {
  readonly profile: Profile
  readonly firstRun: boolean
  readonly onSave: (p: Profile) => void
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
