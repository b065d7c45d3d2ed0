/**
 * Owns the resync of a (re)connect: which Uniqueids events proved alive or gone while the lists
 * loaded (`seenSinceResync`, `goneSinceResync`, written only here), and the order in which the
 * snapshot is applied to each room (queues, channels, calls, parked channels, new calls).
 * May not keep any call or channel state of its own.
 */
import { CallDirection, CallState } from '@app/messaging';
import type { AmiPacketView } from '../asterisk.types';
import { known, type ChannelTable } from '../core/channel-table';
import type { LineCalls } from '../core/line-calls';
import { ChanState, type Chan } from '../core/tracker-model';
import type { ParkingTracker } from '../parking/parking.tracker';
import type { QueuesTracker } from '../queues/queues.tracker';

export class ResyncTracker {
  /** Uniqueids seen in events since a resync started (they are alive even when the snapshot missed them). */
  seenSinceResync: Set<string> | undefined;
  /** Uniqueids hung up since a resync started: a snapshot taken before must not bring them back. */
  goneSinceResync: Set<string> | undefined;
  private readonly channels: Map<string, Chan>;

  constructor(
    private readonly table: ChannelTable,
    private readonly calls: LineCalls,
    private readonly parking: ParkingTracker,
    private readonly queues: QueuesTracker,
  ) {
    this.channels = table.channels;
  }

  /** While a resync runs: the Uniqueids an event proves alive (or gone, by its Hangup). */
  note(p: AmiPacketView, ev: string): void {
    const u = p.get('Uniqueid');
    if (u) this.seenSinceResync!.add(u);
    const d = p.get('DestUniqueid');
    if (d) this.seenSinceResync!.add(d);
    if (ev === 'Hangup' && u) this.goneSinceResync!.add(u);
  }

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
    if (queueItems) this.queues.applySnapshot(queueItems);
    const alive = new Set<string>(seen);
    for (const item of channels) {
      const uid = item.get('Uniqueid');
      if (!uid || gone.has(uid)) continue;
      alive.add(uid);
      // Events since the resync began are newer than the snapshot: they win.
      if (seen.has(uid) && this.channels.has(uid)) continue;
      const ch = this.table.upsertChannel(item, '');
      if (!ch) continue;
      const bridge = item.get('BridgeId') ?? item.get('BridgeUniqueid');
      this.table.snapshotBridge(ch, bridge, seen.has(ch.uid));
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
    this.resyncCalls(alive, seen, parkedNow);
    for (const ch of [...this.channels.values()]) {
      if (!alive.has(ch.uid)) {
        if (ch.retrievalFor?.retrieval === ch.uid) ch.retrievalFor.retrieval = undefined;
        this.table.removeChannel(ch);
      }
    }
    const parkedMap = this.parking.parked;
    for (const uid of [...parkedMap.keys()])
      if (!parkedNow.has(uid) && !seen.has(uid)) parkedMap.delete(uid);
    for (const [uid, item] of parkedNow) {
      parkedMap.set(uid, {
        space: item.get('ParkingSpace') ?? '',
        lot: item.get('Parkinglot') ?? '',
      });
    }
    this.newCalls(channels);
    this.table.dropEmptyBridges();
  }

  /** The calls we knew: each ends, is taken back, connects or stays as it was. */
  private resyncCalls(
    alive: ReadonlySet<string>,
    seen: ReadonlySet<string>,
    parkedNow: ReadonlyMap<string, AmiPacketView>,
  ): void {
    for (const call of [...this.calls.callsById.values()]) {
      if (call.ended) continue;
      if (call.hold === 'park' && call.parkee) {
        if (!parkedNow.has(call.parkee) && alive.has(call.parkee) && !seen.has(call.parkee)) {
          // Taken back on its line while we were away: the parked party is bridged with a leg of it.
          const parkee = this.channels.get(call.parkee);
          const back = parkee ? this.table.bridgePartner(parkee) : undefined;
          if (back?.line === call.line && back.calls.length === 0) {
            this.parking.retrieved(call, back);
            continue;
          }
        }
        if (!parkedNow.has(call.parkee) && !alive.has(call.parkee)) this.calls.end(call);
        else if (!parkedNow.has(call.parkee) && !seen.has(call.parkee) && !call.retrieval)
          this.calls.end(call);
        continue;
      }
      if (!call.channel || !alive.has(call.channel)) {
        this.calls.end(call);
        continue;
      }
      if (call.primary && call.remote && !alive.has(call.remote)) {
        // The consulted party hung up while we were away: the consultation is over.
        this.calls.end(call);
        continue;
      }
      const ch = this.channels.get(call.channel);
      if (ch?.state === ChanState.Up && call.state === CallState.ALERTING && ch.bridge) {
        this.calls.transition(call, CallState.CONNECTED);
      }
    }
  }

  /** Line channels alive now that carry no call: calls that started while we were away. */
  private newCalls(channels: readonly AmiPacketView[]): void {
    for (const item of channels) {
      const ch = this.channels.get(item.get('Uniqueid') ?? '');
      if (!ch?.line || ch.calls.length > 0 || ch.retrievalFor) continue;
      if (
        ch.state !== ChanState.Up &&
        ch.state !== ChanState.Ringing &&
        ch.state !== ChanState.Ring
      )
        continue;
      const partner = this.table.resolveParty(this.table.bridgePartner(ch));
      const inbound =
        ch.state === ChanState.Ringing ||
        ch.exten === 's' ||
        !known(ch.exten) ||
        ch.exten === ch.line;
      const party = known(ch.connectedNum) ? ch.connectedNum : this.table.numberOf(partner);
      const call = inbound
        ? this.calls.addCall(ch, CallDirection.IN, party, ch.line)
        : this.calls.addCall(ch, CallDirection.OUT, ch.line, known(ch.exten) ? ch.exten : party);
      call.remote = partner?.uid;
      this.calls.collect(call, item);
      this.calls.transition(
        call,
        ch.state === ChanState.Up ? CallState.CONNECTED : CallState.ALERTING,
      );
    }
  }
}
