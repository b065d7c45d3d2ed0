import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AmiDecoder, AmiPacket } from '@app/ami';
import { fixtureNames, readTrace, rxChunks } from '@app/ami/testing';
import {
  CallDirection,
  CallFeature,
  CallState,
  MsgEventType,
  type CallEvent,
  type LineEvent,
} from '@app/messaging';
import type { AsteriskTrackerOptions } from './asterisk.types';
import { CallTracker } from './call-tracker';

const OPTIONS: AsteriskTrackerOptions = {
  protocol: 'SIP/',
  queueExtensionFormat: 'Local/{0}@from-queue/n',
  sendRingStartedOnRingingState: true,
  packetInfoConfig: '',
  traceQueuesState: false,
};

function tracker(opts: Partial<AsteriskTrackerOptions> = {}): {
  t: CallTracker;
  events: LineEvent[];
} {
  const events: LineEvent[] = [];
  const t = new CallTracker(
    { ...OPTIONS, ...opts },
    {
      emit: (e) => events.push(e),
      wantsRaw: () => false,
      anyRaw: () => false,
      notice: () => undefined,
    },
  );
  return { t, events };
}

/** Feeds a fixture's broadcast events (every connection) through the decoder into the tracker. */
function feed(t: CallTracker, fixture: string, until?: (p: AmiPacket) => boolean): void {
  const records = readTrace(fixture);
  const conns = [...new Set(records.filter((r) => r.dir === 'rx').map((r) => r.conn))];
  let stopped = false;
  for (const conn of conns) {
    const d = new AmiDecoder({
      onPacket: (p) => {
        if (stopped || p.event === undefined) return;
        // Answers to the recorder's list actions are not broadcast events (OriginateResponse is).
        if (p.actionId !== undefined && p.event !== 'OriginateResponse') return;
        if (until?.(p)) {
          stopped = true;
          return;
        }
        t.handle(p);
      },
      onError: (e) => {
        throw e;
      },
    });
    for (const chunk of rxChunks(records, conn)) d.push(chunk);
  }
}

function pkt(fields: Record<string, string>): AmiPacket {
  return AmiPacket.from(Object.entries(fields));
}

const calls = (events: LineEvent[], line = '305') =>
  events.filter((e): e is CallEvent => 'call' in e && e.line === line);

describe('CallTracker over the recorded traces', () => {
  for (const name of fixtureNames()) {
    it(`${name}: one id per call, features per state, DIAL after the last call, nothing left in memory`, () => {
      const { t, events } = tracker({ protocol: name.startsWith('p') ? 'PJSIP/' : 'SIP/' });
      feed(t, name);
      for (const line of new Set(events.map((e) => e.line))) {
        const mine = events.filter((e) => e.line === line);
        for (const e of mine) {
          if ('call' in e) {
            const c = e.call;
            const consultPrimary = c.callFeaturesSet === 8360;
            if (!consultPrimary) {
              const expected =
                c.state === CallState.ALERTING || c.state === CallState.BUSY
                  ? CallFeature.DROP
                  : c.state === CallState.CONNECTED
                    ? 1816
                    : c.state === CallState.HOLDED
                      ? 40
                      : 0;
              assert.equal(c.callFeaturesSet, expected, `${name} ${line} event ${e.type}`);
            }
          }
        }
        if (mine.some((e) => 'call' in e)) {
          assert.deepEqual(mine.at(-1), {
            type: MsgEventType.LINE_STATE_CHANGED,
            line,
            callFeaturesSet: CallFeature.DIAL,
          });
        }
      }
      assert.deepEqual(t.sizes(), { channels: 0, bridges: 0, calls: 0, groups: 0, parked: 0 });
    });
  }

  it('Local channel halves are never calls (f: Local/305@from-queue-...;1/;2)', () => {
    const { t, events } = tracker();
    feed(t, 'f_queue_pause');
    assert.ok(events.every((e) => !e.line.startsWith('Local') && !e.line.includes('@')));
    assert.deepEqual(
      calls(events, '306').map((e) => [e.type, e.call.callerId]),
      [
        [MsgEventType.RING_STARTED, '79165550000'],
        [MsgEventType.RING_FINISHED, '79165550000'],
      ],
    );
  });
});

describe('CallTracker cases beyond the traces', () => {
  it('park timeout: the comeback dial to the line belongs to the held call (no second call), then END_HOLD_ACTION', () => {
    const { t, events } = tracker();
    feed(
      t,
      'e1_park_unpark',
      (p) => p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009',
    );
    const held = calls(events).at(-1)!;
    assert.equal(held.type, MsgEventType.PUT_HOLD_ACTION);
    const base = { Privilege: 'call,all', Linkedid: '1795582091.9' };
    t.handle(
      pkt({
        Event: 'ParkedCallTimeOut',
        ParkeeChannel: 'SIP/trunk-in-00000007',
        ParkeeUniqueid: '1795582091.9',
        ParkingSpace: '701',
      }),
    );
    t.handle(
      pkt({
        Event: 'Newchannel',
        ...base,
        Channel: 'SIP/305-0000000b',
        Uniqueid: '1795582146.12',
        ChannelState: '0',
        CallerIDNum: '305',
        ConnectedLineNum: '<unknown>',
        Exten: 's',
      }),
    );
    t.handle(
      pkt({
        Event: 'DialBegin',
        ...base,
        Channel: 'SIP/trunk-in-00000007',
        Uniqueid: '1795582091.9',
        CallerIDNum: '79160000001',
        DestChannel: 'SIP/305-0000000b',
        DestUniqueid: '1795582146.12',
        DestLinkedid: '1795582091.9',
        DialString: 'SIP/305',
      }),
    );
    t.handle(
      pkt({
        Event: 'Newstate',
        ...base,
        Channel: 'SIP/305-0000000b',
        Uniqueid: '1795582146.12',
        ChannelState: '5',
        ConnectedLineNum: '79160000001',
      }),
    );
    t.handle(
      pkt({
        Event: 'Newstate',
        ...base,
        Channel: 'SIP/305-0000000b',
        Uniqueid: '1795582146.12',
        ChannelState: '6',
        ConnectedLineNum: '79160000001',
      }),
    );
    t.handle(
      pkt({
        Event: 'DialEnd',
        ...base,
        Channel: 'SIP/trunk-in-00000007',
        Uniqueid: '1795582091.9',
        DestChannel: 'SIP/305-0000000b',
        DestUniqueid: '1795582146.12',
        DialStatus: 'ANSWER',
      }),
    );
    t.handle(
      pkt({
        Event: 'BridgeEnter',
        ...base,
        BridgeUniqueid: 'b-1',
        Channel: 'SIP/trunk-in-00000007',
        Uniqueid: '1795582091.9',
      }),
    );
    t.handle(
      pkt({
        Event: 'BridgeEnter',
        ...base,
        BridgeUniqueid: 'b-1',
        Channel: 'SIP/305-0000000b',
        Uniqueid: '1795582146.12',
      }),
    );
    t.handle(
      pkt({
        Event: 'Hangup',
        ...base,
        Channel: 'SIP/305-0000000b',
        Uniqueid: '1795582146.12',
        Cause: '16',
      }),
    );
    t.handle(
      pkt({
        Event: 'Hangup',
        ...base,
        Channel: 'SIP/trunk-in-00000007',
        Uniqueid: '1795582091.9',
        Cause: '16',
      }),
    );
    const all = calls(events);
    assert.deepEqual(
      all.map((e) => e.type),
      [5, 7, 8, 9, 6],
    );
    assert.equal(new Set(all.map((e) => e.call.id)).size, 1);
    assert.deepEqual(t.sizes(), { channels: 0, bridges: 0, calls: 0, groups: 0, parked: 0 });
  });

  it('a parked caller who gives up (ParkedCallGiveUp) ends the held call', () => {
    const { t, events } = tracker();
    feed(
      t,
      'e1_park_unpark',
      (p) => p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009',
    );
    t.handle(
      pkt({
        Event: 'ParkedCallGiveUp',
        ParkeeChannel: 'SIP/trunk-in-00000007',
        ParkeeUniqueid: '1795582091.9',
        ParkingSpace: '701',
      }),
    );
    t.handle(
      pkt({
        Event: 'Hangup',
        Channel: 'SIP/trunk-in-00000007',
        Uniqueid: '1795582091.9',
        Linkedid: '1795582091.9',
      }),
    );
    assert.deepEqual(
      calls(events).map((e) => [e.type, e.call.oldState]),
      [
        [5, 0],
        [7, 1],
        [8, 2],
        [6, 3],
      ],
    );
    assert.equal(events.at(-1)!.type, MsgEventType.LINE_STATE_CHANGED);
  });

  it('a hold on the handset (Hold/Unhold) shows as PUT_HOLD_ACTION / END_HOLD_ACTION', () => {
    const { t, events } = tracker();
    feed(t, 'c_inbound_answered', (p) => p.event === 'HangupRequest');
    const ch = { Channel: 'SIP/305-00000004', Uniqueid: '1795582075.6', Linkedid: '1795582075.5' };
    t.handle(pkt({ Event: 'Hold', ...ch, MusicClass: 'default' }));
    t.handle(pkt({ Event: 'Unhold', ...ch }));
    t.handle(pkt({ Event: 'Unhold', ...ch }));
    assert.deepEqual(
      calls(events).map((e) => [e.type, e.call.state, e.call.callFeaturesSet]),
      [
        [5, 1, 8],
        [7, 2, 1816],
        [8, 3, 40],
        [9, 2, 1816],
      ],
    );
  });

  it('a call from the handset: OUT at its dial, ABONENT_BUSY on DialEnd BUSY, ended at hang-up', () => {
    const { t, events } = tracker();
    const me = { Channel: 'SIP/305-0000000c', Uniqueid: '1.20', Linkedid: '1.20' };
    t.handle(
      pkt({
        Event: 'Newchannel',
        ...me,
        ChannelState: '4',
        CallerIDNum: '305',
        Exten: '79001234567',
        Context: 'from-internal',
      }),
    );
    t.handle(
      pkt({
        Event: 'Newchannel',
        Channel: 'SIP/trunk-out-0000000d',
        Uniqueid: '1.21',
        Linkedid: '1.20',
        ChannelState: '0',
      }),
    );
    t.handle(
      pkt({
        Event: 'DialBegin',
        ...me,
        Exten: '79001234567',
        DestChannel: 'SIP/trunk-out-0000000d',
        DestUniqueid: '1.21',
        DialString: 'trunk-out/79001234567',
      }),
    );
    t.handle(
      pkt({
        Event: 'DialEnd',
        ...me,
        DestChannel: 'SIP/trunk-out-0000000d',
        DestUniqueid: '1.21',
        DialStatus: 'BUSY',
      }),
    );
    t.handle(
      pkt({
        Event: 'Hangup',
        Channel: 'SIP/trunk-out-0000000d',
        Uniqueid: '1.21',
        Linkedid: '1.20',
      }),
    );
    t.handle(pkt({ Event: 'Hangup', ...me, Cause: '17' }));
    const all = calls(events);
    assert.deepEqual(
      all.map((e) => [e.type, e.call.state, e.call.callFeaturesSet]),
      [
        [MsgEventType.RING_STARTED, CallState.ALERTING, 8],
        [MsgEventType.ABONENT_BUSY, CallState.BUSY, 8],
        [MsgEventType.RING_FINISHED, CallState.NONE, 0],
      ],
    );
    assert.equal(all[0]!.call.direction, CallDirection.OUT);
    assert.equal(all[0]!.call.calledId, '79001234567');
    assert.deepEqual(t.sizes(), { channels: 0, bridges: 0, calls: 0, groups: 0, parked: 0 });
  });

  it('sendRingStartedOnRingingState=false shows the call on DialBegin; a call cancelled before ringing is never shown with true', () => {
    const early = tracker({ sendRingStartedOnRingingState: false });
    feed(
      early.t,
      'c_inbound_answered',
      (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Ringing',
    );
    assert.deepEqual(
      calls(early.events).map((e) => e.type),
      [MsgEventType.RING_STARTED],
    );

    const late = tracker({ sendRingStartedOnRingingState: true });
    feed(
      late.t,
      'c_inbound_answered',
      (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Ringing',
    );
    late.t.handle(
      pkt({
        Event: 'Hangup',
        Channel: 'SIP/305-00000004',
        Uniqueid: '1795582075.6',
        Linkedid: '1795582075.5',
      }),
    );
    assert.deepEqual(
      late.events.filter((e) => e.line === '305'),
      [],
    );
  });

  it('maps lines and member interfaces by protocol and queueExtensionFormat', () => {
    const { t } = tracker({ protocol: 'PJSIP/', queueExtensionFormat: 'Local/{0}@agents' });
    assert.equal(t.lineOfChannel('PJSIP/405-00000001'), '405');
    assert.equal(t.lineOfChannel('SIP/405-00000001'), undefined);
    assert.equal(t.lineOfChannel('PJSIP/office-0000000a'), 'office');
    assert.equal(t.lineOfMember('Local/405@agents'), '405');
    assert.equal(t.lineOfMember('PJSIP/406'), '406');
    assert.equal(t.lineOfMember('Local/405@from-queue/n'), undefined);
    assert.equal(t.memberInterface('405'), 'Local/405@agents');
  });
});

describe('CallTracker consultation (Atxfer) cancelled', () => {
  it('the consulted party hangs up: the consultation ends, the primary comes back (END_HOLD_ACTION)', () => {
    const { t, events } = tracker();
    feed(t, 'g3_atxfer', (p) => p.event === 'BridgeMerge');
    const before = calls(events).map((e) => e.type);
    assert.deepEqual(before, [5, 7, 8, 5, 7]);
    const primary = calls(events)[0]!.call.id;
    const consult = calls(events)[3]!.call.id;
    const l = { Linkedid: '1795582208.31' };
    t.handle(
      pkt({
        Event: 'BridgeLeave',
        ...l,
        BridgeUniqueid: '0365c5c8-a8f3-479a-af8f-a45040083568',
        Channel: 'Local/306@from-internal-00000002;1',
        Uniqueid: '1795582214.33',
      }),
    );
    t.handle(
      pkt({
        Event: 'Hangup',
        ...l,
        Channel: 'Local/306@from-internal-00000002;1',
        Uniqueid: '1795582214.33',
      }),
    );
    t.handle(
      pkt({
        Event: 'BridgeLeave',
        ...l,
        BridgeUniqueid: '0365c5c8-a8f3-479a-af8f-a45040083568',
        Channel: 'SIP/305-0000001a',
        Uniqueid: '1795582208.32',
      }),
    );
    t.handle(
      pkt({
        Event: 'BridgeEnter',
        ...l,
        BridgeUniqueid: 'c6e9d2fd-b414-4f01-b91d-9dbadbd50693',
        Channel: 'SIP/305-0000001a',
        Uniqueid: '1795582208.32',
      }),
    );
    t.handle(
      pkt({ Event: 'Unhold', ...l, Channel: 'SIP/305-0000001a', Uniqueid: '1795582208.32' }),
    );
    const mine = events.filter((e) => e.line === '305');
    const after = mine.slice(
      mine.findIndex((e) => 'call' in e && e.call.id === consult && e.type === 7) + 1,
    );
    assert.deepEqual(
      after.map((e) =>
        'call' in e
          ? [e.type, e.call.id === primary ? 'A' : 'C', e.call.callFeaturesSet]
          : [
              e.type,
              'callId' in e && e.callId === primary ? 'A' : '-',
              'callFeaturesSet' in e ? e.callFeaturesSet : -1,
            ],
      ),
      [
        [MsgEventType.RING_FINISHED, 'C', 0],
        [MsgEventType.LINE_STATE_CHANGED, 'A', 40],
        [MsgEventType.END_HOLD_ACTION, 'A', 1816],
      ],
    );
  });
});

describe('CallTracker resync', () => {
  it('a channel that hung up while the lists were loading does not come back from the older snapshot', () => {
    const { t, events } = tracker();
    feed(t, 'c_inbound_answered', (p) => p.event === 'HangupRequest');
    t.beginResync();
    const snapshot = [
      pkt({
        Event: 'CoreShowChannel',
        Channel: 'SIP/trunk-in-00000003',
        Uniqueid: '1795582075.5',
        Linkedid: '1795582075.5',
        ChannelState: '6',
        BridgeId: 'fa6abb89-f361-404f-b92b-67686a69ed34',
      }),
      pkt({
        Event: 'CoreShowChannel',
        Channel: 'SIP/305-00000004',
        Uniqueid: '1795582075.6',
        Linkedid: '1795582075.5',
        ChannelState: '6',
        ConnectedLineNum: '79161234567',
        BridgeId: 'fa6abb89-f361-404f-b92b-67686a69ed34',
      }),
    ];
    // The call ends while CoreShowChannels is on its way (its answer was taken before).
    feed(t, 'c_inbound_answered');
    const before = events.length;
    t.applyResync(snapshot, [], undefined);
    assert.deepEqual(events.slice(before), [], 'a phantom call after the resync');
    assert.deepEqual(t.sizes(), { channels: 0, bridges: 0, calls: 0, groups: 0, parked: 0 });
  });
});

describe('CallTracker robustness', () => {
  it('never throws on arbitrary sequences of call events with missing or odd fields, and forgets every hung-up channel', () => {
    const names = [
      'SIP/305-00000001',
      'SIP/306-00000002',
      'SIP/trunk-in-00000003',
      'Local/305@from-queue-00000004;1',
      'Local/305@from-queue-00000004;2',
      'SIP/305',
      '',
    ];
    const uids = ['1.1', '1.2', '1.3', '1.4', '1.5', '<unknown>', ''];
    const events = [
      'Newchannel',
      'Newstate',
      'NewConnectedLine',
      'DialBegin',
      'DialEnd',
      'BridgeEnter',
      'BridgeLeave',
      'BridgeDestroy',
      'Hangup',
      'Hold',
      'Unhold',
      'OriginateResponse',
      'ParkedCall',
      'UnParkedCall',
      'ParkedCallTimeOut',
      'ParkedCallGiveUp',
      'QueueMemberStatus',
      'Rename',
    ];
    const field = fc.record(
      {
        Event: fc.constantFrom(...events),
        Channel: fc.constantFrom(...names),
        Uniqueid: fc.constantFrom(...uids),
        Linkedid: fc.constantFrom(...uids),
        DestChannel: fc.constantFrom(...names),
        DestUniqueid: fc.constantFrom(...uids),
        ChannelState: fc.constantFrom('0', '4', '5', '6', '7', 'x'),
        ConnectedLineNum: fc.constantFrom('79160000001', '<unknown>', '', '305'),
        DialStatus: fc.constantFrom('ANSWER', 'BUSY', 'CANCEL', 'NOANSWER'),
        BridgeUniqueid: fc.constantFrom('b1', 'b2', ''),
        ParkeeUniqueid: fc.constantFrom(...uids),
        RetrieverUniqueid: fc.constantFrom(...uids),
        ParkingSpace: fc.constantFrom('701', ''),
        ParkerDialString: fc.constantFrom('SIP/305', ''),
        Response: fc.constantFrom('Success', 'Failure'),
        Reason: fc.constantFrom('0', '3', '5'),
        Interface: fc.constantFrom('Local/305@from-queue/n', 'SIP/306', 'junk'),
        Queue: fc.constantFrom('support', ''),
        Newname: fc.constantFrom(...names),
      },
      { requiredKeys: ['Event'] },
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 60 }), (list) => {
        const { t } = tracker({ packetInfoConfig: 'Context,var:X' });
        for (const f of list) t.handle(pkt(f as Record<string, string>));
        for (const uid of uids) t.handle(pkt({ Event: 'Hangup', Uniqueid: uid }));
        for (const uid of uids) t.handle(pkt({ Event: 'ParkedCallGiveUp', ParkeeUniqueid: uid }));
        const s = t.sizes();
        assert.equal(s.channels, 0);
        assert.equal(s.calls, 0);
      }),
      { numRuns: 300 },
    );
  });
});
