import { navigate } from '../app/router.js'

/** A link back to the home screen that navigates in-app (no reload). */
export function HomeLink({
  className,
  label = 'Back to your spaces',
}: {
  className?: string
  label?: string
}) {
  return (
    <a
      href="/"
      className={className}
      onClick={(e) => {
        e.preventDefault()
        navigate('/')
      }}
    >
      {label}
    </a>
  )
}
