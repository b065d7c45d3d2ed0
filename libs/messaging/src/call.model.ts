/**
 * The Call model and enums of the Creatio CTI protocol (see docs PROTOCOL.md, "Call object").
 * Numbers, GUIDs and bit values are the wire values; do not renumber.
 */

/** `state` of a Call. */
export enum CallState {
  NONE = 0,
  ALERTING = 1,
  CONNECTED = 2,
  HOLDED = 3,
  CONFERENCED = 4,
  UNKNOWN = 5,
  BUSY = 6,
}

/** `direction` of a Call: lowercase GUID strings. */
export enum CallDirection {
  IN = '1d96a65f-2131-4916-8825-2d142b1000b2',
  OUT = '53f71b5f-7e17-4cf5-bf14-6a59212db422',
  UNKNOWN = 'c072be2c-3d82-4468-9d4a-6db47d1f4cca',
}

/** `callFeaturesSet` bits: the buttons the panel offers. */
export enum CallFeature {
  NONE = 0,
  RECALL = 0x1,
  DIAL = 0x2,
  ANSWER = 0x4,
  DROP = 0x8,
  HOLD = 0x10,
  UNHOLD = 0x20,
  SETUP_TRANSFER = 0x40,
  COMPLETE_TRANSFER = 0x80,
  BLIND_TRANSFER = 0x100,
  MAKE_CONSULT_CALL = 0x200,
  DTMF = 0x400,
  VIDEO = 0x800,
  MUTE = 0x1000,
  CANCEL_COMPLETE_TRANSFER = 0x2000,
}

/** `eventType` of a server -> client message. */
export enum MsgEventType {
  LIBRARY_INITIALIZED = 1,
  CONNECTION_CREATED = 2,
  ERROR = 3,
  COMMAND_INFO = 4,
  RING_STARTED = 5,
  RING_FINISHED = 6,
  COMMUTATION_STARTED = 7,
  PUT_HOLD_ACTION = 8,
  END_HOLD_ACTION = 9,
  ACTIVE_CALL_SNAPSHOT = 10,
  LINE_STATE_CHANGED = 11,
  AGENT_STATE_CHANGED = 12,
  ABONENT_BUSY = 13,
  DISCONNECTED = 14,
  CALL_SAVED_IN_DB = 15,
  RAW_DATA = 16,
  CALL_INFO_CHANGED = 17,
  DTMF_ENTERED = 18,
}

/** `errorType` of an ERROR event (the numbers of Creatio's `MsgErrorType`). */
export enum MsgErrorType {
  GENERAL = 0,
  LOAD_LIBRARY = 1,
  OPEN_CONNECTION = 2,
  COMMAND = 3,
  COMMAND_NOT_IMPLEMENTED = 4,
  CALL_CENTRE_NOT_AVAILABLE = 5,
  /** Authentication failed (Creatio's client uses it when LogInMsgServer refuses the user). */
  AUTHENTICATION = 6,
  CALL_SAVING = 7,
  EVENT_HANDLER = 8,
  CONNECTION_CONFIG = 9,
}

/** A call as one line sees it (camelCase JSON, only the protocol's keys). */
export interface Call {
  /** Stable for the whole life of the call, hold and transfer included. */
  id: string;
  databaseUId?: string;
  userContactUId?: string;
  /** The user's line, e.g. "305". */
  deviceId: string;
  callerId: string;
  calledId: string;
  direction: CallDirection;
  state: CallState;
  oldState: CallState;
  callFeaturesSet: number;
  /** Extra data (packetInfoConfig), JSON text. */
  callContext?: string;
  callContextType?: string;
  /** ISO 8601. */
  startTime?: string;
  endTime?: string;
  redirectingId?: string;
  redirectionId?: string;
  /** ISO 8601 time of this view of the call. */
  timeStamp?: string;
}

/** Features the panel may use on a connected call. */
export const CONNECTED_FEATURES =
  CallFeature.DROP |
  CallFeature.HOLD |
  CallFeature.DTMF |
  CallFeature.MAKE_CONSULT_CALL |
  CallFeature.BLIND_TRANSFER;

/** Features of the primary call while a consultation is in progress. */
export const CONSULT_PRIMARY_FEATURES =
  CallFeature.DROP |
  CallFeature.UNHOLD |
  CallFeature.COMPLETE_TRANSFER |
  CallFeature.CANCEL_COMPLETE_TRANSFER;

/**
 * callFeaturesSet for a call in `state` (PROTOCOL.md, "State -> event").
 * `canAnswer` adds ANSWER to a ringing call; `consultPrimary` gives the primary of a consultation.
 */
export function callFeaturesFor(
  state: CallState,
  opts: { canAnswer?: boolean; consultPrimary?: boolean; incoming?: boolean } = {},
): number {
  if (opts.consultPrimary && state !== CallState.NONE) return CONSULT_PRIMARY_FEATURES;
  switch (state) {
    case CallState.ALERTING:
      return (
        CallFeature.DROP | (opts.canAnswer && opts.incoming !== false ? CallFeature.ANSWER : 0)
      );
    case CallState.CONNECTED:
    case CallState.CONFERENCED:
      return CONNECTED_FEATURES;
    case CallState.HOLDED:
      return CallFeature.DROP | CallFeature.UNHOLD;
    case CallState.BUSY:
      return CallFeature.DROP;
    default:
      return CallFeature.NONE;
  }
}

/** The event a transition to `state` produces (from `oldState`); undefined when none. */
export function eventTypeForTransition(
  state: CallState,
  oldState: CallState,
): MsgEventType | undefined {
  switch (state) {
    case CallState.ALERTING:
      return MsgEventType.RING_STARTED;
    case CallState.CONNECTED:
      return oldState === CallState.HOLDED
        ? MsgEventType.END_HOLD_ACTION
        : MsgEventType.COMMUTATION_STARTED;
    case CallState.HOLDED:
      return MsgEventType.PUT_HOLD_ACTION;
    case CallState.BUSY:
      return MsgEventType.ABONENT_BUSY;
    case CallState.NONE:
      return MsgEventType.RING_FINISHED;
    default:
      return undefined;
  }
}
