// Issue 14, acceptance 2 to 6, on the fake AMI server: trunks are not lines, numbers as a CRM
// shows them, a failed resync is not ready, click-to-call connects when the far end answers, and
// answering from the CRM sends exactly the documented AMI action.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import type { AmiPacket } from '@app/ami';
import { FakeAmiServer } from '@app/ami/testing';
import {
  CallFeature,
  CallState,
  MessagingErrorCode,
  MessagingRegistry,
  MsgEventType,
  type CallEvent,
  type LineEvent,
} from '@app/messaging';
import { keysEnv, makeKey, startServiceApp, type ApiApp } from './support/api-app';
import {
  actionFields,
  originateLikeB1,
  replayRinging,
  replayTalking,
  replayUntil,
  rigsClosedAfterAll,
  settle,
  whenNotReady,
  whenReady,
  type Rig,
} from './asterisk-harness';

Logger.overrideLogger(false);

const up = rigsClosedAfterAll();
const callEvents = (events: LineEvent[]) => events.filter((e): e is CallEvent => 'call' in e);
const originates = (r: Rig) =>
  r.ami.actions.filter((a) => a.get('Action') === 'Originate').map(actionFields);

/** The Originate answered by a failure at once (enough to read its fields). */
function failOriginates(ami: FakeAmiServer): void {
  ami.onAction('Originate', (a, conn) => {
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

describe('acceptance 2: trunks are not lines', () => {
  it("replaying c_inbound_answered: no line trunk-in in events (the line's, the all-lines stream), calls or busy lines; 305 gets the call", async () => {
    const r = await up();
    const trunk = r.open('trunk-in');
    const l305 = r.open('305');
    // What the console and the event stream watch: every line's events.
    const everyLine = new Set<string>();
    const sub = r.lib.watchAllLines().subscribe((e) => everyLine.add(e.line));
    await replayTalking(r.ami);
    await settle(r.ami, r.lib);
    assert.deepEqual(r.lib.activeCalls('trunk-in'), []);
    assert.deepEqual(r.lib.busyLines(), ['305']);
    await r.ami.replay('c_inbound_answered', { filter: (p) => p.event === 'Hangup' });
    await settle(r.ami, r.lib);
    assert.deepEqual(trunk.events, [], 'events on line trunk-in');
    sub.unsubscribe();
    assert.deepEqual([...everyLine], ['305'], 'lines in the all-lines stream');
    assert.deepEqual(
      callEvents(l305.events).map((e) => e.type),
      [MsgEventType.RING_STARTED, MsgEventType.COMMUTATION_STARTED, MsgEventType.RING_FINISHED],
    );
    assert.equal(callEvents(l305.events)[0]!.call.callerId, '79161234567');
  });

  it("SIP/office (the guide's named line) is still a line; a trunk named in asterisk.trunks is not", async () => {
    const r = await up({ lineRules: { trunks: ['carrier*'], lines: [] } });
    const office = r.open('office');
    const carrier = r.open('carrier-1');
    const base = { Privilege: 'call,all', Linkedid: '1700000001.1' };
    r.ami.broadcast({
      Event: 'Newchannel',
      ...base,
      Channel: 'SIP/carrier-1-00000001',
      Uniqueid: '1700000001.1',
      ChannelState: '4',
      CallerIDNum: '79160001122',
      Context: 'inbound', // not a FreePBX trunk context: the name makes it a trunk
      Exten: 'office',
    });
    r.ami.broadcast({
      Event: 'Newchannel',
      ...base,
      Channel: 'SIP/office-00000002',
      Uniqueid: '1700000001.2',
      ChannelState: '0',
      CallerIDNum: 'office',
      Context: 'from-internal',
      Exten: 'office',
    });
    r.ami.broadcast({
      Event: 'DialBegin',
      ...base,
      Channel: 'SIP/carrier-1-00000001',
      Uniqueid: '1700000001.1',
      CallerIDNum: '79160001122',
      DestChannel: 'SIP/office-00000002',
      DestUniqueid: '1700000001.2',
      DestLinkedid: '1700000001.1',
      DestChannelState: '0',
      DestConnectedLineNum: '79160001122',
      DialString: 'office',
    });
    r.ami.broadcast({
      Event: 'Newstate',
      ...base,
      Channel: 'SIP/office-00000002',
      Uniqueid: '1700000001.2',
      ChannelState: '5',
      ChannelStateDesc: 'Ringing',
      ConnectedLineNum: '79160001122',
    });
    const ring = (await office.waitFor(
      (e) => e.type === MsgEventType.RING_STARTED,
      'RING_STARTED',
    )) as CallEvent;
    assert.equal(ring.call.callerId, '79160001122');
    await settle(r.ami, r.lib);
    assert.deepEqual(carrier.events, []);
    assert.deepEqual(r.lib.busyLines(), ['office']);
  });

  it("REST: GET /api/v1/calls lists the operator's call only, never the trunk", async () => {
    const app = await serviceUp();
    await replayTalking(app.ami);
    const lib = app.api.app.get(MessagingRegistry).active();
    await until(() => lib.activeCalls('305').some((c) => c.state === CallState.CONNECTED));
    const all = await app.http().get('/api/v1/calls').set(auth).expect(200);
    const listed = (all.body as { calls: { deviceId: string }[] }).calls;
    assert.deepEqual(
      listed.map((c) => c.deviceId),
      ['305'],
    );
    await app.http().get('/api/v1/calls?line=trunk-in').set(auth).expect(200, { calls: [] });
  });
});

describe('acceptance 3: numbers as a CRM shows them', () => {
  it('MakeCall "+7 (916) 123-45-67" sends Originate Exten +79161234567; "12; DROP" is refused and nothing is sent', async () => {
    const r = await up({}, failOriginates);
    const log = r.open('305');
    await assert.rejects(log.session.makeCall('+7 (916) 123-45-67'), {
      code: 'ORIGINATE_FAILED',
    });
    const [o] = originates(r);
    assert.equal(o?.['Exten'], '+79161234567');
    assert.equal(o?.['CallerID'], '"+79161234567" <+79161234567>');
    await assert.rejects(log.session.makeCall('12; DROP'), (e: Error & { code?: string }) => {
      assert.equal(e.code, MessagingErrorCode.InvalidArgument);
      assert.match(e.message, /'12; DROP' cannot be dialled/);
      return true;
    });
    await assert.rejects(log.session.makeCall('305\r\nAction: Hangup'), {
      code: MessagingErrorCode.InvalidArgument,
    });
    await settle(r.ami, r.lib);
    assert.equal(originates(r).length, 1, 'a refused number was sent');
  });

  it('the dial rule: rewrites and prefix for outside numbers (the lab: +7... -> 97...), extensions as they are', async () => {
    const r = await up(
      { dialRule: { prefix: '9', rewrites: ['+='], outsideMinLength: 7 } },
      failOriginates,
    );
    const log = r.open('305');
    for (const n of ['+7 (916) 123-45-67', '8.916.123.45.67', '306', 'office'])
      await assert.rejects(log.session.makeCall(n), { code: 'ORIGINATE_FAILED' });
    assert.deepEqual(
      originates(r).map((o) => o['Exten']),
      ['979161234567', '989161234567', '306', 'office'],
    );
  });

  it('transfer targets follow the same rule', async () => {
    const r = await up({ dialRule: { prefix: '9', rewrites: ['+='], outsideMinLength: 7 } });
    const log = r.open('305');
    await replayTalking(r.ami);
    const talking = (await log.waitFor(
      (e) => e.type === MsgEventType.COMMUTATION_STARTED,
    )) as CallEvent;
    await log.session.blindTransferCall(talking.call.id, '+7 916 555-00-00');
    const bt = await r.ami.waitForAction('BlindTransfer');
    assert.equal(bt.get('Exten'), '979165550000');
  });
});

describe('acceptance 3 over REST', () => {
  it('POST /api/v1/calls with "+7 (916) 123-45-67" originates Exten +79161234567; "12; DROP" is a 400 naming the field', async () => {
    const app = await serviceUp();
    failOriginates(app.ami);
    app.ami.clearActions();
    await app
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '+7 (916) 123-45-67' })
      .expect((res) => assert.notEqual(res.status, 400, JSON.stringify(res.body)));
    const o = await app.ami.waitForAction('Originate');
    assert.equal(o.get('Exten'), '+79161234567');
    const bad = await app
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '12; DROP' })
      .expect(400);
    assert.match(JSON.stringify(bad.body), /number: must be digits/);
    assert.equal(app.ami.actions.filter((a) => a.get('Action') === 'Originate').length, 1);
  });
});

describe('acceptance 4: a failed resync is not ready', () => {
  it('CoreShowChannels fails after a reconnect: not ready, tried again; once it succeeds the call that ended meanwhile ends on the panel', async () => {
    const r = await up({ resyncRetryMinMs: 50, resyncRetryMaxMs: 200 });
    const log = r.open('305');
    await replayTalking(r.ami);
    const talking = (await log.waitFor(
      (e) => e.type === MsgEventType.COMMUTATION_STARTED,
    )) as CallEvent;
    let failures = 0;
    r.ami.onAction('CoreShowChannels', (a, conn) => {
      if (failures < 2) {
        failures += 1;
        conn.respond(a, { Response: 'Error', Message: 'Permission denied' });
      } else conn.respondList(a, [], 'CoreShowChannelsComplete');
    });
    const notReady = whenNotReady(r.lib);
    r.ami.dropAll();
    await notReady;
    let reason = '';
    const sub = r.lib.readiness$.subscribe((x) => {
      if (!x.ready && /resync failed/.test(x.reason ?? '')) reason = x.reason ?? '';
    });
    await until(() => reason !== '');
    sub.unsubscribe();
    assert.match(reason, /resync failed: .*Permission denied/);
    assert.equal(log.session.activeCalls().length, 1, 'the call is still shown while not ready');
    await whenReady(r.lib);
    assert.equal(failures, 2);
    assert.equal(
      r.ami.actions.filter((a) => a.get('Action') === 'CoreShowChannels').length,
      4, // the first resync, the two failed ones, the one that succeeded
    );
    const end = (await log.waitFor((e) => e.type === MsgEventType.RING_FINISHED)) as CallEvent;
    assert.equal(end.call.id, talking.call.id);
    assert.deepEqual(log.session.activeCalls(), []);
  });

  it('the service: /health/ready is 503 naming the failed resync, then 200 after the retry', async () => {
    let failing = true;
    const app = await serviceUp();
    app.ami.onAction('CoreShowChannels', (a, conn) => {
      if (failing) conn.respond(a, { Response: 'Error', Message: 'Permission denied' });
      else conn.respondList(a, [], 'CoreShowChannelsComplete');
    });
    app.ami.dropAll();
    // First the dropped connection, then (logged in again) the failed resync.
    await until(async () => {
      const res = await app.http().get('/health/ready');
      return res.status === 503 && /resync failed/.test(JSON.stringify(res.body));
    });
    const ready = await app.http().get('/health/ready').expect(503);
    assert.match(JSON.stringify(ready.body), /resync failed: .*Permission denied/);
    failing = false;
    await until(async () => (await app.http().get('/health/ready')).status === 200);
  });
});

describe('acceptance 5: click-to-call to an outside number (b2)', () => {
  it("COMMUTATION_STARTED only when the far end answers (DialEnd ANSWER of the line's Dial), not when 305 answers", async () => {
    const r = await up();
    const log = r.open('305');
    const farEndAnswers = (p: AmiPacket) =>
      p.event === 'Newstate' &&
      p.get('Channel') === 'SIP/trunk-out-00000002' &&
      p.get('ChannelStateDesc') === 'Up';
    await replayUntil(r.ami, 'b2_originate_click_to_call', farEndAnswers);
    await settle(r.ami, r.lib);
    // Longer than the settle time: the line dials, so no timer may connect the call.
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(
      callEvents(log.events).map((e) => e.type),
      [MsgEventType.RING_STARTED],
      'connected before the far end answered',
    );
    let started = false;
    await r.ami.replay('b2_originate_click_to_call', {
      filter: (p) => (started ||= farEndAnswers(p)),
    });
    const c = (await log.waitFor((e) => e.type === MsgEventType.COMMUTATION_STARTED)) as CallEvent;
    assert.equal(c.call.calledId, '79161234567');
  });

  it('a click-to-call to an application (b1): COMMUTATION_STARTED once 305 answered and nothing was dialled', async () => {
    const r = await up({ originateSettleMs: 100 });
    const log = r.open('305');
    await replayUntil(r.ami, 'b1_originate_to_600', (p) => p.event === 'SoftHangupRequest');
    const c = (await log.waitFor(
      (e) => e.type === MsgEventType.COMMUTATION_STARTED,
      'COMMUTATION_STARTED after the settle time',
    )) as CallEvent;
    assert.equal(c.call.calledId, '600');
  });
});

describe('acceptance 6: answering from the CRM', () => {
  it('pjsip-notify: ringing incoming calls carry ANSWER; AnswerCall sends PJSIPNotify to the endpoint with Event=talk', async () => {
    const r = await up({
      protocol: 'PJSIP/',
      answer: { mode: 'pjsip-notify', notifyOption: '', headers: [] },
    });
    assert.equal(r.lib.capabilities().answerCall, true);
    const log = r.open('405');
    await replayUntil(
      r.ami,
      'p1_pjsip_inbound_answered',
      (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Up',
    );
    const ring = (await log.waitFor((e) => e.type === MsgEventType.RING_STARTED)) as CallEvent;
    assert.equal(ring.call.callFeaturesSet, CallFeature.DROP | CallFeature.ANSWER);
    r.ami.clearActions();
    await log.session.answerCall(ring.call.id);
    const sent = await r.ami.waitForAction('PJSIPNotify');
    assert.deepEqual(actionFields(sent), {
      Action: 'PJSIPNotify',
      Endpoint: '405',
      Variable: 'Event=talk',
    });
  });

  it('pjsip-notify with a pjsip_notify.conf section: Option instead of Variable', async () => {
    const r = await up({
      protocol: 'PJSIP/',
      answer: { mode: 'pjsip-notify', notifyOption: 'answer-now', headers: [] },
    });
    const log = r.open('405');
    await replayUntil(
      r.ami,
      'p1_pjsip_inbound_answered',
      (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Up',
    );
    const ring = (await log.waitFor((e) => e.type === MsgEventType.RING_STARTED)) as CallEvent;
    await log.session.answerCall(ring.call.id);
    const sent = await r.ami.waitForAction('PJSIPNotify');
    assert.deepEqual(actionFields(sent), {
      Action: 'PJSIPNotify',
      Endpoint: '405',
      Option: 'answer-now',
    });
  });

  it('sip-notify: AnswerCall sends SIPnotify to the peer with Event=talk; a connected call cannot be answered', async () => {
    const r = await up({ answer: { mode: 'sip-notify', notifyOption: '', headers: [] } });
    const log = r.open('305');
    await replayRinging(r.ami);
    const ring = (await log.waitFor((e) => e.type === MsgEventType.RING_STARTED)) as CallEvent;
    assert.equal(ring.call.callFeaturesSet, CallFeature.DROP | CallFeature.ANSWER);
    await log.session.answerCall(ring.call.id);
    const sent = await r.ami.waitForAction('SIPnotify');
    assert.deepEqual(actionFields(sent), {
      Action: 'SIPnotify',
      Channel: '305',
      Variable: 'Event=talk',
    });
    await r.ami.replay('c_inbound_answered', {
      filter: (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Up',
    });
    const connected = (await log.waitFor(
      (e) => e.type === MsgEventType.COMMUTATION_STARTED,
    )) as CallEvent;
    await assert.rejects(log.session.answerCall(connected.call.id), {
      code: MessagingErrorCode.InvalidState,
    });
  });

  it('none (the default): no ANSWER bit, AnswerCall refused with the reason, nothing sent', async () => {
    const r = await up();
    assert.equal(r.lib.capabilities().answerCall, false);
    const log = r.open('305');
    await replayRinging(r.ami);
    const ring = (await log.waitFor((e) => e.type === MsgEventType.RING_STARTED)) as CallEvent;
    assert.equal(ring.call.callFeaturesSet, CallFeature.DROP);
    r.ami.clearActions();
    await assert.rejects(log.session.answerCall(ring.call.id), (e: Error & { code?: string }) => {
      assert.equal(e.code, MessagingErrorCode.NotImplemented);
      assert.match(e.message, /asterisk\.answerMode/);
      return true;
    });
    await settle(r.ami, r.lib);
    assert.deepEqual(
      r.ami.actions.map((a) => a.get('Action')).filter((a) => a !== 'Ping'),
      [],
    );
  });

  it('header: no ANSWER bit; a click-to-call Originate carries the auto-answer headers (SIPADDHEADER)', async () => {
    const r = await up(
      {
        answer: {
          mode: 'header',
          notifyOption: '',
          headers: ['Call-Info: <sip:autoanswer>;answer-after=0'],
        },
      },
      originateLikeB1,
    );
    assert.equal(r.lib.capabilities().answerCall, false);
    const log = r.open('305');
    await log.session.makeCall('600');
    const o = await r.ami.waitForAction('Originate');
    assert.deepEqual(o.getAll('Variable'), [
      'SIPADDHEADER51=Call-Info: <sip:autoanswer>;answer-after=0',
    ]);
  });
});

// ---------------------------------------------------------------- the whole service (REST, health)

const crm = makeKey('crm', ['read', 'calls', 'settings']);
const auth = { Authorization: `Bearer ${crm.key}` };
const apps: { api: ApiApp; ami: FakeAmiServer }[] = [];
after(async () => {
  for (const a of apps) {
    await a.api.close();
    await a.ami.close();
  }
});

async function serviceUp(): Promise<{
  api: ApiApp;
  ami: FakeAmiServer;
  http: () => request.Agent;
}> {
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  const api = await startServiceApp({
    env: {
      SERVER__HOST: '127.0.0.1',
      ASTERISK__URL: '127.0.0.1',
      ASTERISK__PORT: String(ami.port),
      ASTERISK__USERNAME: 'admin',
      ASTERISK__SECRET: 'secret',
      ASTERISK__AUTOPAUSEONCOMMUTATIONSTART: 'false',
      ASTERISK__PINGINTERVALMS: '0',
      ASTERISK__RECONNECTMINDELAYMS: '20',
      ASTERISK__RECONNECTMAXDELAYMS: '100',
      API__KEYS: keysEnv([crm]),
    },
  });
  apps.push({ api, ami });
  const lib = api.app.get(MessagingRegistry).active();
  await until(() => lib.readiness().ready);
  return { api, ami, http: () => request.agent(api.url) };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
