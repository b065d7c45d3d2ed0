/**
 * Owns the shapes around one AMI connection: its options, the owner's handlers, what a finished
 * handshake reports, the wire records the recorder sees, and the default server-side event filter.
 * Types and constants only; the connection itself is ami-socket.ts.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { AmiError } from './ami.errors';
import type { AmiLogger } from './ami-logger';
import type { AmiObserver } from './ami-observer';
import type { AmiTimers } from './ami-timers';
import type { AmiPacket } from './protocol';

/**
 * Server-side event filter sent after login unless the owner gives its own: the noise a
 * messaging host never needs (Asterisk matches each line as a regular expression against the
 * event text; a leading `!` drops what matches).
 */
export const DEFAULT_AMI_EVENT_FILTER: readonly string[] = Object.freeze([
  '!Event: VarSet',
  '!Event: Newexten',
  '!Event: RTCP',
  '!Event: Cdr',
  '!Event: CEL',
  '!Event: AGIExec',
  '!Event: ChannelTalking',
  '!Event: SuccessfulAuth',
  '!Event: ChallengeSent',
]);

export type AmiAuthType = 'plain' | 'md5';

/** One chunk of wire traffic, as the recorder stores it. `meta` carries a note instead of bytes. */
export interface AmiWireRecord {
  dir: 'rx' | 'tx' | 'meta';
  bytes: Buffer;
  note?: string;
  /** For `tx`: the Action written. */
  action?: string;
  /** Set by AmiClient: 1 for its first connection attempt, one more for each later attempt. */
  conn?: number;
}

export interface AmiSocketOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** AMI over TLS: true, or tls.connect options (ca, rejectUnauthorized, servername, ...). */
  tls?: boolean | TlsConnectionOptions;
  authType?: AmiAuthType;
  /** The Login's `Events:` value: 'on' (default), 'off', or event classes ('call,agent,system'). */
  events?: string;
  /** Lines sent as `Action: Filter` / `Operation: Add` after login. Default DEFAULT_AMI_EVENT_FILTER. */
  eventFilter?: readonly string[];
  /** Budget of the whole handshake: TCP/TLS connect, banner, login, filters, FullyBooted. Default 10000. */
  connectTimeoutMs?: number;
  actionTimeoutMs?: number;
  /**
   * This many actions in a row that got no answer at all (each timed out) mean the peer is deaf:
   * the connection is reset (AMI_TIMEOUT) and made again by the client. Default 3; 0: never.
   */
  deafAfterTimeouts?: number;
  maxPacketBytes?: number;
  maxPendingActions?: number;
  logger?: AmiLogger;
  timers?: AmiTimers;
  /** Sees every chunk read and written, unredacted (the recorder redacts). */
  tap?: (record: AmiWireRecord) => void;
  /** Instrumentation hooks (metrics): reads, decode errors, actions. */
  observer?: AmiObserver;
}

export interface AmiSocketHandlers {
  /** Every Event packet not owned by a pending action, in wire order (also during the handshake). */
  onEvent(packet: AmiPacket): void;
  /** Bytes arrived (keepalive activity): once per read, not per packet. */
  onData?(): void;
  /** The banner arrived: the login starts. */
  onBanner?(version: string): void;
  /** The connection ended after open() resolved: EOF, socket error, protocol error or destroy(). */
  onClose(error: AmiError): void;
}

export interface AmiHandshake {
  /** From the banner: `Asterisk Call Manager/9.0.0` gives `9.0.0`. */
  serverVersion: string;
  banner: string;
  /** Whether `Event: FullyBooted` was seen (false: not within the handshake budget). */
  fullyBooted: boolean;
  /** Filter lines Asterisk refused, with its message. */
  rejectedFilters: { filter: string; message: string }[];
}
