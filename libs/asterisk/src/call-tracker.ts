/**
 * Owns the event table (AMI event -> the room that handles it), builds the rooms and answers the
 * library's queries. Keeps no call state of its own: the rooms under core/, calls/, originate/,
 * parking/, transfers/, queues/, resync/ and debug/ do (docs/asterisk.md, "Where is what").
 */
import type { Call } from '@app/messaging';
import type { AmiPacketView, AsteriskTrackerOptions, QueueMemberState } from './asterisk.types';
import { CallsTracker } from './calls/calls.tracker';
import { ChannelTable } from './core/channel-table';
import { LineCalls } from './core/line-calls';
import { LineNaming } from './core/line-naming';
import type { PendingOriginate, TrackedCall, TrackerSink } from './core/tracker-model';
import { RawData } from './debug/raw-data';
import { OriginateTracker } from './originate/originate.tracker';
import { parsePacketInfoConfig } from './packet-info';
import { ParkingTracker } from './parking/parking.tracker';
import { QueuesTracker } from './queues/queues.tracker';
import { ResyncTracker } from './resync/resync.tracker';
import { TransfersTracker } from './transfers/transfers.tracker';

export type {
  PendingOriginate,
  TrackedCall,
  TrackerNotice,
  TrackerSink,
} from './core/tracker-model';
export { callIdOf } from './core/call-id';

/**
 * Turns AMI events into calls per line (ARCHITECTURE.md, "Asterisk library: mapping rules"): channels
 * by Uniqueid, bridges, Linkedid groups, parked calls and queue members. Pure: no I/O, no timers;
 * the library feeds it packets and sends what it emits to the line sessions.
 */
export class CallTracker {
  private readonly naming: LineNaming;
  private readonly table: ChannelTable;
  private readonly calls: LineCalls;
  private readonly originate: OriginateTracker;
  private readonly parking: ParkingTracker;
  private readonly transfers: TransfersTracker;
  private readonly queues: QueuesTracker;
  private readonly resync: ResyncTracker;
  private readonly debug: RawData;
  /** Event name -> handler (a Map: one hash lookup instead of a chain of string compares). */
  private readonly handlers: Map<string, (p: AmiPacketView, ev: string) => void>;

  constructor(
    options: AsteriskTrackerOptions,
    private readonly sink: TrackerSink,
  ) {
    const naming = (this.naming = new LineNaming(
      options.protocol,
      options.queueExtensionFormat,
      options.lineRules,
    ));
    const table = (this.table = new ChannelTable(naming));
    const calls = (this.calls = new LineCalls(
      table,
      sink,
      parsePacketInfoConfig(options.packetInfoConfig),
      options.canAnswer ?? false,
    ));
    // The order the rooms are built in is the order of their onForget hooks.
    const originate = (this.originate = new OriginateTracker(table, calls, naming, sink));
    const parking = (this.parking = new ParkingTracker(table, calls, originate, naming, sink));
    const transfers = (this.transfers = new TransfersTracker(table, calls, sink));
    const queues = (this.queues = new QueuesTracker(naming, sink));
    this.resync = new ResyncTracker(table, calls, parking, queues);
    this.debug = new RawData(table, parking.callsByParkee, naming, sink);
    const room = new CallsTracker(
      table,
      calls,
      originate,
      parking,
      transfers,
      options.sendRingStartedOnRingingState,
    );
    this.handlers = new Map<string, (p: AmiPacketView, ev: string) => void>([
      ['Newchannel', (p) => void table.upsertChannel(p, '')],
      ['Newstate', (p) => room.onNewstate(p)],
      ['NewCallerid', (p) => room.onNewCallerid(p)],
      ['NewConnectedLine', (p) => room.onNewCallerid(p)],
      ['DialBegin', (p) => room.onDialBegin(p)],
      ['DialEnd', (p) => room.onDialEnd(p)],
      ['BridgeCreate', (p) => void table.bridgeOf(p.get('BridgeUniqueid'))],
      ['BridgeEnter', (p) => room.onBridgeEnter(p)],
      ['BridgeLeave', (p) => table.onBridgeLeave(p)],
      ['BridgeDestroy', (p) => table.onBridgeDestroy(p)],
      ['Hangup', (p) => room.onHangup(p)],
      ['Hold', (p) => room.onHold(p, true)],
      ['Unhold', (p) => room.onHold(p, false)],
      ['OriginateResponse', (p) => originate.onOriginateResponse(p)],
      ['ParkedCall', (p) => parking.onParkedCall(p)],
      ['UnParkedCall', (p) => parking.onUnParkedCall(p)],
      ['ParkedCallTimeOut', (p) => parking.onParkedCallTimeOut(p)],
      ['ParkedCallGiveUp', (p) => parking.onParkedCallGiveUp(p)],
      ['Rename', (p) => table.onRename(p)],
      ['QueueMemberStatus', (p, ev) => queues.onQueueMember(p, ev)],
      ['QueueMemberPause', (p, ev) => queues.onQueueMember(p, ev)],
      ['QueueMemberPaused', (p, ev) => queues.onQueueMember(p, ev)],
      ['QueueMemberAdded', (p, ev) => queues.onQueueMember(p, ev)],
      ['QueueMember', (p, ev) => queues.onQueueMember(p, ev)],
      ['QueueMemberRemoved', (p) => queues.onQueueMemberRemoved(p)],
    ]);
  }

  /** The pending Originates (read by the review suite as `tracker['pending']`). */
  protected get pending(): PendingOriginate[] {
    return this.originate.pending;
  }

  /** Read by the review suite as `tracker['seenSinceResync']`. */
  protected get seenSinceResync(): Set<string> | undefined {
    return this.resync.seenSinceResync;
  }

  /** Read by the review suite as `tracker['goneSinceResync']`. */
  protected get goneSinceResync(): Set<string> | undefined {
    return this.resync.goneSinceResync;
  }

  // ---------------------------------------------------------------- events

  /** Feeds one broadcast event. */
  handle(p: AmiPacketView): void {
    const ev = p.event;
    if (ev === undefined) return;
    if (this.resync.seenSinceResync) this.resync.note(p, ev);
    if (this.sink.anyRaw()) this.debug.raw(p);
    if (this.originate.settling.size > 0) this.originate.beforeEvent(p, ev);
    this.handlers.get(ev)?.(p, ev);
  }

  // ---------------------------------------------------------------- queries

  /** The key of a line: as the channel driver compares device names (LineNaming.key). */
  lineKey(line: string): string {
    return this.naming.key(line);
  }

  /** The member interface of a line in its queues (queueExtensionFormat). */
  memberInterface(line: string): string {
    return this.naming.memberInterface(line);
  }

  /** The line of a member interface (`Local/305@from-queue/n` or `SIP/305`), or undefined. */
  lineOfMember(iface: string): string | undefined {
    return this.naming.lineOfMember(iface);
  }

  /** The line of a channel name (`SIP/305-0000000a` -> `305`), or undefined. */
  lineOfChannel(name: string): string | undefined {
    return this.naming.lineOfChannel(name);
  }

  activeCalls(line: string): Call[] {
    return this.calls.activeCalls(line);
  }

  tracked(line: string): TrackedCall[] {
    return this.calls.tracked(line);
  }

  hasCalls(line: string): boolean {
    return this.calls.hasCalls(line);
  }

  busyLines(): string[] {
    return this.calls.busyLines();
  }

  callById(id: string): TrackedCall | undefined {
    return this.calls.callsById.get(id);
  }

  /** The call the panel's buttons follow: the primary of a consultation, else the talking call, else the newest. */
  currentCall(line: string): TrackedCall | undefined {
    return this.calls.currentCall(line);
  }

  /** The channel name of a Uniqueid. */
  channelName(uid: string | undefined): string | undefined {
    return this.table.channelName(uid);
  }

  /** Queue memberships of a line. */
  memberships(line: string): QueueMemberState[] {
    return this.queues.memberships(line);
  }

  /** Numbers of live channels, bridges, calls (memory checks). */
  sizes(): { channels: number; bridges: number; calls: number; groups: number; parked: number } {
    return {
      channels: this.table.channels.size,
      bridges: this.table.bridges.size,
      calls: this.calls.callsById.size,
      groups: this.table.groups.size,
      parked: this.parking.parked.size,
    };
  }

  /**
   * Every table's size (memory checks): each is 0 with no call up, except `queueMembers` (the
   * queues' members, as Asterisk has them) and `queueLines` (lines that are members).
   */
  internalSizes(): Record<string, number> {
    let members = 0;
    for (const m of this.queues.queues.values()) members += m.size;
    let lineCalls = 0;
    for (const l of this.calls.lineCalls.values()) lineCalls += l.length;
    return {
      ...this.sizes(),
      channelNames: this.table.uidByName.size,
      busyLines: this.calls.lineCalls.size,
      lineCalls,
      parkees: this.parking.callsByParkee.size,
      consults: this.transfers.consultsByRemote.size,
      pendingOriginates: this.originate.pending.length,
      resyncSeen: this.resync.seenSinceResync?.size ?? 0,
      resyncGone: this.resync.goneSinceResync?.size ?? 0,
      queueLines: this.queues.queues.size,
      queueMembers: members,
    };
  }

  featuresOf(call: TrackedCall): number {
    return this.calls.featuresOf(call);
  }

  toCall(c: TrackedCall): Call {
    return this.calls.toCall(c);
  }

  // ---------------------------------------------------------------- library hooks

  /** Registers an Originate about to be sent (MakeCall, or taking a parked call back). */
  expectOriginate(p: PendingOriginate): void {
    this.originate.expectOriginate(p);
  }

  /** Forgets a pending Originate (the action failed before any channel rang). */
  dropOriginate(actionId: string): void {
    this.originate.dropOriginate(actionId);
  }

  /** Whether a take-back Originate of the held call `callId` was sent and its ring not seen yet. */
  unparkPending(callId: string): boolean {
    return this.originate.unparkPending(callId);
  }

  /** An answered originate's settle time passed without its line dialling: CONNECTED. */
  settleOriginate(call: TrackedCall): void {
    this.originate.settle(call);
  }

  /** Ends a call (its originate failed after it was shown). */
  endCall(call: TrackedCall): void {
    this.calls.end(call);
  }

  // ---------------------------------------------------------------- resync

  /** Starts a resync: events from now on count as proof of life for their channels. */
  beginResync(): void {
    this.resync.beginResync();
  }

  /** A resync that will not be applied (its lists failed, or a newer one started): stop collecting. */
  abortResync(): void {
    this.resync.abortResync();
  }

  /** Rebuilds from the lists of a (re)connect (resync/resync.tracker.ts). */
  applyResync(
    channels: readonly AmiPacketView[],
    parked: readonly AmiPacketView[],
    queueItems: readonly AmiPacketView[] | undefined,
  ): void {
    this.resync.applyResync(channels, parked, queueItems);
  }

  /** Forgets every channel and ends every call (the library is closing). */
  clear(): void {
    this.calls.endAll();
    this.table.clear();
    this.parking.clear();
    this.originate.clear();
    this.transfers.clear();
  }
}
