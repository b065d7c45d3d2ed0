import { createHash } from 'node:crypto';
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
  type LineEvent,
} from '@app/messaging';
import type { AmiPacketView, AsteriskTrackerOptions, QueueMemberState } from './asterisk.types';
import { extractPacketInfo, parsePacketInfoConfig, type PacketInfoField } from './packet-info';

/** Asterisk's ChannelState numbers. */
const enum ChanState {
  Down = 0,
  Ring = 4,
  Ringing = 5,
  Up = 6,
  Busy = 7,
}

/** One channel Asterisk told us about (by Uniqueid). */
interface Chan {
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

const UNKNOWN = '<unknown>';

function known(v: string | undefined): v is string {
  return v !== undefined && v !== '' && v !== UNKNOWN;
}

/**
 * Turns AMI events into calls per line (ARCHITECTURE.md, "Asterisk library: mapping rules"): channels
 * by Uniqueid, bridges, Linkedid groups, parked calls and queue members. Pure: no I/O, no timers;
 * the library feeds it packets and sends what it emits to the line sessions.
 */
export class CallTracker {
  private readonly channels = new Map<string, Chan>();
  private readonly uidByName = new Map<string, string>();
  private readonly bridges = new Map<string, Set<string>>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly callsById = new Map<string, TrackedCall>();
  private readonly callsByParkee = new Map<string, TrackedCall>();
  private readonly lineCalls = new Map<string, TrackedCall[]>();
  /** Every parked channel (Uniqueid -> space), ours or not. */
  private readonly parked = new Map<string, { space: string; lot: string }>();
  private readonly queues = new Map<string, Map<string, QueueMemberState>>();
  private readonly pending: PendingOriginate[] = [];
  private readonly protocolLower: string;
  private readonly memberPattern: RegExp;
  private readonly infoFields: PacketInfoField[];
  /** Event name -> handler (a Map: one hash lookup instead of a chain of string compares). */
  private readonly handlers = new Map<string, (p: AmiPacketView, ev: string) => void>([
    ['Newchannel', (p) => void this.upsertChannel(p, '')],
    ['Newstate', (p) => this.onNewstate(p)],
    ['NewCallerid', (p) => this.onNewCallerid(p)],
    ['NewConnectedLine', (p) => this.onNewCallerid(p)],
    ['DialBegin', (p) => this.onDialBegin(p)],
    ['DialEnd', (p) => this.onDialEnd(p)],
    ['BridgeCreate', (p) => void this.bridgeOf(p.get('BridgeUniqueid'))],
    ['BridgeEnter', (p) => this.onBridgeEnter(p)],
    ['BridgeLeave', (p) => this.onBridgeLeave(p)],
    ['BridgeDestroy', (p) => this.onBridgeDestroy(p)],
    ['Hangup', (p) => this.onHangup(p)],
    ['Hold', (p) => this.onHold(p, true)],
    ['Unhold', (p) => this.onHold(p, false)],
    ['OriginateResponse', (p) => this.onOriginateResponse(p)],
    ['ParkedCall', (p) => this.onParkedCall(p)],
    ['UnParkedCall', (p) => this.onUnParkedCall(p)],
    ['ParkedCallTimeOut', (p) => this.onParkedCallTimeOut(p)],
    ['ParkedCallGiveUp', (p) => this.onParkedCallGiveUp(p)],
    ['Rename', (p) => this.onRename(p)],
    ['QueueMemberStatus', (p, ev) => this.onQueueMember(p, ev)],
    ['QueueMemberPause', (p, ev) => this.onQueueMember(p, ev)],
    ['QueueMemberPaused', (p, ev) => this.onQueueMember(p, ev)],
    ['QueueMemberAdded', (p, ev) => this.onQueueMember(p, ev)],
    ['QueueMember', (p, ev) => this.onQueueMember(p, ev)],
    ['QueueMemberRemoved', (p) => this.onQueueMemberRemoved(p)],
  ]);
  /** Consultation calls by the Uniqueid of their far end (its hang-up ends them). */
  private readonly consultsByRemote = new Map<string, TrackedCall>();
  /** Uniqueids seen in events since a resync started (they are alive even when the snapshot missed them). */
  private seenSinceResync: Set<string> | undefined;
  /** Uniqueids hung up since a resync started: a snapshot taken before must not bring them back. */
  private goneSinceResync: Set<string> | undefined;

  constructor(
    private readonly options: AsteriskTrackerOptions,
    private readonly sink: TrackerSink,
  ) {
    this.protocolLower = options.protocol.toLowerCase();
    const [before, after] = options.queueExtensionFormat.split('{0}', 2) as [string, string?];
    this.memberPattern = new RegExp(
      `^${escapeRegExp(before)}(.+?)${escapeRegExp(after ?? '')}$`,
      'i',
    );
    this.infoFields = parsePacketInfoConfig(options.packetInfoConfig);
  }

  // ---------------------------------------------------------------- queries

  /** The member interface of a line in its queues (queueExtensionFormat). */
  memberInterface(line: string): string {
    return this.options.queueExtensionFormat.replace('{0}', line);
  }

  /** The line of a member interface (`Local/305@from-queue/n` or `SIP/305`), or undefined. */
  lineOfMember(iface: string): string | undefined {
    const m = this.memberPattern.exec(iface);
    if (m) return m[1];
    if (iface.toLowerCase().startsWith(this.protocolLower)) {
      const rest = iface.slice(this.options.protocol.length);
      return rest.includes('-') || rest.includes('/') ? undefined : rest;
    }
    return undefined;
  }

  /** The line of a channel name (`SIP/305-0000000a` -> `305`), or undefined. */
  lineOfChannel(name: string): string | undefined {
    if (!name.toLowerCase().startsWith(this.protocolLower)) return undefined;
    const dash = name.lastIndexOf('-');
    if (dash <= this.options.protocol.length) return undefined;
    return name.slice(this.options.protocol.length, dash);
  }

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

  callById(id: string): TrackedCall | undefined {
    return this.callsById.get(id);
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

  /** The channel name of a Uniqueid. */
  channelName(uid: string | undefined): string | undefined {
    return uid ? this.channels.get(uid)?.name : undefined;
  }

  /** Queue memberships of a line. */
  memberships(line: string): QueueMemberState[] {
    return [...(this.queues.get(line)?.values() ?? [])];
  }

  /** Numbers of live channels, bridges, calls (memory checks). */
  sizes(): { channels: number; bridges: number; calls: number; groups: number; parked: number } {
    return {
      channels: this.channels.size,
      bridges: this.bridges.size,
      calls: this.callsById.size,
      groups: this.groups.size,
      parked: this.parked.size,
    };
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

  // ---------------------------------------------------------------- library hooks

  /** Registers an Originate about to be sent (MakeCall, or taking a parked call back). */
  expectOriginate(p: PendingOriginate): void {
    this.pending.push(p);
    if (this.pending.length > 1000) this.pending.shift();
  }

  /** Forgets a pending Originate (the action failed before any channel rang). */
  dropOriginate(actionId: string): void {
    const i = this.pending.findIndex((p) => p.actionId === actionId);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** Whether a take-back Originate of the held call `callId` was sent and its ring not seen yet. */
  unparkPending(callId: string): boolean {
    return this.pending.some((p) => p.kind === 'unpark' && p.callId === callId);
  }

  /** Ends a call (its originate failed after it was shown). */
  endCall(call: TrackedCall): void {
    this.end(call);
  }

  // ---------------------------------------------------------------- events

  /** Feeds one broadcast event. */
  handle(p: AmiPacketView): void {
    const ev = p.event;
    if (ev === undefined) return;
    if (this.seenSinceResync) {
      const u = p.get('Uniqueid');
      if (u) this.seenSinceResync.add(u);
      const d = p.get('DestUniqueid');
      if (d) this.seenSinceResync.add(d);
    }
    if (this.sink.anyRaw()) this.raw(p);
    this.handlers.get(ev)?.(p, ev);
  }

  private raw(p: AmiPacketView): void {
    const lines = new Set<string>();
    for (const key of ['Uniqueid', 'DestUniqueid', 'ParkeeUniqueid', 'RetrieverUniqueid']) {
      const uid = p.get(key);
      if (!uid) continue;
      const ch = this.channels.get(uid);
      if (ch?.line) lines.add(ch.line);
      for (const c of ch?.calls ?? []) lines.add(c.line);
      const held = this.callsByParkee.get(uid);
      if (held) lines.add(held.line);
    }
    for (const key of ['Channel', 'DestChannel']) {
      const name = p.get(key);
      if (!name) continue;
      const line = this.lineOfChannel(name);
      if (line) lines.add(line);
      else if (name.toLowerCase().startsWith(this.protocolLower) && !name.includes('-')) {
        lines.add(name.slice(this.options.protocol.length)); // OriginateResponse Failure: Channel: SIP/305
      }
    }
    const iface = p.get('Interface') ?? p.get('Location');
    if (iface) {
      const line = this.lineOfMember(iface);
      if (line) lines.add(line);
    }
    let data: Record<string, string | string[]> | undefined;
    for (const line of lines) {
      if (!this.sink.wantsRaw(line)) continue;
      data ??= p.toObject();
      this.sink.emit({ type: MsgEventType.RAW_DATA, line, data });
    }
  }

  private upsertChannel(p: AmiPacketView, prefix: '' | 'Dest'): Chan | undefined {
    const uid = p.get(`${prefix}Uniqueid`);
    const name = p.get(`${prefix}Channel`);
    if (!uid || !name || uid === UNKNOWN) return undefined;
    let ch = this.channels.get(uid);
    if (!ch) {
      ch = {
        uid: own(uid),
        name: own(name),
        linkedid: own(p.get(`${prefix}Linkedid`) ?? uid),
        state: Number(p.get(`${prefix}ChannelState`) ?? 0),
        callerNum: p.get(`${prefix}CallerIDNum`) ?? '',
        connectedNum: p.get(`${prefix}ConnectedLineNum`) ?? '',
        exten: p.get(`${prefix}Exten`) ?? '',
        calls: [],
      };
      if (name.startsWith('Local/')) {
        const semi = name.lastIndexOf(';');
        if (semi > 0) {
          ch.localBase = name.slice(0, semi);
          ch.localHalf = name.slice(semi + 1) === '2' ? 2 : 1;
        }
      } else {
        ch.line = this.lineOfChannel(name);
      }
      this.channels.set(ch.uid, ch);
      this.uidByName.set(ch.name, ch.uid);
      this.joinGroup(ch);
      return ch;
    }
    const state = p.get(`${prefix}ChannelState`);
    if (state !== undefined) ch.state = Number(state);
    const caller = p.get(`${prefix}CallerIDNum`);
    if (caller !== undefined) ch.callerNum = caller;
    const connected = p.get(`${prefix}ConnectedLineNum`);
    if (connected !== undefined) ch.connectedNum = connected;
    const exten = p.get(`${prefix}Exten`);
    if (exten) ch.exten = exten;
    const linkedid = p.get(`${prefix}Linkedid`);
    if (linkedid && linkedid !== ch.linkedid) {
      this.leaveGroup(ch);
      ch.linkedid = own(linkedid);
      this.joinGroup(ch);
    }
    return ch;
  }

  private joinGroup(ch: Chan): void {
    let g = this.groups.get(ch.linkedid);
    if (!g) this.groups.set(ch.linkedid, (g = new Set()));
    g.add(ch.uid);
  }

  private leaveGroup(ch: Chan): void {
    const g = this.groups.get(ch.linkedid);
    if (!g) return;
    g.delete(ch.uid);
    if (g.size === 0) this.groups.delete(ch.linkedid);
  }

  private bridgeOf(id: string | undefined): Set<string> | undefined {
    if (!id) return undefined;
    let b = this.bridges.get(id);
    if (!b) this.bridges.set(own(id), (b = new Set()));
    return b;
  }

  /** The other half of a Local channel. */
  private localPeer(ch: Chan): Chan | undefined {
    if (!ch.localBase) return undefined;
    const uid = this.uidByName.get(`${ch.localBase};${ch.localHalf === 1 ? 2 : 1}`);
    return uid ? this.channels.get(uid) : undefined;
  }

  /**
   * The real party behind `ch`: through a Local channel pair to whoever is bridged with or dialled
   * the other half (a queue call's outside caller, not `Local/305@from-queue-...;2`).
   */
  private resolveParty(ch: Chan | undefined, depth = 0): Chan | undefined {
    if (!ch || !ch.localBase || depth > 4) return ch;
    const peer = this.localPeer(ch);
    if (!peer) return ch;
    const beyond =
      this.bridgePartner(peer) ?? (peer.dialedBy ? this.channels.get(peer.dialedBy) : undefined);
    return beyond ? this.resolveParty(beyond, depth + 1) : ch;
  }

  /** The other channel in `ch`'s bridge (the first one), if any. */
  private bridgePartner(ch: Chan): Chan | undefined {
    if (!ch.bridge) return undefined;
    const b = this.bridges.get(ch.bridge);
    if (!b) return undefined;
    for (const uid of b) if (uid !== ch.uid) return this.channels.get(uid);
    return undefined;
  }

  private numberOf(ch: Chan | undefined): string {
    if (!ch) return '';
    if (ch.localBase) {
      // A Local half stands for its extension (`Local/306@ctx-...;1` -> 306).
      const at = ch.localBase.indexOf('@');
      return ch.localBase.slice('Local/'.length, at > 0 ? at : undefined);
    }
    if (ch.line) return ch.line;
    return known(ch.callerNum) ? ch.callerNum : '';
  }

  private addCall(
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

  private collect(call: TrackedCall, p: AmiPacketView): void {
    if (this.infoFields.length > 0) extractPacketInfo(this.infoFields, p, call.context);
  }

  /** Moves a call to `state`, sending the event of the transition. */
  private transition(call: TrackedCall, state: CallState): void {
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
  private infoChanged(call: TrackedCall): void {
    if (!call.shown || call.ended) return;
    call.oldState = call.state;
    this.sink.emit({
      type: MsgEventType.CALL_INFO_CHANGED,
      line: call.line,
      call: this.toCall(call),
    });
  }

  private end(call: TrackedCall): void {
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
    if (primary && !primary.ended && primary.shown) {
      this.sink.emit({
        type: MsgEventType.LINE_STATE_CHANGED,
        line: primary.line,
        callId: primary.id,
        callFeaturesSet: this.featuresOf(primary),
      });
    }
  }

  private forget(call: TrackedCall): void {
    call.ended = true;
    this.callsById.delete(call.id);
    if (call.channel) this.unbind(call, call.channel);
    if (call.retrieval) {
      const r = this.channels.get(call.retrieval);
      if (r?.retrievalFor === call) r.retrievalFor = undefined;
    }
    if (call.parkee && this.callsByParkee.get(call.parkee) === call)
      this.callsByParkee.delete(call.parkee);
    if (call.hold === 'park') {
      // A take-back Originate of this call that has not rung yet: its ring is not this call any more.
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const p = this.pending[i]!;
        if (p.kind === 'unpark' && p.callId === call.id) this.pending.splice(i, 1);
      }
    }
    if (call.primary?.consult === call) call.primary.consult = undefined;
    if (call.primary && call.remote && this.consultsByRemote.get(call.remote) === call) {
      this.consultsByRemote.delete(call.remote);
    }
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

  private unbind(call: TrackedCall, uid: string): void {
    const ch = this.channels.get(uid);
    if (ch) {
      const i = ch.calls.indexOf(call);
      if (i >= 0) ch.calls.splice(i, 1);
    }
    if (call.channel === uid) call.channel = undefined;
  }

  private bind(call: TrackedCall, ch: Chan): void {
    if (call.channel === ch.uid) return;
    if (call.channel) this.unbind(call, call.channel);
    call.channel = ch.uid;
    if (!ch.calls.includes(call)) ch.calls.push(call);
  }

  /** The newest call of a line channel that is not a consultation's primary. */
  private activeOf(ch: Chan): TrackedCall | undefined {
    for (let i = ch.calls.length - 1; i >= 0; i--) if (!ch.calls[i]!.ended) return ch.calls[i];
    return undefined;
  }

  private onNewstate(p: AmiPacketView): void {
    const ch = this.upsertChannel(p, '');
    if (!ch) return;
    if (ch.line) {
      const call = this.activeOf(ch);
      if (call) this.collect(call, p);
      if (ch.state === ChanState.Ringing) {
        if (call) {
          if (!call.shown) this.transition(call, CallState.ALERTING);
        } else if (!ch.retrievalFor) {
          // Rung without a Dial we saw (e.g. an application): an incoming call.
          const remote = this.resolveParty(
            ch.dialedBy ? this.channels.get(ch.dialedBy) : undefined,
          );
          const c = this.addCall(
            ch,
            CallDirection.IN,
            known(ch.connectedNum) ? ch.connectedNum : this.numberOf(remote),
            ch.line,
          );
          this.collect(c, p);
          this.transition(c, CallState.ALERTING);
        }
      } else if (ch.state === ChanState.Up) {
        if (call) this.onLineUp(call);
      } else if (ch.state === ChanState.Busy && call) {
        this.transition(call, CallState.BUSY);
      }
      return;
    }
    // A consultation's far end (Local half or a trunk) ringing or answering.
    const consult = this.consultOfPeer(ch);
    if (consult) {
      if (ch.state === ChanState.Ringing) this.transition(consult, CallState.ALERTING);
      else if (ch.state === ChanState.Up) this.transition(consult, CallState.CONNECTED);
    }
  }

  private consultOfPeer(ch: Chan): TrackedCall | undefined {
    return this.consultsByRemote.get(ch.uid);
  }

  private onLineUp(call: TrackedCall): void {
    if (call.direction === CallDirection.IN) {
      this.transition(call, CallState.CONNECTED);
    } else if (call.originated && call.originateOk && !call.dialingOut) {
      this.transition(call, CallState.CONNECTED);
    }
  }

  private onNewCallerid(p: AmiPacketView): void {
    const ch = this.upsertChannel(p, '');
    if (!ch?.line) return;
    const call = this.activeOf(ch);
    if (!call) return;
    this.collect(call, p);
    if (call.primary || call.hold || (call.consult && !call.consult.ended)) return;
    const party = ch.connectedNum;
    if (!known(party) || party === call.line) return;
    if (call.direction === CallDirection.IN) {
      if (party !== call.callerId) {
        call.callerId = party;
        if (call.state === CallState.CONNECTED) this.infoChanged(call);
      }
    } else if (call.state === CallState.CONNECTED && party !== call.calledId && call.dialingOut) {
      call.calledId = party;
      this.infoChanged(call);
    }
  }

  private onDialBegin(p: AmiPacketView): void {
    const src = this.upsertChannel(p, '');
    const dest = this.upsertChannel(p, 'Dest');
    if (!dest) return;
    if (src) dest.dialedBy = src.uid;
    if (dest.line) this.onLineDialled(p, src, dest);
    if (src?.line) this.onLineDials(p, src, dest);
  }

  /** A line's channel is rung: an incoming call, an originate, or the retrieval of a held call. */
  private onLineDialled(p: AmiPacketView, src: Chan | undefined, dest: Chan): void {
    const line = dest.line!;
    if (dest.calls.length > 0 || dest.retrievalFor) return;
    const held = this.heldRetrievedBy(line, src, dest);
    if (held) {
      held.retrieval = dest.uid;
      dest.retrievalFor = held;
      this.collect(held, p);
      return;
    }
    let call: TrackedCall;
    if (!src) {
      const pending = this.takePending(line, 'call');
      const connected = known(dest.connectedNum)
        ? dest.connectedNum
        : known(dest.callerNum) && dest.callerNum !== line
          ? dest.callerNum
          : '';
      call = this.addCall(dest, CallDirection.OUT, line, pending?.target ?? connected);
      call.originated = true;
      call.actionId = pending?.actionId;
      call.whenShown = pending?.bound;
    } else {
      const party = this.resolveParty(src);
      const callerId =
        known(dest.connectedNum) && dest.connectedNum !== line
          ? dest.connectedNum
          : this.numberOf(party);
      call = this.addCall(dest, CallDirection.IN, callerId, line);
      call.remote = party?.uid;
    }
    this.collect(call, p);
    if (!this.options.sendRingStartedOnRingingState || dest.state === ChanState.Ringing) {
      this.transition(call, CallState.ALERTING);
    }
  }

  /** A held call of `line` that this ringing line channel takes back, if any. */
  private heldRetrievedBy(
    line: string,
    src: Chan | undefined,
    dest: Chan,
  ): TrackedCall | undefined {
    const held = (this.lineCalls.get(line) ?? []).filter((c) => c.hold === 'park' && !c.ended);
    if (held.length === 0) return undefined;
    if (src) {
      // Park timeout comeback: the parked party dials the line again.
      return held.find((c) => c.parkee === src.uid);
    }
    const pending = this.takePending(line, 'unpark');
    if (pending)
      return (
        held.find((c) => c.id === pending.callId) ??
        held.find((c) => c.parkingSpace === pending.target)
      );
    // An unpark originate we did not send (another tool): its caller id names the parking space.
    return held.find(
      (c) =>
        c.parkingSpace !== undefined &&
        (dest.callerNum === c.parkingSpace || dest.connectedNum === c.parkingSpace),
    );
  }

  private takePending(line: string, kind: PendingOriginate['kind']): PendingOriginate | undefined {
    const i = this.pending.findIndex((p) => p.line === line && p.kind === kind);
    if (i < 0) return undefined;
    return this.pending.splice(i, 1)[0];
  }

  /** A line's channel dials: a call from the handset, or the far end of an answered originate. */
  private onLineDials(p: AmiPacketView, src: Chan, dest: Chan): void {
    const call = this.activeOf(src);
    const number =
      p.get('DialString') && !p.get('DialString')!.includes('/')
        ? p.get('DialString')!
        : known(src.exten) && src.exten !== 's'
          ? src.exten
          : this.numberOf(dest);
    if (call) {
      if (call.direction === CallDirection.OUT && !call.primary) {
        call.dialingOut = true;
        call.remote = dest.uid;
        if (!call.calledId && number) call.calledId = number;
        this.collect(call, p);
      }
      return;
    }
    if (src.retrievalFor) return;
    const c = this.addCall(src, CallDirection.OUT, src.line!, number);
    c.dialingOut = true;
    c.remote = dest.uid;
    this.collect(c, p);
    this.transition(c, CallState.ALERTING);
  }

  private onDialEnd(p: AmiPacketView): void {
    const src = this.upsertChannel(p, '');
    const dest = this.upsertChannel(p, 'Dest');
    const status = p.get('DialStatus') ?? '';
    if (dest?.line) {
      const call = this.activeOf(dest);
      if (call) {
        this.collect(call, p);
        if (status === 'BUSY') this.transition(call, CallState.BUSY);
        else if (status === 'ANSWER' && call.direction === CallDirection.IN)
          this.transition(call, CallState.CONNECTED);
      } else if (
        dest.retrievalFor &&
        status === 'ANSWER' &&
        src &&
        dest.retrievalFor.parkee === src.uid
      ) {
        this.retrieved(dest.retrievalFor, dest);
      }
    }
    if (src?.line) {
      const call = this.activeOf(src);
      if (call && call.dialingOut && call.direction === CallDirection.OUT) {
        this.collect(call, p);
        if (status === 'ANSWER') this.transition(call, CallState.CONNECTED);
        else if (status === 'BUSY' || status === 'CONGESTION')
          this.transition(call, CallState.BUSY);
      }
    }
  }

  private onBridgeEnter(p: AmiPacketView): void {
    const ch = this.upsertChannel(p, '');
    const b = this.bridgeOf(p.get('BridgeUniqueid'));
    if (!ch || !b) return;
    const id = own(p.get('BridgeUniqueid')!);
    if (ch.bridge && ch.bridge !== id) {
      // A channel is in one bridge at a time: a missed BridgeLeave must not keep it in the old one.
      const old = this.bridges.get(ch.bridge);
      old?.delete(ch.uid);
      if (old?.size === 0) this.bridges.delete(ch.bridge);
    }
    b.add(ch.uid);
    ch.bridge = id;
    // Check every line channel of the bridge: who entered may be either side.
    for (const uid of b) {
      const member = this.channels.get(uid);
      if (!member?.line) continue;
      const others = [...b].filter((u) => u !== uid);
      if (others.length === 0) continue;
      if (member.retrievalFor) {
        const held = member.retrievalFor;
        if (held.parkee && others.includes(held.parkee)) this.retrieved(held, member);
        continue;
      }
      const call = this.activeOf(member);
      if (!call) continue;
      const partner = this.resolveParty(this.channels.get(others[0]!));
      if (call.hold === 'handset' && !call.consult && partner && call.remote) {
        if (partner.uid !== call.remote)
          this.startConsult(call, member, this.channels.get(others[0]!)!);
        else {
          // Back with the held party (a consultation was cancelled).
          call.hold = undefined;
          this.transition(call, CallState.CONNECTED);
        }
        continue;
      }
      if (call.primary) continue;
      if (partner && !call.remote) call.remote = partner.uid;
      else if (partner && call.direction === CallDirection.OUT) call.remote = partner.uid;
      if (
        call.state === CallState.ALERTING ||
        (call.state === CallState.NONE && call.shown === false)
      ) {
        if (
          call.direction === CallDirection.IN ||
          call.dialingOut ||
          member.state === ChanState.Up
        ) {
          this.transition(call, CallState.CONNECTED);
        }
      }
    }
  }

  /** An Atxfer: the line's channel, its call held, is bridged with a third party. */
  private startConsult(primary: TrackedCall, lineChan: Chan, far: Chan): void {
    const consult = this.addCall(
      lineChan,
      CallDirection.OUT,
      primary.line,
      this.numberOf(far),
      far.uid,
    );
    consult.primary = primary;
    consult.remote = far.uid;
    this.consultsByRemote.set(far.uid, consult);
    primary.consult = consult;
    this.transition(consult, far.state === ChanState.Up ? CallState.CONNECTED : CallState.ALERTING);
    this.sink.notice({ kind: 'consult-started', primary, consult });
    this.sink.emit({
      type: MsgEventType.LINE_STATE_CHANGED,
      line: primary.line,
      callId: primary.id,
      callFeaturesSet: this.featuresOf(primary),
    });
  }

  private onBridgeDestroy(p: AmiPacketView): void {
    const id = p.get('BridgeUniqueid');
    if (id) this.bridges.delete(id);
  }

  private onBridgeLeave(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    const id = p.get('BridgeUniqueid');
    if (!uid || !id) return;
    const b = this.bridges.get(id);
    if (b) {
      b.delete(uid);
      if (b.size === 0) this.bridges.delete(id); // holding bridges (parking) are never destroyed
    }
    const ch = this.channels.get(uid);
    if (ch && ch.bridge === id) ch.bridge = undefined;
  }

  /** A held call is back on the line: `ch` now carries it. */
  private retrieved(call: TrackedCall, ch: Chan): void {
    if (ch.retrievalFor === call) ch.retrievalFor = undefined;
    call.retrieval = undefined;
    if (call.parkee) {
      if (this.callsByParkee.get(call.parkee) === call) this.callsByParkee.delete(call.parkee);
      call.remote = call.parkee;
    }
    call.parkee = undefined;
    call.parkingSpace = undefined;
    call.parkingLot = undefined;
    call.hold = undefined;
    this.bind(call, ch);
    this.transition(call, CallState.CONNECTED);
  }

  private onHangup(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    if (!uid) return;
    this.goneSinceResync?.add(uid);
    const ch = this.channels.get(uid);
    if (ch) {
      for (const call of [...ch.calls]) {
        if (call.ended) continue;
        if (call.hold === 'park' && call.parkee) {
          this.unbind(call, uid); // parked: the call lives on in the parking lot
        } else {
          this.collect(call, p);
          this.end(call);
        }
      }
      if (ch.retrievalFor) {
        const held = ch.retrievalFor;
        ch.retrievalFor = undefined;
        if (held.retrieval === uid) held.retrieval = undefined;
      }
      // The far end of a consultation hung up: the consultation is over.
      const consult = this.consultsByRemote.get(uid);
      if (consult) this.end(consult);
    }
    const held = this.callsByParkee.get(uid);
    if (held) this.end(held);
    this.parked.delete(uid);
    if (ch) this.removeChannel(ch);
  }

  private removeChannel(ch: Chan): void {
    this.channels.delete(ch.uid);
    if (this.uidByName.get(ch.name) === ch.uid) this.uidByName.delete(ch.name);
    if (ch.bridge) {
      const b = this.bridges.get(ch.bridge);
      b?.delete(ch.uid);
      if (b?.size === 0) this.bridges.delete(ch.bridge);
    }
    this.leaveGroup(ch);
  }

  private onHold(p: AmiPacketView, on: boolean): void {
    const ch = this.upsertChannel(p, '');
    if (!ch?.line) return;
    const call = this.activeOf(ch);
    if (!call || call.primary) return;
    this.collect(call, p);
    if (on && call.state === CallState.CONNECTED) {
      call.hold = 'handset';
      this.transition(call, CallState.HOLDED);
    } else if (!on && call.hold === 'handset') {
      call.hold = undefined;
      if (call.consult && !call.consult.ended) this.end(call.consult);
      this.transition(call, CallState.CONNECTED);
    }
  }

  private onOriginateResponse(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    const name = p.get('Channel') ?? '';
    const actionId = p.get('ActionID') ?? '';
    const ok = p.get('Response') === 'Success';
    let call: TrackedCall | undefined;
    const ch = known(uid) ? this.channels.get(uid) : undefined;
    if (ch) {
      call = ch.calls.find((c) => c.originated && !c.ended);
    } else {
      // A failed originate names the device (`SIP/305`), not a channel.
      const line = name.toLowerCase().startsWith(this.protocolLower)
        ? (this.lineOfChannel(name) ?? name.slice(this.options.protocol.length))
        : undefined;
      const calls = line ? (this.lineCalls.get(line) ?? []) : [];
      call =
        calls.find((c) => c.actionId === actionId && !c.ended) ??
        [...calls].reverse().find((c) => c.originated && !c.originateOk && !c.ended);
      // A failure before any channel: the library forgets its expectation (only it knows which one:
      // the ActionID on the wire is not the one the expectation was registered with).
    }
    if (call) {
      this.collect(call, p);
      if (ok) {
        call.originateOk = true;
        const lineCh = call.channel ? this.channels.get(call.channel) : undefined;
        if (lineCh?.state === ChanState.Up && !call.dialingOut)
          this.transition(call, CallState.CONNECTED);
      } else {
        if (p.get('Reason') === '5') this.transition(call, CallState.BUSY);
        this.end(call);
      }
    }
    if (actionId) this.sink.notice({ kind: 'originate-response', actionId, packet: p, call });
  }

  private onParkedCall(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    const space = p.get('ParkingSpace') ?? '';
    if (!parkee) return;
    this.parked.set(parkee, { space, lot: p.get('Parkinglot') ?? '' });
    let call = this.callsByParkee.get(parkee);
    if (!call) {
      for (const list of this.lineCalls.values()) {
        call = list.find((c) => !c.ended && c.remote === parkee && !c.primary);
        if (call) break;
      }
    }
    if (!call) {
      // The parker's line (ParkerDialString: SIP/305) with a call in the parkee's Linkedid group.
      const dial = p.get('ParkerDialString') ?? '';
      const line = dial.toLowerCase().startsWith(this.protocolLower)
        ? dial.slice(this.options.protocol.length)
        : '';
      const group = this.groups.get(p.get('ParkeeLinkedid') ?? '');
      call = (this.lineCalls.get(line) ?? []).find(
        (c) => !c.ended && !c.primary && c.channel !== undefined && group?.has(c.channel) === true,
      );
    }
    if (!call) return;
    this.collect(call, p);
    call.hold = 'park';
    call.parkee = parkee;
    call.remote = parkee;
    call.parkingSpace = space;
    call.parkingLot = p.get('Parkinglot');
    this.callsByParkee.set(parkee, call);
    this.transition(call, CallState.HOLDED);
    this.sink.notice({ kind: 'parked', call, space, parkee });
  }

  private onUnParkedCall(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    if (!parkee) return;
    this.parked.delete(parkee);
    const call = this.callsByParkee.get(parkee);
    if (!call) return;
    this.collect(call, p);
    const retriever = this.channels.get(p.get('RetrieverUniqueid') ?? '');
    if (retriever?.line === call.line) {
      this.retrieved(call, retriever);
    } else {
      // Someone else took the parked call: it left this line.
      this.end(call);
    }
  }

  private onParkedCallTimeOut(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    if (!parkee) return;
    this.parked.delete(parkee);
    const call = this.callsByParkee.get(parkee);
    if (call) this.collect(call, p); // stays held until the comeback dial is answered
  }

  private onParkedCallGiveUp(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    if (!parkee) return;
    this.parked.delete(parkee);
    const call = this.callsByParkee.get(parkee);
    if (call) {
      this.collect(call, p);
      this.end(call);
    }
  }

  private onRename(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    const name = p.get('Newname');
    const ch = uid ? this.channels.get(uid) : undefined;
    if (!ch || !name) return;
    if (this.uidByName.get(ch.name) === uid) this.uidByName.delete(ch.name);
    ch.name = name;
    this.uidByName.set(name, ch.uid);
  }

  private onQueueMember(p: AmiPacketView, ev: string): void {
    const iface = p.get('Interface') ?? p.get('Location') ?? '';
    const line = this.lineOfMember(iface);
    const queue = p.get('Queue');
    if (!line || !queue) return;
    let m = this.queues.get(line);
    if (!m) this.queues.set(line, (m = new Map()));
    const reason = p.get('PausedReason') ?? p.get('Reason');
    const member: QueueMemberState = {
      line,
      queue,
      iface,
      status: Number(p.get('Status') ?? 0),
      paused: p.get('Paused') === '1',
      inCall: p.get('InCall') === '1',
      ...(reason ? { reason } : {}),
    };
    m.set(queue, member);
    this.sink.notice({ kind: 'queue-member', member, event: ev });
  }

  private onQueueMemberRemoved(p: AmiPacketView): void {
    const iface = p.get('Interface') ?? '';
    const line = this.lineOfMember(iface);
    const queue = p.get('Queue');
    if (!line || !queue) return;
    const m = this.queues.get(line);
    m?.delete(queue);
    if (m?.size === 0) this.queues.delete(line);
  }

  // ---------------------------------------------------------------- resync

  /** Starts a resync: events from now on count as proof of life for their channels. */
  beginResync(): void {
    this.seenSinceResync = new Set();
    this.goneSinceResync = new Set();
  }

  /** A resync that will not be applied (its lists failed, or a newer one started): stop collecting. */
  abortResync(): void {
    this.seenSinceResync = undefined;
    this.goneSinceResync = undefined;
  }

  /**
   * Rebuilds from the lists of a (re)connect: CoreShowChannels items, ParkedCalls items and
   * QueueStatus items. Calls whose channels vanished end (RING_FINISHED); surviving calls keep their
   * ids and send an event only when their state changed; calls found for the first time are shown.
   */
  applyResync(
    channels: readonly AmiPacketView[],
    parked: readonly AmiPacketView[],
    queueItems: readonly AmiPacketView[] | undefined,
  ): void {
    const seen = this.seenSinceResync ?? new Set<string>();
    const gone = this.goneSinceResync ?? new Set<string>();
    this.seenSinceResync = undefined;
    this.goneSinceResync = undefined;
    for (const uid of gone) seen.delete(uid);
    // Queues first: a call found connected below pauses its line (autoPauseOnCommutationStart).
    if (queueItems) {
      this.queues.clear();
      for (const item of queueItems)
        if (item.event === 'QueueMember') this.onQueueMember(item, 'QueueMember');
    }
    const alive = new Set<string>(seen);
    for (const item of channels) {
      const uid = item.get('Uniqueid');
      if (!uid || gone.has(uid)) continue;
      alive.add(uid);
      // Events since the resync began are newer than the snapshot: they win.
      if (seen.has(uid) && this.channels.has(uid)) continue;
      const ch = this.upsertChannel(item, '');
      if (!ch) continue;
      const bridge = item.get('BridgeId') ?? item.get('BridgeUniqueid');
      if (bridge) {
        if (ch.bridge && ch.bridge !== bridge) this.bridges.get(ch.bridge)?.delete(ch.uid);
        ch.bridge = bridge;
        this.bridgeOf(bridge)!.add(ch.uid);
      } else if (ch.bridge && !seen.has(ch.uid)) {
        this.bridges.get(ch.bridge)?.delete(ch.uid);
        ch.bridge = undefined;
      }
    }
    const parkedNow = new Map<string, AmiPacketView>();
    for (const item of parked) {
      const uid = item.get('ParkeeUniqueid');
      if (uid && !gone.has(uid)) {
        parkedNow.set(uid, item);
        alive.add(uid);
      }
    }
    // Calls first (their ends need the channel table), then the channels themselves.
    for (const call of [...this.callsById.values()]) {
      if (call.ended) continue;
      if (call.hold === 'park' && call.parkee) {
        if (!parkedNow.has(call.parkee) && alive.has(call.parkee) && !seen.has(call.parkee)) {
          // Taken back on its line while we were away: the parked party is bridged with a leg of it.
          const parkee = this.channels.get(call.parkee);
          const back = parkee ? this.bridgePartner(parkee) : undefined;
          if (back?.line === call.line && back.calls.length === 0) {
            this.retrieved(call, back);
            continue;
          }
        }
        if (!parkedNow.has(call.parkee) && !alive.has(call.parkee)) this.end(call);
        else if (!parkedNow.has(call.parkee) && !seen.has(call.parkee) && !call.retrieval)
          this.end(call);
        continue;
      }
      if (!call.channel || !alive.has(call.channel)) {
        this.end(call);
        continue;
      }
      if (call.primary && call.remote && !alive.has(call.remote)) {
        // The consulted party hung up while we were away: the consultation is over.
        this.end(call);
        continue;
      }
      const ch = this.channels.get(call.channel);
      if (ch?.state === ChanState.Up && call.state === CallState.ALERTING && ch.bridge) {
        this.transition(call, CallState.CONNECTED);
      }
    }
    for (const ch of [...this.channels.values()]) {
      if (!alive.has(ch.uid)) {
        if (ch.retrievalFor?.retrieval === ch.uid) ch.retrievalFor.retrieval = undefined;
        this.removeChannel(ch);
      }
    }
    for (const uid of [...this.parked.keys()])
      if (!parkedNow.has(uid) && !seen.has(uid)) this.parked.delete(uid);
    for (const [uid, item] of parkedNow) {
      this.parked.set(uid, {
        space: item.get('ParkingSpace') ?? '',
        lot: item.get('Parkinglot') ?? '',
      });
    }
    // Line channels alive now that carry no call: calls that started while we were away.
    for (const item of channels) {
      const ch = this.channels.get(item.get('Uniqueid') ?? '');
      if (!ch?.line || ch.calls.length > 0 || ch.retrievalFor) continue;
      if (
        ch.state !== ChanState.Up &&
        ch.state !== ChanState.Ringing &&
        ch.state !== ChanState.Ring
      )
        continue;
      const partner = this.resolveParty(this.bridgePartner(ch));
      const inbound =
        ch.state === ChanState.Ringing ||
        ch.exten === 's' ||
        !known(ch.exten) ||
        ch.exten === ch.line;
      const party = known(ch.connectedNum) ? ch.connectedNum : this.numberOf(partner);
      const call = inbound
        ? this.addCall(ch, CallDirection.IN, party, ch.line)
        : this.addCall(ch, CallDirection.OUT, ch.line, known(ch.exten) ? ch.exten : party);
      call.remote = partner?.uid;
      this.collect(call, item);
      this.transition(call, ch.state === ChanState.Up ? CallState.CONNECTED : CallState.ALERTING);
    }
    for (const [id, b] of [...this.bridges]) if (b.size === 0) this.bridges.delete(id);
  }

  /** Forgets every channel and ends every call (the library is closing). */
  clear(): void {
    for (const call of [...this.callsById.values()]) this.end(call);
    this.channels.clear();
    this.uidByName.clear();
    this.bridges.clear();
    this.groups.clear();
    this.parked.clear();
    this.pending.length = 0;
    this.consultsByRemote.clear();
  }
}

/**
 * The id of a line's call: a UUID (v5 layout) from the line and the Uniqueid of the line's channel
 * that started it. Every node of a cluster sees the same events and so gives the call the same id
 * (a client or a REST call may reach any node); it stays for the life of the call.
 */
export function callIdOf(line: string, uniqueid: string, salt = ''): string {
  const h = createHash('sha1').update(`${line}\u0000${uniqueid}\u0000${salt}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

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

/**
 * A copy of `s` that does not keep its source alive: the decoder's values are slices of a whole
 * socket read, and a channel name kept for the life of a call would pin that read in memory.
 */
function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
