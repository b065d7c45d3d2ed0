/**
 * Owns the shapes of the call model: a channel (`Chan`), a line's call (`TrackedCall`), what the
 * tracker tells its owner (`TrackerSink`, `TrackerNotice`) and a pending Originate. Types only:
 * no state, no behaviour.
 */
import type { CallDirection, CallState, LineEvent } from '@app/messaging';
import type { AmiPacketView, QueueMemberState } from '../asterisk.types';

/** Asterisk's ChannelState numbers. */
export const enum ChanState {
  Down = 0,
  Ring = 4,
  Ringing = 5,
  Up = 6,
  Busy = 7,
}

/** One channel Asterisk told us about (by Uniqueid). */
export interface Chan {
  uid: string;
  name: string;
  linkedid: string;
  state: number;
  callerNum: string;
  connectedNum: string;
  exten: string;
  /** The user's line for `${protocol}<line>-<hex>` channels. */
  line?: string;
  /** `Local/x@ctx-<hex>` without `;1`/`;2`, for Local channel halves. */
  localBase?: string;
  localHalf?: 1 | 2;
  bridge?: string;
  /** Who dialled this channel (Uniqueid), when a DialBegin named a caller. */
  dialedBy?: string;
  /** Calls of the line bound to this (line) channel: the call, and its consultation while one runs. */
  calls: TrackedCall[];
  /** A held call this line channel is taking back (unpark originate or park timeout comeback). */
  retrievalFor?: TrackedCall;
}

/** One line's view of a call. */
export interface TrackedCall {
  id: string;
  line: string;
  direction: CallDirection;
  state: CallState;
  oldState: CallState;
  callerId: string;
  calledId: string;
  startTime: string;
  endTime?: string;
  /** The line's channel (Uniqueid) carrying the call now; unset while parked. */
  channel?: string;
  /** The other party (Uniqueid, resolved through Local channel halves). */
  remote?: string;
  /** Made by an Originate (the operator's phone rings first). */
  originated: boolean;
  originateOk: boolean;
  /** The line's channel dials the far end (after answering an originate). */
  dialingOut: boolean;
  /** RING_STARTED was sent (the call is on the panel). */
  shown: boolean;
  hold?: 'park' | 'handset';
  parkee?: string;
  parkingSpace?: string;
  parkingLot?: string;
  /** A line channel ringing to take the held call back. */
  retrieval?: string;
  /** The consultation call of this primary (Atxfer). */
  consult?: TrackedCall;
  /** The primary of this consultation call. */
  primary?: TrackedCall;
  context: Record<string, string>;
  /** ActionID of our Originate that made the call. */
  actionId?: string;
  /** Called once when the call shows (RING_STARTED): MakeCall resolves with it. */
  whenShown?: (call: TrackedCall) => void;
  ended: boolean;
}

/** What the library learns from the tracker besides the line events. */
export type TrackerNotice =
  | { kind: 'connected'; call: TrackedCall }
  | { kind: 'line-idle'; line: string }
  | { kind: 'ended'; call: TrackedCall }
  | { kind: 'originate-response'; actionId: string; packet: AmiPacketView; call?: TrackedCall }
  | { kind: 'parked'; call: TrackedCall; space: string; parkee: string }
  | { kind: 'consult-started'; primary: TrackedCall; consult: TrackedCall }
  | { kind: 'queue-member'; member: QueueMemberState; event: string };

export interface TrackerSink {
  /** A line event (call events, event 11). */
  emit(event: LineEvent): void;
  /** Whether some session of the line wants RAW_DATA. */
  wantsRaw(line: string): boolean;
  /** Whether any line wants RAW_DATA (checked first, per packet). */
  anyRaw(): boolean;
  notice(notice: TrackerNotice): void;
}

/** An Originate the library sent, so that the tracker ties the ringing channel to it. */
export interface PendingOriginate {
  actionId: string;
  line: string;
  kind: 'call' | 'unpark';
  /** The number dialled (call) or the parking space (unpark). */
  target: string;
  /** unpark: the held call to take back. */
  callId?: string;
  /** Called when the call of this originate shows (MakeCall resolves with it). */
  bound?: (call: TrackedCall) => void;
}
