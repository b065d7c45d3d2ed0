import { MsgErrorType } from './call.model';

/** Why a command on a line was refused; the gateway turns it into an ERROR event, REST into a status. */
export enum MessagingErrorCode {
  /** No active call with that id on the line. */
  NoSuchCall = 'NO_SUCH_CALL',
  /** The call exists but belongs to another line. */
  WrongLine = 'WRONG_LINE',
  /** The library has no working connection to the PBX now. */
  NotConnected = 'NOT_CONNECTED',
  /** The library does not support this command (or it is not configured). */
  NotImplemented = 'NOT_IMPLEMENTED',
  /** A missing or malformed parameter (empty target, bad digits, ...). */
  InvalidArgument = 'INVALID_ARGUMENT',
  /** The call is not in a state where the command applies (e.g. transfer of a ringing call). */
  InvalidState = 'INVALID_STATE',
  /** The PBX refused the action (its message is in `detail`). */
  ActionFailed = 'ACTION_FAILED',
  /** An outgoing call could not be set up (busy, no answer, congestion...). */
  OriginateFailed = 'ORIGINATE_FAILED',
  /** The line session was closed. */
  LineClosed = 'LINE_CLOSED',
}

/** A command that could not be carried out. */
export class MessagingCommandError extends Error {
  override name = 'MessagingCommandError';
  constructor(
    readonly code: MessagingErrorCode,
    message: string,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** PROTOCOL.md's errorType for this error. */
  get errorType(): MsgErrorType {
    return this.code === MessagingErrorCode.NotImplemented
      ? MsgErrorType.COMMAND_NOT_IMPLEMENTED
      : MsgErrorType.COMMAND;
  }
}

export enum MessagingRegistryErrorCode {
  /** `messaging.defaultLibrary` names no registered library. */
  UnknownLibrary = 'UNKNOWN_LIBRARY',
  /** Two libraries claim the same name or alias. */
  DuplicateName = 'DUPLICATE_LIBRARY_NAME',
  /** A class carries the library decorator but does not extend MessagingLibrary. */
  NotALibrary = 'NOT_A_MESSAGING_LIBRARY',
}

/** Stops the start: the registry cannot be built. `known` lists the registered names. */
export class MessagingRegistryError extends Error {
  override name = 'MessagingRegistryError';
  constructor(
    readonly code: MessagingRegistryErrorCode,
    message: string,
    readonly known: readonly string[],
  ) {
    super(`${message} (known libraries: ${known.length ? known.join(', ') : 'none'})`);
  }
}
