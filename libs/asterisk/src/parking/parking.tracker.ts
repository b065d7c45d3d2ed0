/**
 * Owns hold by parking: every parked channel (`parked`), the held calls by parked party
 * (`callsByParkee`), the ParkedCall / UnParkedCall / timeout / give-up events and the take-back.
 * Written only here, with the call fields parkee, parkingSpace, parkingLot, retrieval and a
 * channel's retrievalFor. May not touch bridges, transfers or queue state.
 */
import { CallState } from '@app/messaging';
import type { AmiPacketView } from '../asterisk.types';
import type { ChannelTable } from '../core/channel-table';
import type { LineCalls } from '../core/line-calls';
import type { LineNaming } from '../core/line-naming';
import { ownString } from '../core/own-string';
import type { Chan, TrackedCall, TrackerSink } from '../core/tracker-model';
import type { OriginateTracker } from '../originate/originate.tracker';

export class ParkingTracker {
  /** Every parked channel (Uniqueid -> space), ours or not. */
  readonly parked = new Map<string, { space: string; lot: string }>();
  readonly callsByParkee = new Map<string, TrackedCall>();
  private readonly channels: Map<string, Chan>;
  private readonly lineCalls: Map<string, TrackedCall[]>;

  constructor(
    private readonly table: ChannelTable,
    private readonly calls: LineCalls,
    private readonly originate: OriginateTracker,
    private readonly naming: LineNaming,
    private readonly sink: TrackerSink,
  ) {
    this.channels = table.channels;
    this.lineCalls = calls.lineCalls;
    calls.onForget((call) => this.forgotten(call));
  }

  private forgotten(call: TrackedCall): void {
    if (call.retrieval) {
      const r = this.channels.get(call.retrieval);
      if (r?.retrievalFor === call) r.retrievalFor = undefined;
    }
    if (call.parkee && this.callsByParkee.get(call.parkee) === call)
      this.callsByParkee.delete(call.parkee);
  }

  onParkedCall(p: AmiPacketView): void {
    const parkeeId = p.get('ParkeeUniqueid');
    if (!parkeeId) return;
    // Kept while the call is parked: copies, not slices of the socket read.
    const parkee = ownString(parkeeId);
    const space = ownString(p.get('ParkingSpace') ?? '');
    const lot = p.get('Parkinglot');
    this.parked.set(parkee, { space, lot: ownString(lot ?? '') });
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
      const line = dial.toLowerCase().startsWith(this.naming.protocolLower)
        ? this.naming.key(dial.slice(this.naming.protocol.length))
        : '';
      const group = this.table.groups.get(p.get('ParkeeLinkedid') ?? '');
      call = (this.lineCalls.get(line) ?? []).find(
        (c) => !c.ended && !c.primary && c.channel !== undefined && group?.has(c.channel) === true,
      );
    }
    if (!call) return;
    this.calls.collect(call, p);
    call.hold = 'park';
    call.parkee = parkee;
    call.remote = parkee;
    call.parkingSpace = space;
    call.parkingLot = lot === undefined ? undefined : this.parked.get(parkee)!.lot;
    this.callsByParkee.set(parkee, call);
    this.calls.transition(call, CallState.HOLDED);
    this.sink.notice({ kind: 'parked', call, space, parkee });
  }

  onUnParkedCall(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    if (!parkee) return;
    this.parked.delete(parkee);
    const call = this.callsByParkee.get(parkee);
    if (!call) return;
    this.calls.collect(call, p);
    const retriever = this.channels.get(p.get('RetrieverUniqueid') ?? '');
    if (retriever?.line === call.line) {
      this.retrieved(call, retriever);
    } else {
      // Someone else took the parked call: it left this line.
      this.calls.end(call);
    }
  }

  onParkedCallTimeOut(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    if (!parkee) return;
    this.parked.delete(parkee);
    const call = this.callsByParkee.get(parkee);
    if (call) this.calls.collect(call, p); // stays held until the comeback dial is answered
  }

  onParkedCallGiveUp(p: AmiPacketView): void {
    const parkee = p.get('ParkeeUniqueid');
    if (!parkee) return;
    this.parked.delete(parkee);
    const call = this.callsByParkee.get(parkee);
    if (call) {
      this.calls.collect(call, p);
      this.calls.end(call);
    }
  }

  /** A held call of `line` that this ringing line channel takes back, if any. */
  heldRetrievedBy(line: string, src: Chan | undefined, dest: Chan): TrackedCall | undefined {
    const held = (this.lineCalls.get(line) ?? []).filter((c) => c.hold === 'park' && !c.ended);
    if (held.length === 0) return undefined;
    if (src) {
      // Park timeout comeback: the parked party dials the line again.
      return held.find((c) => c.parkee === src.uid);
    }
    const pending = this.originate.takePending(line, 'unpark');
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

  /** The line channel `dest` rings to take the held call back. */
  retrieving(held: TrackedCall, dest: Chan): void {
    held.retrieval = dest.uid;
    dest.retrievalFor = held;
  }

  /** A held call is back on the line: `ch` now carries it. */
  retrieved(call: TrackedCall, ch: Chan): void {
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
    this.calls.bind(call, ch);
    this.calls.transition(call, CallState.CONNECTED);
  }

  /** The line channel `ch` (Uniqueid `uid`) hung up: it no longer takes a held call back. */
  retrieverGone(ch: Chan, uid: string): void {
    if (ch.retrievalFor) {
      const held = ch.retrievalFor;
      ch.retrievalFor = undefined;
      if (held.retrieval === uid) held.retrieval = undefined;
    }
  }

  /** The channel `uid` hung up: a call held by parking it was ends; it is parked no more. */
  parkeeGone(uid: string): void {
    const held = this.callsByParkee.get(uid);
    if (held) this.calls.end(held);
    this.parked.delete(uid);
  }

  /** Forgets the parked channels (the library is closing; held calls ended before). */
  clear(): void {
    this.parked.clear();
  }
}
