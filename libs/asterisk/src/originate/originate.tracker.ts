/**
 * Owns the pending Originates (MakeCall, take-backs of parked calls) and their matching to the
 * channel that rings, and the OriginateResponse event. `pending` is written only here.
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

export class OriginateTracker {
  readonly pending: PendingOriginate[] = [];

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

  private forgotten(call: TrackedCall): void {
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
        ? (this.naming.lineOfChannel(name) ?? name.slice(this.naming.protocol.length))
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
        if (lineCh?.state === ChanState.Up && !call.dialingOut)
          this.calls.transition(call, CallState.CONNECTED);
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
  }
}
