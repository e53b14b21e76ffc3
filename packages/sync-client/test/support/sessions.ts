import { type SessionOptions, SpaceSession } from '../../src/index.js'

const sessions: SpaceSession[] = []

/** Opens a session on space `s1` with token `w`, no tabs, no lock, no page events, a short backoff. */
export const openSession = async (
  o: Partial<SessionOptions> & Pick<SessionOptions, 'serverUrl'>,
): Promise<SpaceSession> => {
  const s = await SpaceSession.open({
    spaceId: 's1',
    token: 'w',
    readOnly: false,
    store: null,
    user: { name: 'Ana', color: '#c33' },
    BroadcastChannel: null,
    locks: null,
    window: null,
    navigator: null,
    backoff: { initialMs: 5, maxMs: 20 },
    ...o,
  })
  sessions.push(s)
  return s
}

/** For `afterEach`: every session opened by the test is destroyed. */
export const closeSessions = async (): Promise<void> => {
  for (const s of sessions.splice(0)) await s.destroy()
}
