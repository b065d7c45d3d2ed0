/**
 * Owns the line's calls through the channel events: ringing, dialling, answer, busy, bridges,
 * handset hold, hang-up (Newstate, NewCallerid/NewConnectedLine, DialBegin/DialEnd, BridgeEnter,
 * Hangup, Hold/Unhold). Writes call fields through core/line-calls; hands parking, consultations
 * and pending originates to their rooms. May not touch their maps directly.
 */
import { CallDirection, CallState } from '@app/messaging';
import type { AmiPacketView } from '../asterisk.types';
import { known, type ChannelTable } from '../core/channel-table';
import type { LineCalls } from '../core/line-calls';
import { ChanState, type Chan, type TrackedCall } from '../core/tracker-model';
import type { OriginateTracker } from '../originate/originate.tracker';
import type { ParkingTracker } from '../parking/parking.tracker';
import type { TransfersTracker } from '../transfers/transfers.tracker';

export class CallsTracker {
  private readonly channels: Map<string, Chan>;

  constructor(
    private readonly table: ChannelTable,
    private readonly calls: LineCalls,
    private readonly originate: OriginateTracker,
    private readonly parking: ParkingTracker,
    private readonly transfers: TransfersTracker,
    private readonly sendRingStartedOnRingingState: boolean,
  ) {
    this.channels = table.channels;
  }

  onNewstate(p: AmiPacketView): void {
    const ch = this.table.upsertChannel(p, '');
    if (!ch) return;
    if (ch.line) {
      const call = this.calls.activeOf(ch);
      if (call) this.calls.collect(call, p);
      if (ch.state === ChanState.Ringing) {
        if (call) {
          if (!call.shown) this.calls.transition(call, CallState.ALERTING);
        } else if (!ch.retrievalFor) {
          // Rung without a Dial we saw (e.g. an application): an incoming call.
          const remote = this.table.resolveParty(
            ch.dialedBy ? this.channels.get(ch.dialedBy) : undefined,
          );
          const c = this.calls.addCall(
            ch,
            CallDirection.IN,
            known(ch.connectedNum) ? ch.connectedNum : this.table.numberOf(remote),
            ch.line,
          );
          this.calls.collect(c, p);
          this.calls.transition(c, CallState.ALERTING);
        }
      } else if (ch.state === ChanState.Up) {
        if (call) this.onLineUp(call);
      } else if (ch.state === ChanState.Busy && call) {
        this.calls.transition(call, CallState.BUSY);
      }
      return;
    }
    this.transfers.farEndState(ch);
  }

  private onLineUp(call: TrackedCall): void {
    if (call.direction === CallDirection.IN) {
      this.calls.transition(call, CallState.CONNECTED);
    } else if (call.originated && call.originateOk && !call.dialingOut) {
      this.calls.transition(call, CallState.CONNECTED);
    }
  }

  onNewCallerid(p: AmiPacketView): void {
    const ch = this.table.upsertChannel(p, '');
    if (!ch?.line) return;
    const call = this.calls.activeOf(ch);
    if (!call) return;
    this.calls.collect(call, p);
    if (call.primary || call.hold || (call.consult && !call.consult.ended)) return;
    const party = ch.connectedNum;
    if (!known(party) || party === call.line) return;
    if (call.direction === CallDirection.IN) {
      if (party !== call.callerId) {
        call.callerId = party;
        if (call.state === CallState.CONNECTED) this.calls.infoChanged(call);
      }
    } else if (call.state === CallState.CONNECTED && party !== call.calledId && call.dialingOut) {
      call.calledId = party;
      this.calls.infoChanged(call);
    }
  }

  onDialBegin(p: AmiPacketView): void {
    const src = this.table.upsertChannel(p, '');
    const dest = this.table.upsertChannel(p, 'Dest');
    if (!dest) return;
    if (src) dest.dialedBy = src.uid;
    if (dest.line) this.onLineDialled(p, src, dest);
    if (src?.line) this.onLineDials(p, src, dest);
  }

  /** A line's channel is rung: an incoming call, an originate, or the retrieval of a held call. */
  private onLineDialled(p: AmiPacketView, src: Chan | undefined, dest: Chan): void {
    const line = dest.line!;
    if (dest.calls.length > 0 || dest.retrievalFor) return;
    const held = this.parking.heldRetrievedBy(line, src, dest);
    if (held) {
      this.parking.retrieving(held, dest);
      this.calls.collect(held, p);
      return;
    }
    let call: TrackedCall;
    if (!src) {
      const pending = this.originate.takePending(line, 'call');
      const connected = known(dest.connectedNum)
        ? dest.connectedNum
        : known(dest.callerNum) && dest.callerNum !== line
          ? dest.callerNum
          : '';
      call = this.calls.addCall(dest, CallDirection.OUT, line, pending?.target ?? connected);
      call.originated = true;
      call.actionId = pending?.actionId;
      call.whenShown = pending?.bound;
    } else {
      const party = this.table.resolveParty(src);
      const callerId =
        known(dest.connectedNum) && dest.connectedNum !== line
          ? dest.connectedNum
          : this.table.numberOf(party);
      call = this.calls.addCall(dest, CallDirection.IN, callerId, line);
      call.remote = party?.uid;
    }
    this.calls.collect(call, p);
    if (!this.sendRingStartedOnRingingState || dest.state === ChanState.Ringing) {
      this.calls.transition(call, CallState.ALERTING);
    }
  }

  /** A line's channel dials: a call from the handset, or the far end of an answered originate. */
  private onLineDials(p: AmiPacketView, src: Chan, dest: Chan): void {
    const call = this.calls.activeOf(src);
    const number =
      p.get('DialString') && !p.get('DialString')!.includes('/')
        ? p.get('DialString')!
        : known(src.exten) && src.exten !== 's'
          ? src.exten
          : this.table.numberOf(dest);
    if (call) {
      if (call.direction === CallDirection.OUT && !call.primary) {
        call.dialingOut = true;
        call.remote = dest.uid;
        if (!call.calledId && number) call.calledId = number;
        this.calls.collect(call, p);
      }
      return;
    }
    if (src.retrievalFor) return;
    const c = this.calls.addCall(src, CallDirection.OUT, src.line!, number);
    c.dialingOut = true;
    c.remote = dest.uid;
    this.calls.collect(c, p);
    this.calls.transition(c, CallState.ALERTING);
  }

  onDialEnd(p: AmiPacketView): void {
    const src = this.table.upsertChannel(p, '');
    const dest = this.table.upsertChannel(p, 'Dest');
    const status = p.get('DialStatus') ?? '';
    if (dest?.line) {
      const call = this.calls.activeOf(dest);
      if (call) {
        this.calls.collect(call, p);
        if (status === 'BUSY') this.calls.transition(call, CallState.BUSY);
        else if (status === 'ANSWER' && call.direction === CallDirection.IN)
          this.calls.transition(call, CallState.CONNECTED);
      } else if (
        dest.retrievalFor &&
        status === 'ANSWER' &&
        src &&
        dest.retrievalFor.parkee === src.uid
      ) {
        this.parking.retrieved(dest.retrievalFor, dest);
      }
    }
    if (src?.line) {
      const call = this.calls.activeOf(src);
      if (call && call.dialingOut && call.direction === CallDirection.OUT) {
        this.calls.collect(call, p);
        if (status === 'ANSWER') this.calls.transition(call, CallState.CONNECTED);
        else if (status === 'BUSY' || status === 'CONGESTION')
          this.calls.transition(call, CallState.BUSY);
      }
    }
  }

  onBridgeEnter(p: AmiPacketView): void {
    const ch = this.table.upsertChannel(p, '');
    const b = this.table.bridgeOf(p.get('BridgeUniqueid'));
    if (!ch || !b) return;
    this.table.enterBridge(ch, b, p.get('BridgeUniqueid')!);
    // Check every line channel of the bridge: who entered may be either side.
    for (const uid of b) {
      const member = this.channels.get(uid);
      if (!member?.line) continue;
      const others = [...b].filter((u) => u !== uid);
      if (others.length === 0) continue;
      if (member.retrievalFor) {
        const held = member.retrievalFor;
        if (held.parkee && others.includes(held.parkee)) this.parking.retrieved(held, member);
        continue;
      }
      const call = this.calls.activeOf(member);
      if (!call) continue;
      const partner = this.table.resolveParty(this.channels.get(others[0]!));
      if (call.hold === 'handset' && !call.consult && partner && call.remote) {
        if (partner.uid !== call.remote)
          this.transfers.startConsult(call, member, this.channels.get(others[0]!)!);
        else {
          // Back with the held party (a consultation was cancelled).
          call.hold = undefined;
          this.calls.transition(call, CallState.CONNECTED);
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
          this.calls.transition(call, CallState.CONNECTED);
        }
      }
    }
  }

  onHangup(p: AmiPacketView): void {
    const uid = p.get('Uniqueid');
    if (!uid) return;
    const ch = this.channels.get(uid);
    if (ch) {
      for (const call of [...ch.calls]) {
        if (call.ended) continue;
        if (call.hold === 'park' && call.parkee) {
          this.calls.unbind(call, uid); // parked: the call lives on in the parking lot
        } else {
          this.calls.collect(call, p);
          this.calls.end(call);
        }
      }
      this.parking.retrieverGone(ch, uid);
      this.transfers.farEndGone(uid);
    }
    this.parking.parkeeGone(uid);
    if (ch) this.table.removeChannel(ch);
  }

  onHold(p: AmiPacketView, on: boolean): void {
    const ch = this.table.upsertChannel(p, '');
    if (!ch?.line) return;
    const call = this.calls.activeOf(ch);
    if (!call || call.primary) return;
    this.calls.collect(call, p);
    if (on && call.state === CallState.CONNECTED) {
      call.hold = 'handset';
      this.calls.transition(call, CallState.HOLDED);
    } else if (!on && call.hold === 'handset') {
      call.hold = undefined;
      if (call.consult && !call.consult.ended) this.calls.end(call.consult);
      this.calls.transition(call, CallState.CONNECTED);
    }
  }
}
