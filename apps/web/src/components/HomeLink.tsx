import { navigate } from '../app/router.js'

/** A link back to the home screen that navigates in-app (no reload). */
export function HomeLink({ className }: { className?: string }) {
  return (
    <a
      href="/"
      className={className}
      onClick={(e) => {
        e.preventDefault()
        navigate('/')
      }}
    >
      Back to your spaces
    </a>
  )
}
