import { MsgErrorType } from '@app/messaging';

/** Why the gateway refused a client frame or command (the `internalErrorCode` of an ERROR event). */
export enum GatewayErrorCode {
  /** The frame is larger than server.maxCommandLength. */
  CommandTooLong = 'COMMAND_TOO_LONG',
  /** A binary frame on the plain WebSocket transport (commands are JSON text). */
  BinaryFrame = 'BINARY_FRAME',
  /** The frame is not JSON, or not a JSON object. */
  BadJson = 'BAD_JSON',
  /** A required field is missing or has the wrong type. */
  MissingField = 'MISSING_FIELD',
  /** A JSON-string parameter (connectionParams, a call) does not parse. */
  BadParameter = 'BAD_PARAMETER',
  /** Too many commands (or calls) per second on this connection (limits.*PerSecond). */
  RateLimited = 'RATE_LIMITED',
  /** The command name is not part of the protocol. */
  UnknownCommand = 'UNKNOWN_COMMAND',
  /** The command is part of the protocol but this library does not support it. */
  NotImplemented = 'NOT_IMPLEMENTED',
  /** A line command before OpenConnection (or after CloseConnection). */
  NotConnected = 'NOT_CONNECTED',
  /** LoadLibrary named no registered library. */
  UnknownLibrary = 'UNKNOWN_LIBRARY',
  /** Another user holds the line. */
  LineBusy = 'LINE_OWNED_BY_OTHER_USER',
  /** disableCallCentre is set for the line. */
  CallCentreDisabled = 'CALL_CENTRE_DISABLED',
  /** Security refused the connection (origin, service URL, token). */
  Forbidden = 'FORBIDDEN',
  /** A SignalR protocol violation (bad handshake, bad record). */
  SignalRProtocol = 'SIGNALR_PROTOCOL',
  /** The messaging library refused the command (its code follows in `data`). */
  CommandFailed = 'COMMAND_FAILED',
  /** Anything else; details are logged. */
  Internal = 'INTERNAL',
}

/** A refusal that becomes an ERROR event (eventType 3) for the client. */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode | string,
    readonly errorType: MsgErrorType,
    message: string,
    /** Close the socket after the error event (errors 2 and 5, PROTOCOL.md "Session" 5). */
    readonly closeAfter = false,
  ) {
    super(message);
  }
}
