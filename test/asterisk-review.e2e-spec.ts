// Review of the Asterisk library: commands that must not leave a promise waiting or a stale
// expectation behind, and state that must be released (each test shows one defect that was fixed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AmiPacket } from '@app/ami';
import { FakeAmiServer } from '@app/ami/testing';
import { AsteriskLibrary } from '@app/asterisk';
import {
  CallDirection,
  CallState,
  MsgEventType,
  type Call,
  type CallEvent,
  type LineEvent,
} from '@app/messaging';
import {
  actionFields,
  EventLog,
  libraryOptions,
  memoryLogger,
  originateLikeB1,
  parkLikeE1,
  queueMember305,
  replayUntil,
  whenNotReady,
  whenReady,
  replayBeforePark,
  replayRange,
  rigsClosedAfterAll,
  settle,
  talkingCall,
  until,
  type Rig,
} from './asterisk-harness';

const up = rigsClosedAfterAll();

/** CoreShowChannel items of c_inbound_answered while 305 talks with the caller. */
const TALKING_305 = [
  {
    Event: 'CoreShowChannel',
    Channel: 'SIP/trunk-in-00000003',
    ChannelState: '6',
    ChannelStateDesc: 'Up',
    CallerIDNum: '79161234567',
    ConnectedLineNum: '305',
    Context: 'from-internal',
    Exten: '305',
    Uniqueid: '1795582075.5',
    Linkedid: '1795582075.5',
    BridgeId: 'fa6abb89-f361-404f-b92b-67686a69ed34',
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
    Uniqueid: '1795582075.6',
    Linkedid: '1795582075.5',
    BridgeId: 'fa6abb89-f361-404f-b92b-67686a69ed34',
  },
];

const isCall = (type: MsgEventType) => (e: LineEvent) => e.type === type && 'call' in e;

async function callBeforePark(r: Rig, log: EventLog): Promise<Call> {
  await replayBeforePark(r.ami);
  return ((await log.waitFor(isCall(MsgEventType.COMMUTATION_STARTED))) as CallEvent).call;
}

/** e1_park_unpark from the caller entering the parking bridge up to the take-back leg's Newchannel. */
async function replayParkedToTakeBack(r: Rig): Promise<void> {
  await replayRange(
    r.ami,
    'e1_park_unpark',
    (p) => p.event === 'BridgeEnter' && p.get('BridgeType') === 'parking',
    (p: AmiPacket) => p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009',
  );
}

describe('Asterisk library review: nothing left waiting, nothing kept', () => {
  it('a resync that failed does not keep collecting the Uniqueid of every later event', async () => {
    // A failed resync keeps the library not ready (issue 14) and is tried again later: long
    // enough here that the events below all come between two tries.
    const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
    ami.onAction('CoreShowChannels', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'Permission denied' }),
    );
    const logger = memoryLogger();
    const lib = new AsteriskLibrary(
      libraryOptions(ami, { logger, resyncRetryMinMs: 60_000, resyncRetryMaxMs: 60_000 }),
    );
    try {
      lib.start();
      await until(() => logger.lines.some((l) => l.includes('resync failed')), 'the failure');
      assert.equal(lib.readiness().ready, false, 'ready after a failed resync');
      const log = new EventLog(lib.openLine('305'));
      await talkingCall({ ami, lib, logger, open: () => log, close: async () => {} }, log);
      await settle(ami, lib);
      assert.equal(lib.tracker['seenSinceResync'], undefined, 'Uniqueids kept after the failure');
      assert.equal(lib.tracker['goneSinceResync'], undefined, 'Uniqueids kept after the failure');
    } finally {
      await lib.close();
      await ami.close();
    }
  });

  it('an unhold whose OriginateResponse never comes leaves no expectation: a later MakeCall is not taken for the retrieval', async () => {
    // The outcome of an Originate is given up after originateTimeoutMs + commandTimeoutMs.
    const r = await up({ originateTimeoutMs: 50, commandTimeoutMs: 1000 });
    const log = r.open('305');
    parkLikeE1(r.ami);
    const call = await callBeforePark(r, log);
    await log.session.holdCall(call.id);
    await log.waitFor(isCall(MsgEventType.PUT_HOLD_ACTION));
    await replayParkedToTakeBack(r);
    // Asterisk queues the take-back Originate and then says nothing more about it.
    r.ami.onAction('Originate', (a, conn) =>
      conn.respond(a, { Message: 'Originate successfully queued' }),
    );
    await log.session.holdCall(call.id);
    await until(() => r.lib.tracker['pending'].length === 0, 'the unhold expectation dropped');
    // The operator now calls someone while the first call waits in the parking lot.
    originateLikeB1(r.ami);
    const made = await log.session.makeCall('600');
    assert.equal(made.direction, CallDirection.OUT);
    assert.equal(made.calledId, '600');
    assert.notEqual(made.id, call.id);
  });

  it('HoldCall of a call that ends before Asterisk reports it parked fails at once with NO_SUCH_CALL', async () => {
    // commandTimeoutMs is long: the hold must not wait for it once the call is gone.
    const r = await up({ commandTimeoutMs: 60_000 });
    const log = r.open('305');
    const call = await callBeforePark(r, log);
    r.ami.onAction('Park', (a, conn) => {
      conn.respond(a, { Message: 'Park successful' });
      conn.send({
        Event: 'Hangup',
        Privilege: 'call,all',
        Channel: 'SIP/305-00000008',
        ChannelState: '6',
        Uniqueid: '1795582091.10',
        Linkedid: '1795582091.9',
        Cause: '16',
        'Cause-txt': 'Normal Clearing',
      });
    });
    await assert.rejects(log.session.holdCall(call.id), { code: 'NO_SUCH_CALL' });
    await log.waitFor(isCall(MsgEventType.RING_FINISHED));
  });

  it('autoPauseOnCommutationStart: a call found talking when the library starts pauses the line (queues known at once)', async () => {
    const r = await up({ autoPauseOnCommutationStart: true }, (ami) => {
      ami.setList('CoreShowChannels', TALKING_305);
      ami.setList('QueueStatus', [queueMember305('support')]);
    });
    await settle(r.ami, r.lib);
    assert.equal(r.lib.activeCalls('305')[0]?.state, CallState.CONNECTED);
    assert.deepEqual(
      r.ami.actions.filter((a) => a.get('Action') === 'QueuePause').map(actionFields),
      [
        {
          Action: 'QueuePause',
          Interface: 'Local/305@from-queue/n',
          Paused: 'true',
          Reason: 'autoPauseOnCommutationStart',
        },
      ],
    );
  });

  it('HoldCall twice at once (a double click): one Park, one take-back Originate, both answered', async () => {
    const r = await up();
    const log = r.open('305');
    parkLikeE1(r.ami);
    const call = await callBeforePark(r, log);
    const [a, b] = await Promise.all([
      log.session.holdCall(call.id),
      log.session.holdCall(call.id),
    ]);
    assert.equal(a.parkingSpace, '701');
    assert.equal(b.parkingSpace, '701');
    await replayParkedToTakeBack(r);
    r.ami.onAction('Originate', (x, conn) =>
      conn.respond(x, { Message: 'Originate successfully queued' }),
    );
    const [c, d] = await Promise.all([
      log.session.holdCall(call.id),
      log.session.holdCall(call.id),
    ]);
    assert.equal(c.parkingSpace, '701');
    assert.equal(d.parkingSpace, '701');
    await settle(r.ami, r.lib);
    const sent = (name: string) => r.ami.actions.filter((x) => x.get('Action') === name).length;
    assert.equal(sent('Park'), 1, 'Parks sent');
    assert.equal(
      sent('Originate'),
      1,
      "take-back Originates sent (the operator's phone rings twice)",
    );
  });

  it('reading the status of lines nobody uses, or calls ending on them, keeps nothing per line', async () => {
    // p1: PJSIP/405 answers a call; 405 is in no queue.
    const r = await up({ autoPauseOnCommutationStart: true, protocol: 'PJSIP/' });
    const log = r.open('405');
    await r.ami.replay('p1_pjsip_inbound_answered');
    await log.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
    for (let i = 0; i < 50; i++) {
      const status = r.lib.lineStatus(`9${i}`);
      assert.equal(status.agentState.code, 'Active');
      assert.equal(status.agentState.paused, false);
    }
    assert.deepEqual([...r.lib['agents'].keys()], [], 'agent entries kept');
  });

  it('a held call that ends while its take-back rings leaves no expectation behind', async () => {
    const r = await up();
    const log = r.open('305');
    parkLikeE1(r.ami);
    const call = await callBeforePark(r, log);
    await log.session.holdCall(call.id);
    await replayParkedToTakeBack(r);
    // The fake answers the take-back Originate with its OriginateResponse Success.
    await log.session.holdCall(call.id);
    await r.ami.waitForAction('Originate');
    // The parked caller gives up before the operator's phone rang.
    r.ami.broadcast({
      Event: 'Hangup',
      Privilege: 'call,all',
      Channel: 'SIP/trunk-in-00000007',
      ChannelState: '6',
      Uniqueid: '1795582091.9',
      Linkedid: '1795582091.9',
      Cause: '16',
      'Cause-txt': 'Normal Clearing',
    });
    await log.waitFor(isCall(MsgEventType.RING_FINISHED));
    await settle(r.ami, r.lib);
    assert.equal(
      r.lib.tracker['pending'].length,
      0,
      'the take-back of an ended call still expected',
    );
  });

  it('a consultation whose far end vanished while disconnected ends at the resync; the primary stays', async () => {
    const r = await up();
    const log = r.open('305');
    // g3 up to the consulted 306 answering: 305 talks with 306, its caller held.
    await replayUntil(r.ami, 'g3_atxfer', (p) => p.event === 'BridgeMerge');
    const consult = (await log.waitFor(
      (e) =>
        isCall(MsgEventType.COMMUTATION_STARTED)(e) && (e as CallEvent).call.calledId === '306',
    )) as CallEvent;
    const primary = log.session.currentCall()!;
    assert.notEqual(primary.id, consult.call.id);
    // While we are away 306 hangs up: Asterisk has the caller and 305 back in one bridge.
    const bridge = 'c6e9d2fd-b414-4f01-b91d-9dbadbd50693';
    r.ami.setList('CoreShowChannels', [
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/trunk-in-00000019',
        ChannelState: '6',
        ChannelStateDesc: 'Up',
        Uniqueid: '1795582208.31',
        Linkedid: '1795582208.31',
        BridgeId: bridge,
      },
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/305-0000001a',
        ChannelState: '6',
        ChannelStateDesc: 'Up',
        Uniqueid: '1795582208.32',
        Linkedid: '1795582208.31',
        BridgeId: bridge,
      },
    ]);
    r.ami.dropAll();
    await whenNotReady(r.lib);
    await whenReady(r.lib);
    await settle(r.ami, r.lib);
    const end = (await log.waitFor(
      (e) => isCall(MsgEventType.RING_FINISHED)(e) && (e as CallEvent).call.id === consult.call.id,
      'the consultation ended',
    )) as CallEvent;
    assert.equal(end.call.state, CallState.NONE);
    assert.deepEqual(
      log.session.activeCalls().map((c) => c.id),
      [primary.id],
    );
  });

  it('a parked call taken back on its line while disconnected keeps its id at the resync', async () => {
    const r = await up();
    const log = r.open('305');
    // e1 up to the retrieval: 305's caller is parked in 701, the operator's leg hung up.
    await replayUntil(
      r.ami,
      'e1_park_unpark',
      (p) => p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009',
    );
    const held = (await log.waitFor(isCall(MsgEventType.PUT_HOLD_ACTION))) as CallEvent;
    await settle(r.ami, r.lib);
    // While we are away 305 takes the caller back: no longer parked, bridged with 305's new leg.
    const bridge = '9b2f6a0e-0d0c-4f3e-a9a1-7a1f0c2d3e4f';
    r.ami.setList('ParkedCalls', []);
    r.ami.setList('CoreShowChannels', [
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/trunk-in-00000007',
        ChannelState: '6',
        CallerIDNum: '79160000001',
        ConnectedLineNum: '305',
        Uniqueid: '1795582091.9',
        Linkedid: '1795582091.9',
        BridgeId: bridge,
      },
      {
        Event: 'CoreShowChannel',
        Channel: 'SIP/305-00000009',
        ChannelState: '6',
        CallerIDNum: '305',
        ConnectedLineNum: '79160000001',
        Exten: '701',
        Uniqueid: '1795582101.11',
        Linkedid: '1795582101.11',
        BridgeId: bridge,
      },
    ]);
    const before = log.events.length;
    r.ami.dropAll();
    await whenNotReady(r.lib);
    await whenReady(r.lib);
    await settle(r.ami, r.lib);
    const after = log.events.slice(before).filter((e): e is CallEvent => 'call' in e);
    assert.deepEqual(
      after.map((e) => [e.type, e.call.id]),
      [[MsgEventType.END_HOLD_ACTION, held.call.id]],
    );
    assert.equal(log.session.activeCalls()[0]?.state, CallState.CONNECTED);
  });

  it("a take-back that fails does not drop the expectation of the line's MakeCall sent before it", async () => {
    const r = await up();
    const log = r.open('305');
    parkLikeE1(r.ami);
    const call = await callBeforePark(r, log);
    await log.session.holdCall(call.id);
    await replayParkedToTakeBack(r);
    let makeCallAction: AmiPacket | undefined;
    r.ami.onAction('Originate', (a, conn) => {
      conn.respond(a, { Message: 'Originate successfully queued' });
      if (a.get('Context') !== 'parkedcalls') {
        makeCallAction = a;
        return;
      }
      // The operator does not answer the take-back.
      conn.send({
        Event: 'OriginateResponse',
        Privilege: 'call,all',
        ActionID: a.actionId ?? '',
        Response: 'Failure',
        Channel: 'SIP/305',
        Context: 'parkedcalls',
        Exten: '701',
        Reason: '3',
        Uniqueid: '<unknown>',
        CallerIDNum: '<unknown>',
        CallerIDName: '<unknown>',
      });
    });
    const made = log.session.makeCall('600');
    await r.ami.waitForAction('Originate', (a) => a.get('Context') === 'from-internal');
    await log.session.holdCall(call.id);
    await log.waitFor((e) => e.type === MsgEventType.ERROR, 'the failed take-back');
    await settle(r.ami, r.lib);
    // Now Asterisk rings 305 for the MakeCall (b1's events with its ActionID).
    await r.ami.replay('b1_originate_to_600', { mapActionId: () => makeCallAction!.actionId });
    const c = await made;
    assert.equal(c.calledId, '600');
    assert.equal(c.direction, CallDirection.OUT);
  });
});
