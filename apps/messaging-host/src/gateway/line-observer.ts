/**
 * What the gateway offers to modules beside it (the CRM module): a watch on the lines bound on this
 * node, a say in the calls the panels see, and a check of OpenConnection. Injection tokens only;
 * the gateway works without any of them.
 */
import type { Call, MessagingLibrary, MsgErrorType } from '@app/messaging';

/** A line bound on this node by its first panel (PROTOCOL.md "Session"). */
export interface BoundLine {
  line: string;
  library: MessagingLibrary;
  libraryName: string;
  /** sessionServiceParams of the OpenConnection that bound it (as the client sent them). */
  userUId: string;
  userContactUId: string | undefined;
  serviceUrl: string | undefined;
}

/** How an observer talks to the panels of a line. */
export interface LineSink {
  /** Sends a call event (e.g. 15 CALL_SAVED_IN_DB) to every panel of `line` on this node, if any. */
  deliverCall(line: string, eventType: number, call: Call): void;
}

/**
 * Watches the lines bound on this node. Called synchronously by the line hub; must not throw.
 */
export abstract class LineObserver {
  /** Called once by the gateway with the way to reach the panels. */
  abstract attach(sink: LineSink): void;
  /** The line's first panel bound it (the line is now held by this node). */
  abstract lineBound(bound: BoundLine): void;
  /** The line's last panel left. */
  abstract lineReleased(line: string): void;
  /** The call as the panels of `line` see it (e.g. with its databaseUId); `call` is not changed. */
  abstract decorateCall(line: string, call: Call): Call;
}

/** An OpenConnection to check, after the gateway's own security checks passed. */
export interface OpenConnectionClaim {
  line: string;
  userUId: string;
  serviceUrl: string | undefined;
  /** For log lines. */
  peer: string;
}

/** Why an OpenConnection is refused: an ERROR event of this type, then the socket is closed. */
export interface OpenConnectionRefusal {
  errorType: MsgErrorType;
  code: string;
  message: string;
}

/** The check of OpenConnection in security.mode crm (LogInMsgServer). */
export abstract class OpenConnectionVerifier {
  /** null when the connection may go on. Never throws. */
  abstract verify(claim: OpenConnectionClaim): Promise<OpenConnectionRefusal | null>;
}
