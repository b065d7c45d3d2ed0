/** What the tracker reads from an AMI packet (AmiPacket from @app/ami satisfies it). */
export interface AmiPacketView {
  get(key: string): string | undefined;
  readonly event: string | undefined;
  /** Channel variables (`ChanVariable` headers), when the packet has any. */
  readonly chanVariables?: ReadonlyMap<string, string>;
  toObject(): Record<string, string | string[]>;
}

/** How trunks and lines are told apart (asterisk.trunks, asterisk.lines: core/line-naming.ts). */
export interface LineRules {
  /** Endpoint names or glob patterns (`*`, `?`), or `context:<glob>`, that are trunks. */
  trunks: readonly string[];
  /** When not empty: only endpoints matching one of these names or globs are lines. */
  lines: readonly string[];
}

/** The seed's `asterisk` block as the tracker needs it. */
export interface AsteriskTrackerOptions {
  /** Channel technology prefix of the users' lines: 'SIP/' or 'PJSIP/'. */
  protocol: string;
  /** Queue member interface of a line, `{0}` = the line: 'Local/{0}@from-queue/n'. */
  queueExtensionFormat: string;
  /** Show a ringing call on Newstate Ringing (true) or on DialBegin (false). */
  sendRingStartedOnRingingState: boolean;
  /** packetInfoConfig (docs/asterisk.md): what to copy into the Call's callContext. */
  packetInfoConfig: string;
  /** Log every queue member change of a line. */
  traceQueuesState: boolean;
  /** Trunks (asterisk.trunks) and, when set, the only lines (asterisk.lines): core/line-naming.ts. */
  lineRules?: LineRules;
  /** Ringing incoming calls can be answered from the CRM (asterisk.answerMode): the ANSWER bit. */
  canAnswer?: boolean;
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
