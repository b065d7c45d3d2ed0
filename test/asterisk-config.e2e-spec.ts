// Acceptance 3 of the Asterisk library: each key of the seed's asterisk block has its effect.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AmiPacket } from '@app/ami';
import { FakeAmiServer, fixturePath } from '@app/ami/testing';
import { AsteriskLibrary } from '@app/asterisk';
import { MsgEventType, type CallEvent, type LineEvent } from '@app/messaging';
import {
  actionFields,
  EventLog,
  libraryOptions,
  memoryLogger,
  queueMember305,
  replayUntil,
  rigsClosedAfterAll,
  settle,
  whenReady,
  type Rig,
} from './asterisk-harness';

const up = rigsClosedAfterAll();

const callTypes = (events: LineEvent[]) => events.filter((e) => 'call' in e).map((e) => e.type);
const pauses = (r: Rig) =>
  r.ami.actions.filter((a) => a.get('Action') === 'QueuePause').map(actionFields);

/** An Originate answered by a failure at once: enough to read the action's fields. */
function failOriginates(r: Rig): void {
  r.ami.onAction('Originate', (a, conn) => {
    conn.respond(a, { Message: 'Originate successfully queued' });
    conn.send({
      Event: 'OriginateResponse',
      ActionID: a.actionId ?? '',
      Response: 'Failure',
      Channel: a.get('Channel') ?? '',
      Reason: '0',
      Uniqueid: '<unknown>',
    });
  });
}

const member305 =
  (location = 'Local/305@from-queue/n') =>
  (ami: FakeAmiServer) =>
    ami.setList('QueueStatus', [queueMember305('support', location)]);

describe('asterisk config keys', () => {
  it('protocol: PJSIP/ lines are PJSIP/<line> channels (p1); with SIP/ the same trace shows nothing on 405', async () => {
    const pj = await up({ protocol: 'PJSIP/' });
    const l405 = pj.open('405');
    await pj.ami.replay('p1_pjsip_inbound_answered');
    await settle(pj.ami, pj.lib);
    assert.deepEqual(callTypes(l405.events), [5, 7, 6]);
    assert.equal((l405.events[0] as CallEvent).call.callerId, '79161234567');

    const sip = await up({ protocol: 'SIP/' });
    const s405 = sip.open('405');
    await sip.ami.replay('p1_pjsip_inbound_answered');
    await settle(sip.ami, sip.lib);
    assert.deepEqual(s405.events, []);
  });

  it('queueExtensionFormat: the member interface paused and recognised in QueueStatus', async () => {
    const r = await up(
      { queueExtensionFormat: 'Local/{0}@agents/n' },
      member305('Local/305@agents/n'),
    );
    const log = r.open('305');
    await log.session.setAgentState('Away');
    assert.deepEqual(pauses(r), [
      { Action: 'QueuePause', Interface: 'Local/305@agents/n', Paused: 'true', Reason: 'Away' },
    ]);
    assert.deepEqual(
      r.lib.lineStatus('305').queues.map((q) => q.memberInterface),
      ['Local/305@agents/n'],
    );

    const d = await up({}, member305('Local/305@agents/n'));
    assert.deepEqual(
      d.lib.lineStatus('305').queues,
      [],
      'default format matched another member interface',
    );
  });

  it('sendRingStartedOnRingingState: true shows the call on Newstate Ringing, false on DialBegin', async () => {
    const ringing = (p: AmiPacket) =>
      p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Ringing';
    const onRinging = await up({ sendRingStartedOnRingingState: true });
    const a = onRinging.open('305');
    await replayUntil(onRinging.ami, 'c_inbound_answered', ringing);
    await settle(onRinging.ami, onRinging.lib);
    assert.deepEqual(callTypes(a.events), [], 'shown before Newstate Ringing');

    const onDial = await up({ sendRingStartedOnRingingState: false });
    const b = onDial.open('305');
    await replayUntil(onDial.ami, 'c_inbound_answered', ringing);
    await settle(onDial.ami, onDial.lib);
    assert.deepEqual(callTypes(b.events), [MsgEventType.RING_STARTED]);
  });

  it('originateContext: the library default, the line override (LineSettings), the call override (MakeCallOptions)', async () => {
    const r = await up({ originateContext: 'ctx-default' });
    failOriginates(r);
    const plain = r.open('305');
    const perLine = r.open('306', { originateContext: 'ctx-line' });
    await assert.rejects(plain.session.makeCall('600'), { code: 'ORIGINATE_FAILED' });
    await assert.rejects(perLine.session.makeCall('600'), { code: 'ORIGINATE_FAILED' });
    await assert.rejects(perLine.session.makeCall('600', { context: 'ctx-call' }), {
      code: 'ORIGINATE_FAILED',
    });
    const ctx = r.ami.actions
      .filter((a) => a.get('Action') === 'Originate')
      .map((a) => [a.get('Channel'), a.get('Context')]);
    assert.deepEqual(ctx, [
      ['SIP/305', 'ctx-default'],
      ['SIP/306', 'ctx-line'],
      ['SIP/306', 'ctx-call'],
    ]);
  });

  it('parkingLotContext: the take-back Originate goes into it (line override too)', async () => {
    for (const [over, settings, expected] of [
      [{ parkingLotContext: 'lot-ctx' }, {}, 'lot-ctx'],
      [{ parkingLotContext: 'lot-ctx' }, { parkingLotContext: 'line-lot' }, 'line-lot'],
    ] as const) {
      const r = await up(over);
      const log = r.open('305', settings);
      await replayUntil(
        r.ami,
        'e1_park_unpark',
        (p) => p.event === 'Newchannel' && p.get('Channel') === 'SIP/305-00000009',
      );
      const held = (await log.waitFor((e) => e.type === MsgEventType.PUT_HOLD_ACTION)) as CallEvent;
      r.ami.onAction('Originate', (a, conn) =>
        conn.respond(a, { Message: 'Originate successfully queued' }),
      );
      await log.session.holdCall(held.call.id);
      const o = await r.ami.waitForAction('Originate');
      assert.equal(o.get('Context'), expected);
      assert.equal(o.get('Exten'), '701');
    }
  });

  it('asyncOriginate: false sends Async: false and the call still comes', async () => {
    const r = await up({ asyncOriginate: false });
    const log = r.open('305');
    r.ami.onAction('Originate', (a, conn) => {
      // A synchronous Originate is answered once the phone answered.
      void r.ami
        .replay('b1_originate_to_600', { filter: (p) => p.event !== 'OriginateResponse' })
        .then(() => conn.respond(a, { Message: 'Originate successfully queued' }));
    });
    const call = await log.session.makeCall('600');
    const o = await r.ami.waitForAction('Originate');
    assert.equal(o.get('Async'), 'false');
    assert.equal(call.calledId, '600');
  });

  it('autoPauseOnCommutationStart: paused in all queues when the call connects, unpaused when the line is idle (unless the agent chose not ready)', async () => {
    const on = await up({ autoPauseOnCommutationStart: true }, member305());
    const log = on.open('305');
    await on.ami.replay('c_inbound_answered');
    await log.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
    await on.ami.waitForAction('QueuePause', (a) => a.get('Paused') === 'false');
    assert.deepEqual(pauses(on), [
      {
        Action: 'QueuePause',
        Interface: 'Local/305@from-queue/n',
        Paused: 'true',
        Reason: 'autoPauseOnCommutationStart',
      },
      { Action: 'QueuePause', Interface: 'Local/305@from-queue/n', Paused: 'false' },
    ]);

    const away = await up({ autoPauseOnCommutationStart: true }, member305());
    const log2 = away.open('305');
    await log2.session.setAgentState('Away', 'Meeting');
    away.ami.clearActions();
    await away.ami.replay('c_inbound_answered');
    await log2.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
    await settle(away.ami, away.lib);
    assert.deepEqual(pauses(away), [
      {
        Action: 'QueuePause',
        Interface: 'Local/305@from-queue/n',
        Paused: 'true',
        Reason: 'autoPauseOnCommutationStart',
      },
    ]);

    const off = await up({ autoPauseOnCommutationStart: false }, member305());
    const log3 = off.open('305');
    await off.ami.replay('c_inbound_answered');
    await log3.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
    await settle(off.ami, off.lib);
    assert.deepEqual(pauses(off), []);
  });

  it('traceQueuesState: every queue member change of a line is logged (and not without it)', async () => {
    const on = await up({ traceQueuesState: true });
    await on.ami.replay('f_queue_pause');
    await settle(on.ami, on.lib);
    const lines = on.logger.lines.filter((l) =>
      l.includes('queue member Local/305@from-queue/n (line 305) in support'),
    );
    assert.ok(
      lines.some((l) => /QueueMemberPause status=2 paused=1 reason=Lunch inCall=1/.test(l)),
      on.logger.lines.join('\n'),
    );
    assert.ok(lines.some((l) => /QueueMemberStatus status=6/.test(l)));

    const off = await up({ traceQueuesState: false });
    await off.ami.replay('f_queue_pause');
    await settle(off.ami, off.lib);
    assert.deepEqual(
      off.logger.lines.filter((l) => l.includes('queue member')),
      [],
    );
  });

  it('packetInfoConfig: named headers and channel variables go into callContext', async () => {
    const r = await up({ packetInfoConfig: 'ctx=Context; var:CRM_ID, acc=header:AccountCode' });
    const log = r.open('305');
    const base = { Privilege: 'call,all', Linkedid: '1700000001.1', AccountCode: 'acme' };
    r.ami.broadcast({
      Event: 'Newchannel',
      ...base,
      Channel: 'SIP/trunk-in-00000001',
      Uniqueid: '1700000001.1',
      ChannelState: '4',
      CallerIDNum: '79160001122',
      ConnectedLineNum: '<unknown>',
      Context: 'from-trunk',
      Exten: '305',
    });
    r.ami.broadcast({
      Event: 'Newchannel',
      ...base,
      Channel: 'SIP/305-00000002',
      Uniqueid: '1700000001.2',
      ChannelState: '0',
      CallerIDNum: '305',
      ConnectedLineNum: '79160001122',
      Context: 'from-internal',
      Exten: '305',
    });
    r.ami.broadcast({
      Event: 'DialBegin',
      ...base,
      Channel: 'SIP/trunk-in-00000001',
      Uniqueid: '1700000001.1',
      CallerIDNum: '79160001122',
      Context: 'from-internal',
      DestChannel: 'SIP/305-00000002',
      DestUniqueid: '1700000001.2',
      DestLinkedid: '1700000001.1',
      DestChannelState: '0',
      DestConnectedLineNum: '79160001122',
      DestCallerIDNum: '305',
      DialString: '305',
    });
    r.ami.broadcast({
      Event: 'Newstate',
      ...base,
      Channel: 'SIP/305-00000002',
      Uniqueid: '1700000001.2',
      ChannelState: '5',
      ChannelStateDesc: 'Ringing',
      CallerIDNum: '305',
      ConnectedLineNum: '79160001122',
      Context: 'from-internal',
      Exten: '305',
      ChanVariable: ['CRM_ID=case-42', 'OTHER=x'],
    });
    const ring = (await log.waitFor((e) => e.type === MsgEventType.RING_STARTED)) as CallEvent;
    assert.deepEqual(JSON.parse(ring.call.callContext ?? '{}'), {
      ctx: 'from-internal',
      CRM_ID: 'case-42',
      acc: 'acme',
    });

    const none = await up({ packetInfoConfig: '' });
    const log2 = none.open('305');
    await none.ami.replay('c_inbound_answered');
    const e = (await log2.waitFor((x) => x.type === MsgEventType.RING_STARTED)) as CallEvent;
    assert.equal(e.call.callContext, undefined);
  });

  it('packetInfoConfig with a bad entry stops the library at construction with the entry named', async () => {
    const ami = await FakeAmiServer.start();
    try {
      assert.throws(
        () => new AsteriskLibrary(libraryOptions(ami, { packetInfoConfig: 'x=file:/etc/passwd' })),
        {
          code: 'PACKET_INFO_CONFIG_INVALID',
          message: /x=file:\/etc\/passwd/,
        },
      );
    } finally {
      await ami.close();
    }
  });

  it('filePath (replay): ready without Asterisk, the scenario drives the line, commands are refused', async () => {
    const ami = await FakeAmiServer.start();
    const opts = libraryOptions(ami);
    const lib = new AsteriskLibrary({
      ...opts,
      logger: memoryLogger(),
      ami: { ...opts.ami, replay: { file: fixturePath('c_inbound_answered'), speed: 0 } },
    });
    const log = new EventLog(lib.openLine('305'));
    lib.start();
    try {
      await whenReady(lib);
      await log.waitFor(
        (e) => e.type === MsgEventType.LINE_STATE_CHANGED,
        'the end of the replayed call',
      );
      assert.deepEqual(callTypes(log.events), [5, 7, 6]);
      await assert.rejects(log.session.makeCall('600'), { code: 'NOT_IMPLEMENTED' });
      assert.equal(ami.accepted, 0, 'replay mode connected to Asterisk');
    } finally {
      await lib.close();
      await ami.close();
    }
  });
});

describe('debug mode (RAW_DATA)', () => {
  it('a session with debugMode gets the AMI packets behind its line; others do not', async () => {
    const r = await up();
    const dbg = r.open('305', { debugMode: true });
    const plain = r.open('305');
    await r.ami.replay('c_inbound_answered');
    await dbg.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
    await settle(r.ami, r.lib);
    const raw = dbg.events.filter((e) => e.type === MsgEventType.RAW_DATA);
    assert.ok(raw.length > 10, `only ${raw.length} RAW_DATA events`);
    const first = raw[0] as Extract<LineEvent, { type: MsgEventType.RAW_DATA }>;
    assert.equal(first.data['Event'], 'Newchannel');
    assert.equal(first.data['Channel'], 'SIP/305-00000004');
    assert.equal(plain.events.filter((e) => e.type === MsgEventType.RAW_DATA).length, 0);
    plain.session.updateSettings({ debugMode: true });
    assert.equal(plain.session.settings().debugMode, true);
  });
});
