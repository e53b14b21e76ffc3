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
  /** 4401: no token, or a token that is forged, expired or malformed. Get a new token. */
  Unauthorized: 4401,
  /** 4403: a valid token for another space. Get a token for this space. */
  Forbidden: 4403,
  /** 4408: too much was sent before authentication finished. Reconnect; send less before the server answers. */
  PreAuthOverflow: 4408,
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
  /** Storage failed. Keep local changes; reconnect with backoff. */
  StorageUnavailable: 'StorageUnavailable',
  /** The server is at its connection limit. Reconnect with backoff. */
  ServerFull: 'ServerFull',
  /** The server is shutting down. Reconnect with backoff. */
  ShuttingDown: 'ShuttingDown',
} as const
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind]

/** Whether a client may reconnect and resend after a close with this code. */
export const isPermanentClose = (code: number): boolean =>
  code === CloseCode.MalformedFrame ||
  code === CloseCode.MessageTooBig ||
  code === CloseCode.DocumentTooLarge ||
  code === CloseCode.Unauthorized ||
  code === CloseCode.Forbidden
