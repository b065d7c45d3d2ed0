// Acceptance 4 of the Asterisk library: resync on reconnect (CoreShowChannels, ParkedCalls, QueueStatus).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeAmiFields } from '@app/ami/testing';
import { CallState, MsgEventType, type CallEvent, type LineEvent } from '@app/messaging';
import {
  replayFrom,
  replayUntil,
  rigsClosedAfterAll,
  settle,
  talkingCall,
  whenNotReady,
  whenReady,
  type EventLog,
  type Rig,
  NOTHING_TRACKED,
} from './asterisk-harness';

const up = rigsClosedAfterAll();

const calls = (events: LineEvent[]) => events.filter((e): e is CallEvent => 'call' in e);

/** CoreShowChannel items of c_inbound_answered while 305 talks with the caller. */
const TALKING: FakeAmiFields[] = [
  {
    Event: 'CoreShowChannel',
    Channel: 'SIP/trunk-in-00000003',
    ChannelState: '6',
    ChannelStateDesc: 'Up',
    CallerIDNum: '79161234567',
    ConnectedLineNum: '305',
    Context: 'from-internal',
    Exten: '305',
    Priority: '2',
    Uniqueid: '1795582075.5',
    Linkedid: '1795582075.5',
    BridgeId: 'fa6abb89-f361-404f-b92b-67686a69ed34',
    Application: 'Dial',
    ApplicationData: 'SIP/305',
  },
  {
    Event: 'CoreShowChannel',
    Channel: 'SIP/305-00000004',
    ChannelState: '6',
    ChannelStateDesc: 'Up',
    CallerIDNum: '305',
    ConnectedLineNum: '79161234567',
    Context: 'from-internal',
    Exten: '305',
    Priority: '1',
    Uniqueid: '1795582075.6',
    Linkedid: '1795582075.5',
    BridgeId: 'fa6abb89-f361-404f-b92b-67686a69ed34',
    Application: 'AppDial',
    ApplicationData: '(Outgoing Line)',
  },
];

async function talking(r: Rig, log: EventLog): Promise<string> {
  return (await talkingCall(r, log)).id;
}

/** Cuts the connection and waits for the library to be logged in and resynced again. */
async function reconnect(r: Rig): Promise<void> {
  const resyncs = r.ami.actions.filter((a) => a.get('Action') === 'CoreShowChannels').length;
  r.ami.dropAll();
  await whenNotReady(r.lib);
  await whenReady(r.lib);
  assert.equal(
    r.ami.actions.filter((a) => a.get('Action') === 'CoreShowChannels').length,
    resyncs + 1,
    'no new CoreShowChannels after the reconnect',
  );
  await settle(r.ami, r.lib);
}

describe('resync on reconnect', () => {
  it('a call whose channels vanished while disconnected ends with RING_FINISHED (same id) and DIAL', async () => {
    const r = await up();
    const log = r.open('305');
    const id = await talking(r, log);
    const before = log.events.length;
    r.ami.setList('CoreShowChannels', []);
    await reconnect(r);
    const after = log.events.slice(before);
    assert.deepEqual(
      after.map((e) => e.type),
      [MsgEventType.RING_FINISHED, MsgEventType.LINE_STATE_CHANGED],
    );
    const end = after[0] as CallEvent;
    assert.equal(end.call.id, id);
    assert.equal(end.call.state, CallState.NONE);
    assert.deepEqual(log.session.activeCalls(), []);
    assert.deepEqual(r.lib.tracker.sizes(), NOTHING_TRACKED);
  });

  it('a call that survived keeps its id and sends nothing new; its later end uses the same id', async () => {
    const r = await up();
    const log = r.open('305');
    const id = await talking(r, log);
    const before = log.events.length;
    r.ami.setList('CoreShowChannels', TALKING);
    await reconnect(r);
    assert.deepEqual(log.events.slice(before), [], 'events after a resync that changed nothing');
    assert.equal(log.session.activeCalls()[0]?.id, id);
    assert.equal(log.session.activeCalls()[0]?.state, CallState.CONNECTED);
    // A second reconnect changes nothing either.
    await reconnect(r);
    assert.deepEqual(log.events.slice(before), []);
    await replayFrom(r.ami, 'c_inbound_answered', (p) => p.event === 'HangupRequest');
    await log.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
    const all = calls(log.events);
    assert.deepEqual(
      all.map((e) => e.type),
      [MsgEventType.RING_STARTED, MsgEventType.COMMUTATION_STARTED, MsgEventType.RING_FINISHED],
    );
    assert.ok(all.every((e) => e.call.id === id));
  });

  it('a call that started while disconnected shows after the resync; a parked call still in ParkedCalls stays held', async () => {
    const r = await up();
    const l306 = r.open('306');
    const l305 = r.open('305');
    // e1 up to the retrieval: 305's caller is parked in 701, the operator's leg hung up.
    await replayUntil(
      r.ami,
      'e1_park_unpark',
      (p) => p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009',
    );
    const held = (await l305.waitFor((e) => e.type === MsgEventType.PUT_HOLD_ACTION)) as CallEvent;
    await settle(r.ami, r.lib);
    r.ami.setList('ParkedCalls', [
      {
        Event: 'ParkedCall',
        ParkeeChannel: 'SIP/trunk-in-00000007',
        ParkeeUniqueid: '1795582091.9',
        ParkeeLinkedid: '1795582091.9',
        ParkeeCallerIDNum: '79160000001',
        ParkerDialString: 'SIP/305',
        Parkinglot: 'default',
        ParkingSpace: '701',
      },
    ]);
    r.ami.setList('CoreShowChannels', [
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/trunk-in-00000007',
        ChannelState: '6',
        CallerIDNum: '79160000001',
        ConnectedLineNum: '305',
        Uniqueid: '1795582091.9',
        Linkedid: '1795582091.9',
        BridgeId: '255525f9-b6cb-44d9-8068-3c400fcb86c2',
        Application: 'Park',
      },
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/trunk-in-00000020',
        ChannelState: '4',
        CallerIDNum: '79035550011',
        ConnectedLineNum: '306',
        Uniqueid: '1795582300.40',
        Linkedid: '1795582300.40',
        Application: 'Dial',
      },
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/306-00000021',
        ChannelState: '5',
        ChannelStateDesc: 'Ringing',
        CallerIDNum: '306',
        ConnectedLineNum: '79035550011',
        Exten: 's',
        Uniqueid: '1795582300.41',
        Linkedid: '1795582300.40',
        Application: 'AppDial',
      },
    ]);
    const before305 = l305.events.length;
    await reconnect(r);
    assert.deepEqual(l305.events.slice(before305), [], 'the held call changed');
    assert.equal(l305.session.activeCalls()[0]?.id, held.call.id);
    assert.equal(l305.session.activeCalls()[0]?.state, CallState.HOLDED);
    const ring = calls(l306.events);
    assert.deepEqual(
      ring.map((e) => e.type),
      [MsgEventType.RING_STARTED],
    );
    assert.equal(ring[0]!.call.callerId, '79035550011');
  });

  it('an agent who chose not ready is paused again when Asterisk lost the pause (restart)', async () => {
    const r = await up({}, (ami) =>
      ami.setList('QueueStatus', [
        {
          Event: 'QueueMember',
          Queue: 'support',
          Name: '305',
          Location: 'Local/305@from-queue/n',
          Status: '1',
          Paused: '0',
          InCall: '0',
        },
      ]),
    );
    const log = r.open('305');
    await log.session.setAgentState('Away', 'Meeting');
    r.ami.clearActions();
    await reconnect(r);
    const again = await r.ami.waitForAction('QueuePause');
    assert.equal(again.get('Interface'), 'Local/305@from-queue/n');
    assert.equal(again.get('Paused'), 'true');
    assert.equal(again.get('Reason'), 'Meeting');
  });
});
