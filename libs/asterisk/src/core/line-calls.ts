/**
 * Owns the line's calls: the calls by id and by line, their state machine (transition, end,
 * forget) and the channel a call is bound to. The ONLY emitter of call events and of event 11 on
 * a call's end; rooms that keep their own index of calls clean it in an `onForget` hook.
 * May not touch the channel table's maps (reads them) nor any room's state.
 */
import {
  CallDirection,
  CallFeature,
  CallState,
  CONSULT_PRIMARY_FEATURES,
  MsgEventType,
  callFeaturesFor,
  eventTypeForTransition,
  type Call,
  type CallEvent,
} from '@app/messaging';
import type { AmiPacketView } from '../asterisk.types';
import { extractPacketInfo, type PacketInfoField } from '../packet-info';
import { callIdOf } from './call-id';
import type { ChannelTable } from './channel-table';
import type { Chan, TrackedCall, TrackerSink } from './tracker-model';

let isoMs = 0;
let isoText = '';

/** The current time in ISO 8601, formatted once per millisecond (every call event carries it). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export class LineCalls {
  readonly callsById = new Map<string, TrackedCall>();
  readonly lineCalls = new Map<string, TrackedCall[]>();
  private readonly channels: Map<string, Chan>;
  private readonly forgetHooks: Array<(call: TrackedCall) => void> = [];

  constructor(
    table: ChannelTable,
    private readonly sink: TrackerSink,
    private readonly infoFields: PacketInfoField[],
  ) {
    this.channels = table.channels;
  }

  /** Runs `hook` for every call forgotten (ended), before the 'ended' notice. */
  onForget(hook: (call: TrackedCall) => void): void {
    this.forgetHooks.push(hook);
  }

  // ---------------------------------------------------------------- queries

  activeCalls(line: string): Call[] {
    return (this.lineCalls.get(line) ?? []).filter((c) => c.shown).map((c) => this.toCall(c));
  }

  tracked(line: string): TrackedCall[] {
    return [...(this.lineCalls.get(line) ?? [])];
  }

  hasCalls(line: string): boolean {
    return (this.lineCalls.get(line)?.length ?? 0) > 0;
  }

  busyLines(): string[] {
    return [...this.lineCalls.entries()].filter(([, v]) => v.some((c) => c.shown)).map(([k]) => k);
  }

  /** The call the panel's buttons follow: the primary of a consultation, else the talking call, else the newest. */
  currentCall(line: string): TrackedCall | undefined {
    const calls = (this.lineCalls.get(line) ?? []).filter((c) => c.shown);
    if (calls.length === 0) return undefined;
    const primary = calls.find((c) => c.consult && !c.consult.ended);
    if (primary) return primary;
    for (let i = calls.length - 1; i >= 0; i--) {
      if (calls[i]!.state === CallState.CONNECTED) return calls[i];
    }
    for (let i = calls.length - 1; i >= 0; i--) {
      if (calls[i]!.state === CallState.ALERTING) return calls[i];
    }
    return calls[calls.length - 1];
  }

  featuresOf(call: TrackedCall): number {
    if (call.state !== CallState.NONE && call.consult && !call.consult.ended) {
      return CONSULT_PRIMARY_FEATURES;
    }
    return callFeaturesFor(call.state);
  }

  toCall(c: TrackedCall): Call {
    const call: Call = {
      id: c.id,
      deviceId: c.line,
      callerId: c.callerId,
      calledId: c.calledId,
      direction: c.direction,
      state: c.state,
      oldState: c.oldState,
      callFeaturesSet: this.featuresOf(c),
      startTime: c.startTime,
      timeStamp: isoNow(),
    };
    if (c.endTime) call.endTime = c.endTime;
    if (Object.keys(c.context).length > 0) call.callContext = JSON.stringify(c.context);
    return call;
  }

  // ---------------------------------------------------------------- the state machine

  addCall(
    ch: Chan,
    direction: CallDirection,
    callerId: string,
    calledId: string,
    /** Tells a second call of the same line channel apart (a consultation: its far end). */
    salt = '',
  ): TrackedCall {
    let id = callIdOf(ch.line!, ch.uid, salt);
    // Never two live calls with one id (a channel's Uniqueid is unique; this is a safety net).
    for (let n = 1; this.callsById.has(id); n++) id = callIdOf(ch.line!, ch.uid, `${salt}#${n}`);
    const call: TrackedCall = {
      id,
      line: ch.line!,
      direction,
      state: CallState.NONE,
      oldState: CallState.NONE,
      callerId,
      calledId,
      startTime: isoNow(),
      channel: ch.uid,
      originated: false,
      originateOk: false,
      dialingOut: false,
      shown: false,
      context: {},
      ended: false,
    };
    ch.calls.push(call);
    this.callsById.set(call.id, call);
    let list = this.lineCalls.get(call.line);
    if (!list) this.lineCalls.set(call.line, (list = []));
    list.push(call);
    return call;
  }

  collect(call: TrackedCall, p: AmiPacketView): void {
    if (this.infoFields.length > 0) extractPacketInfo(this.infoFields, p, call.context);
  }

  /** Moves a call to `state`, sending the event of the transition. */
  transition(call: TrackedCall, state: CallState): void {
    if (call.ended) return;
    if (!call.shown) {
      if (state === CallState.NONE) {
        this.forget(call);
        return;
      }
      call.shown = true;
      this.emitCall(call, CallState.ALERTING);
      const shown = call.whenShown;
      call.whenShown = undefined;
      shown?.(call);
      if (state === CallState.ALERTING) return;
    }
    if (call.state === state) return;
    this.emitCall(call, state);
    if (state === CallState.CONNECTED) this.sink.notice({ kind: 'connected', call });
  }

  private emitCall(call: TrackedCall, state: CallState): void {
    call.oldState = call.state;
    call.state = state;
    if (state === CallState.NONE) {
      call.ended = true;
      call.endTime = isoNow();
    }
    const type = eventTypeForTransition(state, call.oldState) as CallEvent['type'] | undefined;
    if (type !== undefined) this.sink.emit({ type, line: call.line, call: this.toCall(call) });
    if (state === CallState.NONE) this.forget(call);
  }

  /** CALL_INFO_CHANGED: the call's party changed (e.g. it became the caller's after a transfer). */
  infoChanged(call: TrackedCall): void {
    if (!call.shown || call.ended) return;
    call.oldState = call.state;
    this.sink.emit({
      type: MsgEventType.CALL_INFO_CHANGED,
      line: call.line,
      call: this.toCall(call),
    });
  }

  /** Event 11 of a call: its buttons changed (a consultation started or ended). */
  featuresChanged(call: TrackedCall): void {
    this.sink.emit({
      type: MsgEventType.LINE_STATE_CHANGED,
      line: call.line,
      callId: call.id,
      callFeaturesSet: this.featuresOf(call),
    });
  }

  end(call: TrackedCall): void {
    if (call.ended) return;
    if (call.consult && !call.consult.ended) {
      const consult = call.consult;
      this.transition(call, CallState.NONE);
      this.transition(consult, CallState.NONE);
      return;
    }
    const primary = call.primary;
    this.transition(call, CallState.NONE);
    // The primary's buttons come back when the consultation ends.
    if (primary && !primary.ended && primary.shown) this.featuresChanged(primary);
  }

  private forget(call: TrackedCall): void {
    call.ended = true;
    this.callsById.delete(call.id);
    if (call.channel) this.unbind(call, call.channel);
    for (const hook of this.forgetHooks) hook(call);
    this.sink.notice({ kind: 'ended', call });
    const list = this.lineCalls.get(call.line);
    if (list) {
      const i = list.indexOf(call);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) {
        this.lineCalls.delete(call.line);
        if (call.shown) {
          this.sink.emit({
            type: MsgEventType.LINE_STATE_CHANGED,
            line: call.line,
            callFeaturesSet: CallFeature.DIAL,
          });
        }
        this.sink.notice({ kind: 'line-idle', line: call.line });
      }
    }
  }

  unbind(call: TrackedCall, uid: string): void {
    const ch = this.channels.get(uid);
    if (ch) {
      const i = ch.calls.indexOf(call);
      if (i >= 0) ch.calls.splice(i, 1);
    }
    if (call.channel === uid) call.channel = undefined;
  }

  bind(call: TrackedCall, ch: Chan): void {
    if (call.channel === ch.uid) return;
    if (call.channel) this.unbind(call, call.channel);
    call.channel = ch.uid;
    if (!ch.calls.includes(call)) ch.calls.push(call);
  }

  /** The newest call of a line channel that is not a consultation's primary. */
  activeOf(ch: Chan): TrackedCall | undefined {
    for (let i = ch.calls.length - 1; i >= 0; i--) if (!ch.calls[i]!.ended) return ch.calls[i];
    return undefined;
  }

  /** Ends every call (the library is closing). */
  endAll(): void {
    for (const call of [...this.callsById.values()]) this.end(call);
  }
}
