/**
 * Owns the pending Originates (MakeCall, take-backs of parked calls) and their matching to the
 * channel that rings, the OriginateResponse event, and the answered originates that wait to see
 * whether their line dials out (`settling`). `pending` and `settling` are written only here.
 * May not touch channels, bridges, parking or transfers state.
 */
import { CallState } from '@app/messaging';
import type { AmiPacketView } from '../asterisk.types';
import { known, type ChannelTable } from '../core/channel-table';
import type { LineCalls } from '../core/line-calls';
import type { LineNaming } from '../core/line-naming';
import {
  ChanState,
  type PendingOriginate,
  type TrackedCall,
  type TrackerSink,
} from '../core/tracker-model';

/**
 * Events of the line's channel that show an answered originate goes on without dialling: the
 * call is connected (to an application, a conference, ...) from then on.
 */
const GOES_ON = new Set([
  'Hangup',
  'SoftHangupRequest',
  'HangupRequest',
  'BridgeEnter',
  'Hold',
  'Unhold',
  'MusicOnHoldStart',
  'DTMFBegin',
  'DTMFEnd',
  'BlindTransfer',
  'AttendedTransfer',
  'ChannelTalkingStart',
]);

/** Dialplan steps (Newexten, with the dialplan read class) that neither dial nor do anything yet. */
const FLOW_APPS = new Set([
  'noop',
  'set',
  'mset',
  'goto',
  'gotoif',
  'gotoiftime',
  'gosub',
  'gosubif',
  'return',
  'macro',
  'macroexit',
  'macroif',
  'execif',
  'execiftime',
  'answer',
  'agi',
  'stackpop',
]);

export class OriginateTracker {
  readonly pending: PendingOriginate[] = [];
  /**
   * Originated calls whose line answered (and the originate succeeded) but whose dialplan has not
   * shown yet whether the line dials out: CONNECTED as soon as it goes on without a dial (or after
   * the library's settle time), ALERTING until the far end answers when it dials (trace b2).
   */
  readonly settling = new Set<TrackedCall>();

  constructor(
    private readonly table: ChannelTable,
    private readonly calls: LineCalls,
    private readonly naming: LineNaming,
    private readonly sink: TrackerSink,
  ) {
    calls.onForget((call) => this.forgotten(call));
  }

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

  takePending(line: string, kind: PendingOriginate['kind']): PendingOriginate | undefined {
    const i = this.pending.findIndex((p) => p.line === line && p.kind === kind);
    if (i < 0) return undefined;
    return this.pending.splice(i, 1)[0];
  }

  /**
   * The originated call's line is Up and the originate succeeded. A call to an application is
   * connected now, but one to an outside number only when the far end answers; the events do not
   * tell which yet (b1 and b2 are alike up to here), so the call waits for its line's next step.
   */
  answered(call: TrackedCall): void {
    if (call.dialingOut || call.ended || this.settling.has(call)) return;
    this.settling.add(call);
    this.sink.notice({ kind: 'settling', call });
  }

  /** Before each event: what the line of a settling call does next decides it. */
  beforeEvent(p: AmiPacketView, ev: string): void {
    for (const call of this.settling) {
      const ch = call.channel ? this.table.channels.get(call.channel) : undefined;
      if (!ch || call.ended) {
        this.settling.delete(call);
        continue;
      }
      const uid = p.get('Uniqueid');
      const app = ev === 'Newexten' && uid === ch.uid ? (p.get('Application') ?? '') : undefined;
      if (
        (ev === 'Newchannel' && uid !== ch.uid && p.get('Linkedid') === ch.linkedid) ||
        (ev === 'DialBegin' && uid === ch.uid) ||
        app?.toLowerCase() === 'dial'
      ) {
        // The line dials (its own Dial to the trunk): the far end's answer connects the call.
        this.settling.delete(call);
      } else if (
        (uid === ch.uid && GOES_ON.has(ev)) ||
        (app !== undefined && !FLOW_APPS.has(app.toLowerCase()))
      ) {
        this.settle(call);
      }
    }
  }

  /** The settling call goes on without dialling (or the settle time passed): CONNECTED. */
  settle(call: TrackedCall): void {
    if (!this.settling.delete(call)) return;
    if (
      !call.ended &&
      !call.dialingOut &&
      (call.state === CallState.ALERTING || call.state === CallState.NONE)
    )
      this.calls.transition(call, CallState.CONNECTED);
  }

  private forgotten(call: TrackedCall): void {
    this.settling.delete(call);
    if (call.hold === 'park') {
      // A take-back Originate of this call that has not rung yet: its ring is not this call any more.
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const p = this.pending[i]!;
        if (p.kind === 'unpark' && p.callId === call.id) this.pending.splice(i, 1);
      }
    }
  }

  onOriginateResponse(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    const name = p.get('Channel') ?? '';
    const actionId = p.get('ActionID') ?? '';
    const ok = p.get('Response') === 'Success';
    let call: TrackedCall | undefined;
    const ch = known(uid) ? this.table.channels.get(uid) : undefined;
    if (ch) {
      call = ch.calls.find((c) => c.originated && !c.ended);
    } else {
      // A failed originate names the device (`SIP/305`), not a channel.
      const line = name.toLowerCase().startsWith(this.naming.protocolLower)
        ? (this.naming.lineOfChannel(name) ??
          this.naming.key(name.slice(this.naming.protocol.length)))
        : undefined;
      const calls = line ? (this.calls.lineCalls.get(line) ?? []) : [];
      call =
        calls.find((c) => c.actionId === actionId && !c.ended) ??
        [...calls].reverse().find((c) => c.originated && !c.originateOk && !c.ended);
      // A failure before any channel: the library forgets its expectation (only it knows which one:
      // the ActionID on the wire is not the one the expectation was registered with).
    }
    if (call) {
      this.calls.collect(call, p);
      if (ok) {
        call.originateOk = true;
        const lineCh = call.channel ? this.table.channels.get(call.channel) : undefined;
        if (lineCh?.state === ChanState.Up && !call.dialingOut) this.answered(call);
      } else {
        if (p.get('Reason') === '5') this.calls.transition(call, CallState.BUSY);
        this.calls.end(call);
      }
    }
    if (actionId) this.sink.notice({ kind: 'originate-response', actionId, packet: p, call });
  }

  /** Forgets every pending Originate (the library is closing). */
  clear(): void {
    this.pending.length = 0;
    this.settling.clear();
  }
}
