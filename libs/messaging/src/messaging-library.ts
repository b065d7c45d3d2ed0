import type { Observable } from 'rxjs';
import type { Call, MsgEventType } from './call.model';
import type { MessagingCommandError } from './messaging.errors';
import type { Readiness, ReadinessReporter } from './readiness';

/** Per-line settings a client or the REST API may pass (all optional; library defaults apply). */
export interface LineSettings {
  /** Dialplan context for calls made from this line (overrides the library's default). */
  originateContext?: string;
  /** Context that takes a parked call back (overrides the library's default). */
  parkingLotContext?: string;
  /** From connectionParams: prefer blind transfer in the panel. */
  useBlindTransfer?: boolean;
  /** From connectionParams: send RAW_DATA (event 16) with the PBX packets behind the line's calls. */
  debugMode?: boolean;
}

/** Options of an outgoing call beyond the number (REST; a panel's MakeCall sends none). */
export interface MakeCallOptions {
  /** Dialplan context; default: the line's settings, then the library's configuration. */
  context?: string;
  /** Caller id shown to the called party. */
  callerId?: string;
  /** Channel variables set on the originated channel. */
  variables?: Record<string, string>;
}

/** What a hold toggle did. */
export interface HoldResult {
  call: Call;
  /** The parking space the remote party was parked in (when the call went on hold by parking). */
  parkingSpace?: string;
}

/** One queue membership of a line. */
export interface QueueMembership {
  queue: string;
  /** The member interface, e.g. Local/305@from-queue/n. */
  memberInterface: string;
  paused: boolean;
  pausedReason?: string;
  /** Asterisk's device status number of the member (0..8), when known. */
  status?: number;
  /** Whether the member is on a call now. */
  inCall?: boolean;
}

/** What the REST API shows of a line. */
export interface LineStatus {
  line: string;
  calls: Call[];
  queues: QueueMembership[];
  agentState: AgentState;
}

/** What a library can do; the gateway answers error 4 for what is missing. */
export interface LibraryCapabilities {
  answerCall: boolean;
  hold: boolean;
  blindTransfer: boolean;
  consultTransfer: boolean;
  dtmf: boolean;
  agentState: boolean;
  dnd: boolean;
}

/** A call event (5, 6, 7, 8, 9, 13, 17) for one line. */
export interface CallEvent {
  type:
    | MsgEventType.RING_STARTED
    | MsgEventType.RING_FINISHED
    | MsgEventType.COMMUTATION_STARTED
    | MsgEventType.PUT_HOLD_ACTION
    | MsgEventType.END_HOLD_ACTION
    | MsgEventType.ABONENT_BUSY
    | MsgEventType.CALL_INFO_CHANGED;
  line: string;
  call: Call;
}

/** Event 11: the line's buttons; no callId = the line itself. */
export interface LineStateEvent {
  type: MsgEventType.LINE_STATE_CHANGED;
  line: string;
  callFeaturesSet: number;
  callId?: string;
}

/** Event 12: the agent state code of the line (e.g. "Active", "Away"). */
export interface AgentStateEvent {
  type: MsgEventType.AGENT_STATE_CHANGED;
  line: string;
  code: string;
}

/** Event 3, asynchronous: a command that was accepted failed later (e.g. the originated call was not answered). */
export interface LineErrorEvent {
  type: MsgEventType.ERROR;
  line: string;
  callId?: string;
  error: MessagingCommandError;
}

/** Event 16: the PBX packets behind a line's calls (diagnostics). */
export interface RawDataEvent {
  type: MsgEventType.RAW_DATA;
  line: string;
  data: Record<string, string | string[]>;
}

export type LineEvent =
  CallEvent | LineStateEvent | AgentStateEvent | LineErrorEvent | RawDataEvent;

/** The agent (queue) state of a line. */
export interface AgentState {
  code: string;
  reason?: string;
  wrapUp: boolean;
  /** Whether the line is paused in its queues now. */
  paused: boolean;
}

/**
 * One client's view of a line: its events and its commands. Several sessions may watch the same line
 * (a second tab); they share the line's calls. Every command rejects with MessagingCommandError.
 */
export interface LineSession {
  readonly line: string;
  /** Events of this line from the moment of opening (use the snapshot for what was before). */
  readonly events$: Observable<LineEvent>;
  /** Active calls of the line (event 10's ActiveCalls). */
  activeCalls(): Call[];
  /** The call the panel's buttons follow, or null (event 10's CurrentCall). */
  currentCall(): Call | null;
  /** callFeaturesSet of the line itself (event 11 without callId). */
  lineFeatures(): number;
  settings(): LineSettings;
  updateSettings(settings: Partial<LineSettings>): void;
  makeCall(target: string, options?: MakeCallOptions): Promise<Call>;
  answerCall(callId: string): Promise<void>;
  dropCall(callId: string): Promise<void>;
  /** A toggle: hold a connected call, take back a held one. Resolves with the call after the command. */
  holdCall(callId: string): Promise<HoldResult>;
  blindTransferCall(callId: string, target: string): Promise<void>;
  makeConsultCall(callId: string, target: string): Promise<Call>;
  transferCall(callId: string, consultCallId: string): Promise<void>;
  cancelTransfer(callId: string, consultCallId: string): Promise<void>;
  sendDtmf(callId: string, digits: string): Promise<void>;
  agentState(): AgentState;
  setAgentState(code: string, reason?: string): Promise<AgentState>;
  setWrapUpState(active: boolean): Promise<AgentState>;
  /** Pauses or unpauses the line in one queue, or in all its queues when `queue` is omitted. */
  setQueuePause(paused: boolean, reason?: string, queue?: string): Promise<QueueMembership[]>;
  /** Stops this session's stream (the line's calls go on). */
  close(): void;
}

/**
 * A messaging library (one PBX integration). Implementations are Nest providers decorated with
 * `@MessagingLibraryProvider({ name, aliases })`; the registry finds them.
 */
export abstract class MessagingLibrary implements ReadinessReporter {
  abstract readiness(): Readiness;
  /** Readiness changes (replays the current value on subscribe). */
  abstract readonly readiness$: Observable<Readiness>;
  abstract capabilities(): LibraryCapabilities;
  /** Opens a session on a line (e.g. "305"). Throws MessagingCommandError(InvalidArgument) on a bad line. */
  abstract openLine(line: string, settings?: LineSettings): LineSession;
  /** Active calls of a line without opening a session (REST). */
  abstract activeCalls(line: string): Call[];
  /** Lines that have at least one active call. */
  abstract busyLines(): string[];
  /** An active call by id, with the line it belongs to (REST). */
  abstract findCall(callId: string): { line: string; call: Call } | undefined;
  /** Calls, queue memberships and agent state of a line (REST). */
  abstract lineStatus(line: string): LineStatus;

  /**
   * Numbers of live internal objects by name (calls, channels, pending actions ...) for memory
   * diagnostics: each is back to its idle value once no call is up. None by default.
   */
  internalSizes(): Record<string, number> {
    return {};
  }

  /**
   * Every line's events (call events, 11, 12, 3; never RAW_DATA) from the moment of subscribing,
   * for watchers of the whole PBX (the event stream, the web console). `undefined`: this library
   * cannot; watchers then open the lines they want with `openLine`.
   */
  watchAllLines(): Observable<LineEvent> | undefined {
    return undefined;
  }
}
