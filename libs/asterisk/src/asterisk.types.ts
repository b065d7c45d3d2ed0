/** What the tracker reads from an AMI packet (AmiPacket from @app/ami satisfies it). */
export interface AmiPacketView {
  get(key: string): string | undefined;
  readonly event: string | undefined;
  /** Channel variables (`ChanVariable` headers), when the packet has any. */
  readonly chanVariables?: ReadonlyMap<string, string>;
}

/** The seed's `asterisk` block, typed (the app validates and converts it). */
export interface AsteriskTrackerOptions {
  /** Channel technology prefix of the users' lines: 'SIP/' or 'PJSIP/'. */
  protocol: string;
  /** Queue member interface of a line, `{0}` = the line: 'Local/{0}@from-queue/n'. */
  queueExtensionFormat: string;
  /** Show a ringing call on Newstate Ringing (true) or on DialBegin (false). */
  sendRingStartedOnRingingState: boolean;
  /** packetInfoConfig (see README): what to copy into the Call's callContext. */
  packetInfoConfig: string;
  /** Whether AnswerCall is possible (adds ANSWER to a ringing incoming call). */
  canAnswer?: boolean;
}

/** Kinds of originate the library sends and the tracker correlates. */
export type OriginateKind = 'call' | 'unpark';

export interface PendingOriginate {
  actionId: string;
  line: string;
  kind: OriginateKind;
  /** The number dialled (call) or the parking space (unpark). */
  target: string;
  /** unpark: the held call to take back. */
  callId?: string;
}

/** One queue membership of a line as Asterisk reports it. */
export interface QueueMemberState {
  line: string;
  queue: string;
  iface: string;
  status: number;
  paused: boolean;
  inCall: boolean;
  reason?: string;
}
