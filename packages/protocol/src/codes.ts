/**
 * Close codes and error kinds (PROTOCOL.md §P5, §P6). Each error kind says what a client does next.
 */
export const CloseCode = {
  /** 1001: the server is shutting down after committing everything. Reconnect with backoff. */
  GoingAway: 1001,
  /** 1009: a frame exceeded the maximum frame size (sent by the WebSocket layer). Permanent for that frame. */
  MessageTooBig: 1009,
  /** 1013: the server is at its connection limit. Reconnect with backoff. */
  TryAgainLater: 1013,
  /** 4400: a frame did not decode (bad varint, truncation, unknown type, invalid or foreign update). Do not retry it. */
  MalformedFrame: 4400,
  /**
   * 4401: no token, or a token that is forged, expired or malformed — also an open socket whose token
   * reaches its `exp`. Get a new token.
   */
  Unauthorized: 4401,
  /** 4403: a valid token for another space. Get a token for this space. */
  Forbidden: 4403,
  /**
   * 4408: too much was sent before authentication finished (PreAuthOverflow), or a message sent in
   * chunks stopped arriving (IncompleteMessage, §P7.4). Reconnect.
   */
  PreAuthOverflow: 4408,
  /**
   * 4410: the link (token) was reset by someone in the space: its link generation is older than the
   * space's. Permanent for this token; ask for the new link.
   */
  LinkRevoked: 4410,
  /**
   * 4415: the client opened the space with another engine than the space's (its hello named another,
   * or none on an Automerge space: §P8). Permanent for this client and space.
   */
  UnsupportedEngine: 4415,
  /** 4413: the update would make the stored document larger than allowed. Permanent: do not resend it. */
  DocumentTooLarge: 4413,
  /** 4429: the per-connection message or byte rate was exceeded. Reconnect with backoff. */
  RateLimited: 4429,
  /** 4503: storage is unavailable (the space could not be loaded or written). Reconnect with backoff. */
  StorageUnavailable: 4503,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

export const ErrorKind = {
  /** A frame did not decode. The client has a bug: stop and report. */
  MalformedFrame: 'MalformedFrame',
  /** An update was malformed or belongs to another document. Drop it; do not resend. */
  InvalidUpdate: 'InvalidUpdate',
  /** The token is missing, forged, expired or malformed. Re-authenticate. */
  Unauthorized: 'Unauthorized',
  /** The token is for another space. Re-authenticate for this space. */
  Forbidden: 'Forbidden',
  /** The link was reset by someone in the space (an older link generation). Ask for the new link. */
  LinkRevoked: 'LinkRevoked',
  /** The token is read-only: the update was not applied, stored or relayed. Open the space read-only. */
  ReadOnly: 'ReadOnly',
  /** Too many messages or bytes per second. Reconnect with backoff. */
  RateLimited: 'RateLimited',
  /** A frame was larger than the limit. Permanent: do not resend it. */
  MessageTooBig: 'MessageTooBig',
  /** The document would exceed its size limit. Permanent: do not resend it. */
  DocumentTooLarge: 'DocumentTooLarge',
  /** Too much data before authentication. Reconnect. */
  PreAuthOverflow: 'PreAuthOverflow',
  /** A message sent in chunks stopped arriving before it was whole (§P7.4). Reconnect and send it again. */
  IncompleteMessage: 'IncompleteMessage',
  /** The client opened the space with another engine than the space's (§P8). Stop; reopen it with the space's engine. */
  UnsupportedEngine: 'UnsupportedEngine',
  /** Storage failed. Keep local changes; reconnect with backoff. */
  StorageUnavailable: 'StorageUnavailable',
  /** The server is at its connection limit. Reconnect with backoff. */
  ServerFull: 'ServerFull',
  /** The server is shutting down. Reconnect with backoff. */
  ShuttingDown: 'ShuttingDown',
} as const
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind]

/** What a client does after a close (or an error kind without a close). */
export type NextStep =
  /** Reconnect with backoff and resend what is not acknowledged. */
  | 'retry'
  /** Stop: the token is not (or no longer) good for this space; get a new one. */
  | 'reauthenticate'
  /** Keep the connection, open the space read-only. */
  | 'read-only'
  /** Stop: this client sent something the server will never accept; report it. */
  | 'stop'

export interface CloseRule {
  /** The WebSocket close code (null: an error kind sent without a close). */
  readonly code: number | null
  readonly kind: ErrorKind
  /** Whether reconnecting can help; a permanent close is not retried blindly. */
  readonly permanent: boolean
  readonly next: NextStep
  /** What the user is told, in a sentence. */
  readonly says: string
}

/**
 * PROTOCOL.md §P6 as one table, used by the server (which code goes with which kind) and by the
 * client (what to do next): close code → error kind → next step.
 */
export const CLOSE_RULES: readonly CloseRule[] = [
  {
    code: CloseCode.GoingAway,
    kind: ErrorKind.ShuttingDown,
    permanent: false,
    next: 'retry',
    says: 'the server is restarting',
  },
  {
    code: CloseCode.MessageTooBig,
    kind: ErrorKind.MessageTooBig,
    permanent: true,
    next: 'stop',
    says: 'a change was too large to send',
  },
  {
    code: CloseCode.TryAgainLater,
    kind: ErrorKind.ServerFull,
    permanent: false,
    next: 'retry',
    says: 'the server is busy',
  },
  {
    code: CloseCode.MalformedFrame,
    kind: ErrorKind.MalformedFrame,
    permanent: true,
    next: 'stop',
    says: 'this app sent something the server cannot read',
  },
  {
    code: CloseCode.MalformedFrame,
    kind: ErrorKind.InvalidUpdate,
    permanent: true,
    next: 'stop',
    says: 'the server refused a change as invalid',
  },
  {
    code: CloseCode.Unauthorized,
    kind: ErrorKind.Unauthorized,
    permanent: true,
    next: 'reauthenticate',
    says: 'this link is not valid',
  },
  {
    code: CloseCode.Forbidden,
    kind: ErrorKind.Forbidden,
    permanent: true,
    next: 'reauthenticate',
    says: 'this link is for another space',
  },
  {
    code: CloseCode.PreAuthOverflow,
    kind: ErrorKind.PreAuthOverflow,
    permanent: false,
    next: 'retry',
    says: 'the connection was reset',
  },
  {
    code: CloseCode.PreAuthOverflow,
    kind: ErrorKind.IncompleteMessage,
    permanent: false,
    next: 'retry',
    says: 'a large change stopped arriving',
  },
  {
    code: CloseCode.LinkRevoked,
    kind: ErrorKind.LinkRevoked,
    permanent: true,
    next: 'reauthenticate',
    says: 'this link was reset by someone in the space',
  },
  {
    code: CloseCode.DocumentTooLarge,
    kind: ErrorKind.DocumentTooLarge,
    permanent: true,
    next: 'stop',
    says: 'the space is full',
  },
  {
    code: CloseCode.UnsupportedEngine,
    kind: ErrorKind.UnsupportedEngine,
    permanent: true,
    next: 'stop',
    says: 'this space uses another engine than this app opened it with',
  },
  {
    code: CloseCode.RateLimited,
    kind: ErrorKind.RateLimited,
    permanent: false,
    next: 'retry',
    says: 'too many changes at once',
  },
  {
    code: CloseCode.StorageUnavailable,
    kind: ErrorKind.StorageUnavailable,
    permanent: false,
    next: 'retry',
    says: 'the server cannot store changes right now',
  },
  {
    code: null,
    kind: ErrorKind.ReadOnly,
    permanent: false,
    next: 'read-only',
    says: 'this link can only read',
  },
]

/** The rule for a close code (and, where one code has several kinds, the kind the server named). */
export const closeRule = (code: number, kind?: string | null): CloseRule => {
  const rules = CLOSE_RULES.filter((r) => r.code === code)
  const named = rules.find((r) => r.kind === kind)
  if (named ?? rules[0]) return (named ?? rules[0])!
  // a code this version does not know (a newer server, a proxy): 4xxx codes are the server's refusals
  const permanent = code >= 4400 && code < 4500
  return {
    code,
    kind: (kind ?? `Close${code}`) as ErrorKind,
    permanent,
    next: permanent ? 'stop' : 'retry',
    says: permanent ? 'the server refused the connection' : 'the connection was lost',
  }
}

/** The close code that goes with an error kind (what the server closes with). */
export const closeCodeOf = (kind: ErrorKind): number | null =>
  CLOSE_RULES.find((r) => r.kind === kind)?.code ?? null

/** Whether a client must not blindly reconnect and resend after a close with this code. */
export const isPermanentClose = (code: number): boolean => closeRule(code).permanent
