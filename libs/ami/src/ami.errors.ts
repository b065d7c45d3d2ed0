/** Stable codes of every error libs/ami raises; the edge maps them to HTTP statuses or protocol errors. */
export enum AmiErrorCode {
  /** A packet over maxPacketBytes, or bytes that are not AMI (e.g. no banner). The connection is reset. */
  Protocol = 'AMI_PROTOCOL',
  /** A header name or value that would break the framing (CR, LF, or a bad key). Nothing was sent. */
  Injection = 'AMI_INJECTION',
  /** The connection closed (or was never open) while the action waited. */
  ConnectionClosed = 'AMI_CONNECTION_CLOSED',
  /** No answer within the action's timeout. */
  Timeout = 'AMI_TIMEOUT',
  /** The caller's AbortSignal fired. */
  Aborted = 'AMI_ABORTED',
  /** Too many actions waiting: the bounded queue is full. */
  QueueFull = 'AMI_QUEUE_FULL',
  /** Asterisk refused the login. */
  AuthFailed = 'AMI_AUTH_FAILED',
  /** Asterisk answered `Response: Error` to an action. */
  ActionFailed = 'AMI_ACTION_FAILED',
  /** The client was closed by its owner. */
  Closed = 'AMI_CLIENT_CLOSED',
  /** A scenario file (replay) that cannot be read or parsed; the message names file and line. */
  Scenario = 'AMI_SCENARIO',
}

export class AmiError extends Error {
  override name = 'AmiError';
  constructor(
    readonly code: AmiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What of an error goes into a log line: code and message (never fields of an action). */
export function errorSummary(err: unknown): { code?: string; message: string } {
  if (err instanceof AmiError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}
