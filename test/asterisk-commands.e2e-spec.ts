// Acceptance 2 of the Asterisk library: the AMI actions each command sends, field by field, and the
// typed error of each refused command.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AmiPacket } from '@app/ami';
import {
  CallDirection,
  CallState,
  MsgEventType,
  type Call,
  type CallEvent,
  type LineErrorEvent,
  type LineEvent,
} from '@app/messaging';
import {
  actionFields,
  ATXFER_G3_TO_306,
  DTMF_1_HASH,
  HANGUP_G3_CONSULTED,
  ORIGINATE_305_TO_600,
  PARK_E1,
  UNPARK_E1,
  originateBusy,
  originateLikeB1,
  parkLikeE1,
  queueMember305,
  replayBeforePark,
  replayFrom,
  replayRange,
  replayRinging,
  replayUntil,
  rigsClosedAfterAll,
  talkingCall,
  until,
  whenNotReady,
  type EventLog,
  type Rig,
} from './asterisk-harness';

const up = rigsClosedAfterAll();

const isCall = (type: MsgEventType) => (e: LineEvent) => e.type === type && 'call' in e;

/** e1_park_unpark up to the ParkedCall event (the Park the recorder sent is ours here). */
async function callBeforePark(r: Rig, log: EventLog): Promise<Call> {
  await replayBeforePark(r.ami);
  return ((await log.waitFor(isCall(MsgEventType.COMMUTATION_STARTED))) as CallEvent).call;
}

describe('Asterisk library commands -> AMI actions', () => {
  it('MakeCall: Originate of the line into originateContext, resolved with the OUT call; connected on OriginateResponse', async () => {
    const r = await up();
    const log = r.open('305');
    // What Asterisk did for b1's Originate, with this action's ActionID on the OriginateResponse.
    originateLikeB1(r.ami);
    const call = await log.session.makeCall('600');
    const o = await r.ami.waitForAction('Originate');
    assert.deepEqual(actionFields(o), ORIGINATE_305_TO_600);
    assert.equal(call.direction, CallDirection.OUT);
    assert.equal(call.state, CallState.ALERTING);
    assert.equal(call.calledId, '600');
    assert.equal(call.callerId, '305');
    const done = (await log.waitFor(isCall(MsgEventType.RING_FINISHED))) as CallEvent;
    assert.equal(done.call.id, call.id);
    assert.deepEqual(
      log.events.filter((e) => 'call' in e).map((e) => e.type),
      [MsgEventType.RING_STARTED, MsgEventType.COMMUTATION_STARTED, MsgEventType.RING_FINISHED],
    );
  });

  it('MakeCall not answered (b3): the call shows, then the client gets ORIGINATE_FAILED and the call ends', async () => {
    const r = await up();
    const log = r.open('305');
    r.ami.onAction('Originate', (a, conn) => {
      conn.respond(a, { Message: 'Originate successfully queued' });
      void r.ami.replay('b3_originate_noanswer', { mapActionId: () => a.actionId });
    });
    const call = await log.session.makeCall('600');
    const err = (await log.waitFor(
      (e) => e.type === MsgEventType.ERROR,
      'ERROR',
    )) as LineErrorEvent;
    assert.equal(err.error.code, 'ORIGINATE_FAILED');
    assert.match(err.error.message, /not answered/);
    assert.equal(err.callId, call.id);
    const end = (await log.waitFor(isCall(MsgEventType.RING_FINISHED))) as CallEvent;
    assert.equal(end.call.id, call.id);
  });

  it('MakeCall to a busy/unreachable phone (Failure before any channel): rejected with ORIGINATE_FAILED', async () => {
    const r = await up();
    const log = r.open('305');
    originateBusy(r.ami);
    await assert.rejects(log.session.makeCall('600'), {
      code: 'ORIGINATE_FAILED',
      message: /busy/,
    });
    assert.deepEqual(log.session.activeCalls(), []);
  });

  it('MakeCall refused by Asterisk (Response: Error): ACTION_FAILED with the server message', async () => {
    const r = await up();
    const log = r.open('305');
    r.ami.onAction('Originate', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'Extension does not exist.' }),
    );
    await assert.rejects(log.session.makeCall('999'), {
      code: 'ACTION_FAILED',
      detail: 'Extension does not exist.',
    });
  });

  it('DropCall: Hangup of the line channel with Cause 16', async () => {
    const r = await up();
    const log = r.open('305');
    const call = await talkingCall(r, log);
    await log.session.dropCall(call.id);
    const a = await r.ami.waitForAction('Hangup');
    assert.deepEqual(actionFields(a), {
      Action: 'Hangup',
      Channel: 'SIP/305-00000004',
      Cause: '16',
    });
  });

  it('HoldCall: Park of the remote party (TimeoutChannel = the line), then the take-back Originate into parkingLotContext at the space', async () => {
    const r = await up();
    const log = r.open('305');
    parkLikeE1(r.ami);
    const call = await callBeforePark(r, log);
    const held = await log.session.holdCall(call.id);
    const park = await r.ami.waitForAction('Park');
    assert.deepEqual(actionFields(park), PARK_E1);
    assert.equal(held.parkingSpace, '701');
    assert.equal(held.call.state, CallState.HOLDED);
    assert.equal(held.call.id, call.id);
    const put = (await log.waitFor(isCall(MsgEventType.PUT_HOLD_ACTION))) as CallEvent;
    assert.equal(put.call.id, call.id);
    // The operator's leg hangs up while the caller is parked (trace), the call stays held.
    const retrievalLeg = (p: AmiPacket) =>
      p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009';
    await replayRange(
      r.ami,
      'e1_park_unpark',
      (p) => p.event === 'BridgeEnter' && p.get('BridgeType') === 'parking',
      retrievalLeg,
    );
    await until(() => r.lib.tracker.sizes().channels === 1, 'the operator leg gone');
    assert.equal(log.session.activeCalls()[0]?.state, CallState.HOLDED);
    r.ami.onAction('Originate', (a, conn) =>
      conn.respond(a, { Message: 'Originate successfully queued' }),
    );
    const back = await log.session.holdCall(call.id);
    const o = await r.ami.waitForAction('Originate');
    assert.deepEqual(actionFields(o), UNPARK_E1);
    assert.equal(back.parkingSpace, '701');
    assert.ok(
      log.events.every((e) => e.type !== MsgEventType.RING_FINISHED),
      'the held call ended',
    );
    // Asterisk rings 305 and bridges it with the parked caller: the same call comes back.
    await replayFrom(r.ami, 'e1_park_unpark', retrievalLeg);
    const end = (await log.waitFor(isCall(MsgEventType.END_HOLD_ACTION))) as CallEvent;
    assert.equal(end.call.id, call.id);
    assert.ok(
      !log.events.some(
        (e) => isCall(MsgEventType.RING_STARTED)(e) && (e as CallEvent).call.id !== call.id,
      ),
      'a second call showed',
    );
  });

  it('HoldCall of a queue call parks the outside caller, not the Local channel (f_queue_pause)', async () => {
    const r = await up();
    const log = r.open('305');
    r.ami.onAction('Park', (a, conn) => {
      conn.respond(a, { Message: 'Park successful' });
      conn.send({
        Event: 'ParkedCall',
        ParkeeChannel: 'SIP/trunk-in-00000010',
        ParkeeUniqueid: '1795582153.18',
        ParkeeLinkedid: '1795582153.18',
        ParkerDialString: 'SIP/305',
        Parkinglot: 'default',
        ParkingSpace: '702',
      });
    });
    await replayUntil(r.ami, 'f_queue_pause', (p) => p.event === 'HangupRequest');
    const call = ((await log.waitFor(isCall(MsgEventType.COMMUTATION_STARTED))) as CallEvent).call;
    const held = await log.session.holdCall(call.id);
    const park = await r.ami.waitForAction('Park');
    assert.deepEqual(actionFields(park), {
      Action: 'Park',
      Channel: 'SIP/trunk-in-00000010',
      TimeoutChannel: 'SIP/305-00000012',
    });
    assert.equal(held.parkingSpace, '702');
    assert.equal(held.call.id, call.id);
  });

  it('BlindTransferCall: BlindTransfer of the line channel; of a parked call: Redirect of the parked party', async () => {
    const r = await up();
    const log = r.open('305');
    const call = await talkingCall(r, log);
    await log.session.blindTransferCall(call.id, '306');
    const bt = await r.ami.waitForAction('BlindTransfer');
    assert.deepEqual(actionFields(bt), {
      Action: 'BlindTransfer',
      Channel: 'SIP/305-00000004',
      Context: 'from-internal',
      Exten: '306',
    });

    const r2 = await up();
    const log2 = r2.open('305');
    parkLikeE1(r2.ami);
    const held = await callBeforePark(r2, log2);
    await log2.session.holdCall(held.id);
    await log2.session.blindTransferCall(held.id, '307');
    const rd = await r2.ami.waitForAction('Redirect');
    assert.deepEqual(actionFields(rd), {
      Action: 'Redirect',
      Channel: 'SIP/trunk-in-00000007',
      Context: 'from-internal',
      Exten: '307',
      Priority: '1',
    });
  });

  it('MakeConsultCall: Atxfer of the line channel; TransferCall: Hangup of the line; CancelTransfer: Hangup of the consulted party', async () => {
    const r = await up();
    const log = r.open('305');
    await replayUntil(r.ami, 'g3_atxfer', (p) => p.event === 'Hold');
    const primary = ((await log.waitFor(isCall(MsgEventType.COMMUTATION_STARTED))) as CallEvent)
      .call;
    const consultP = log.session.makeConsultCall(primary.id, '306');
    const at = await r.ami.waitForAction('Atxfer');
    assert.deepEqual(actionFields(at), ATXFER_G3_TO_306);
    // Asterisk carries the Atxfer out: the trace from its Hold event to the consulted party's answer.
    await replayUntil(r.ami, 'g3_atxfer', (p) => p.event === 'BridgeMerge');
    const consult = await consultP;
    assert.notEqual(consult.id, primary.id);
    assert.equal(consult.direction, CallDirection.OUT);
    assert.equal(consult.calledId, '306');
    await log.waitFor(
      (e) => isCall(MsgEventType.COMMUTATION_STARTED)(e) && (e as CallEvent).call.id === consult.id,
    );
    assert.equal(log.session.currentCall()?.id, primary.id, 'the buttons follow the primary');

    await log.session.cancelTransfer(primary.id, consult.id);
    const cancel = await r.ami.waitForAction('Hangup');
    assert.deepEqual(actionFields(cancel), HANGUP_G3_CONSULTED);
    r.ami.clearActions();
    await log.session.transferCall(primary.id, consult.id);
    const tr = await r.ami.waitForAction('Hangup');
    assert.deepEqual(actionFields(tr), {
      Action: 'Hangup',
      Channel: 'SIP/305-0000001a',
      Cause: '16',
    });
  });

  it('SendDtmf: PlayDTMF of each digit to the remote party', async () => {
    const r = await up();
    const log = r.open('305');
    const call = await talkingCall(r, log);
    await log.session.sendDtmf(call.id, '1#');
    const sent = r.ami.actions.filter((a) => a.get('Action') === 'PlayDTMF').map(actionFields);
    assert.deepEqual(sent, DTMF_1_HASH);
  });

  it('agent state and queue pause: QueuePause of the member interface (all queues, or one)', async () => {
    const r = await up({}, (ami) =>
      ami.setList('QueueStatus', [queueMember305('support'), queueMember305('sales')]),
    );
    const log = r.open('305');
    const pauses = () =>
      r.ami.actions.filter((a) => a.get('Action') === 'QueuePause').map(actionFields);
    const st = await log.session.setAgentState('Away', 'Lunch');
    assert.equal(st.code, 'Away');
    await log.session.setAgentState('Active');
    await log.session.setWrapUpState(true);
    await log.session.setWrapUpState(false);
    await log.session.setQueuePause(true, 'Break', 'support');
    assert.deepEqual(pauses(), [
      {
        Action: 'QueuePause',
        Interface: 'Local/305@from-queue/n',
        Paused: 'true',
        Reason: 'Lunch',
      },
      { Action: 'QueuePause', Interface: 'Local/305@from-queue/n', Paused: 'false' },
      {
        Action: 'QueuePause',
        Interface: 'Local/305@from-queue/n',
        Paused: 'true',
        Reason: 'WrapUp',
      },
      { Action: 'QueuePause', Interface: 'Local/305@from-queue/n', Paused: 'false' },
      {
        Action: 'QueuePause',
        Interface: 'Local/305@from-queue/n',
        Paused: 'true',
        Queue: 'support',
        Reason: 'Break',
      },
    ]);
    const agentEvents = log.events.filter((e) => e.type === MsgEventType.AGENT_STATE_CHANGED);
    assert.deepEqual(
      agentEvents.map((e) => ('code' in e ? e.code : '')),
      ['Away', 'Active'],
    );
    assert.deepEqual(
      r.lib.lineStatus('305').queues.map((q) => [q.queue, q.memberInterface]),
      [
        ['support', 'Local/305@from-queue/n'],
        ['sales', 'Local/305@from-queue/n'],
      ],
    );
  });
});

describe('Asterisk library commands that cannot apply -> typed errors', () => {
  it('no such call, wrong line, bad arguments, wrong state, not implemented', async () => {
    const r = await up();
    const l305 = r.open('305');
    const l306 = r.open('306');
    const call = await talkingCall(r, l305);
    await assert.rejects(l305.session.dropCall('no-such-id'), { code: 'NO_SUCH_CALL' });
    await assert.rejects(l306.session.dropCall(call.id), { code: 'WRONG_LINE' });
    await assert.rejects(l306.session.holdCall(call.id), { code: 'WRONG_LINE' });
    await assert.rejects(l305.session.makeCall('12\r\nAction: Logoff'), {
      code: 'INVALID_ARGUMENT',
    });
    await assert.rejects(l305.session.makeCall(''), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(l305.session.sendDtmf(call.id, '12x'), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(l305.session.blindTransferCall(call.id, 'a b'), {
      code: 'INVALID_ARGUMENT',
    });
    await assert.rejects(l305.session.answerCall(call.id), { code: 'NOT_IMPLEMENTED' });
    await assert.rejects(l305.session.transferCall(call.id, call.id), { code: 'INVALID_STATE' });
    await assert.rejects(l305.session.makeCall('600', { context: 'bad context' }), {
      code: 'INVALID_ARGUMENT',
    });
    assert.equal(
      r.ami.actions.filter(
        (a) =>
          !['Login', 'CoreShowChannels', 'ParkedCalls', 'QueueStatus', 'Events', 'Filter'].includes(
            a.get('Action') ?? '',
          ),
      ).length,
      0,
      'a refused command sent an action',
    );
  });

  it('a ringing call cannot be held, transferred or sent DTMF (INVALID_STATE)', async () => {
    const r = await up();
    const log = r.open('305');
    await replayRinging(r.ami);
    const ringing = ((await log.waitFor(isCall(MsgEventType.RING_STARTED))) as CallEvent).call;
    await assert.rejects(log.session.holdCall(ringing.id), { code: 'INVALID_STATE' });
    await assert.rejects(log.session.blindTransferCall(ringing.id, '306'), {
      code: 'INVALID_STATE',
    });
    await assert.rejects(log.session.sendDtmf(ringing.id, '1'), { code: 'INVALID_STATE' });
    await assert.rejects(log.session.makeConsultCall(ringing.id, '306'), { code: 'INVALID_STATE' });
  });

  it('the connection lost while a MakeCall waits for its outcome: NOT_CONNECTED, nothing left pending', async () => {
    const r = await up();
    const log = r.open('305');
    r.ami.onAction('Originate', (a, conn) => {
      conn.respond(a, { Message: 'Originate successfully queued' });
      setImmediate(() => r.ami.dropAll());
    });
    await assert.rejects(log.session.makeCall('600'), { code: 'NOT_CONNECTED' });
    assert.deepEqual(log.session.activeCalls(), []);
  });

  it('Asterisk refusing an action gives ACTION_FAILED with its message', async () => {
    const r = await up();
    const log = r.open('305');
    const call = await talkingCall(r, log);
    r.ami.onAction('Hangup', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'No such channel' }),
    );
    await assert.rejects(log.session.dropCall(call.id), {
      code: 'ACTION_FAILED',
      detail: 'No such channel',
    });
  });

  it('not connected: every command fails with NOT_CONNECTED, the calls are kept', async () => {
    const r = await up();
    const log = r.open('305');
    const call = await talkingCall(r, log);
    r.ami.refuse(true);
    r.ami.dropAll();
    await whenNotReady(r.lib);
    await assert.rejects(log.session.dropCall(call.id), { code: 'NOT_CONNECTED' });
    await assert.rejects(log.session.makeCall('600'), { code: 'NOT_CONNECTED' });
    await assert.rejects(log.session.holdCall(call.id), { code: 'NOT_CONNECTED' });
    await assert.rejects(log.session.setQueuePause(true), { code: 'NOT_CONNECTED' });
    assert.equal(log.session.activeCalls()[0]?.id, call.id);
    r.ami.refuse(false);
  });
});
