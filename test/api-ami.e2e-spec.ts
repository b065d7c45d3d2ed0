// Acceptance 1 and 2 of the REST API: the real service (AppModule with the Asterisk library) wired
// to the fake AMI server; each route sends exactly the expected AMI action, each error status is
// produced, and a settings change made over REST is used by the next originate.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import { FakeAmiServer, fixturesDir, type FakeAmiFields } from '@app/ami/testing';
import { CallDirection, CallState, MessagingRegistry } from '@app/messaging';
import { WsCtiClient } from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { keysEnv, makeKey, startServiceApp, type ApiApp } from './support/api-app';
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
  replayRange,
  replayRinging,
  replayTalking,
  replayUntil,
} from './asterisk-harness';

Logger.overrideLogger(false);

const crm = makeKey('crm', ['read', 'calls', 'settings']);
const auth = { Authorization: `Bearer ${crm.key}` };

interface Rig {
  ami: FakeAmiServer;
  api: ApiApp;
  http: () => request.Agent;
}

const rigs: Rig[] = [];
after(async () => {
  for (const r of rigs) {
    await r.api.close();
    await r.ami.close();
  }
});

/** Resolves when the active library says it is ready (logged in and resynced). */
function whenReady(api: ApiApp, ready = true): Promise<void> {
  const lib = api.app.get(MessagingRegistry).active();
  return new Promise((resolve) => {
    const sub = lib.readiness$.subscribe((r) => {
      if (r.ready === ready) {
        queueMicrotask(() => sub.unsubscribe());
        resolve();
      }
    });
  });
}

async function up(
  env: Record<string, string> = {},
  prepare?: (ami: FakeAmiServer) => void,
): Promise<Rig> {
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  prepare?.(ami);
  const api = await startServiceApp({
    env: {
      SERVER__HOST: '127.0.0.1',
      ASTERISK__URL: '127.0.0.1',
      ASTERISK__PORT: String(ami.port),
      ASTERISK__USERNAME: 'admin',
      ASTERISK__SECRET: 'secret',
      ASTERISK__ORIGINATECONTEXT: 'from-internal',
      ASTERISK__PARKINGLOTCONTEXT: 'parkedcalls',
      ASTERISK__AUTOPAUSEONCOMMUTATIONSTART: 'false',
      ASTERISK__PINGINTERVALMS: '0',
      ASTERISK__RECONNECTMINDELAYMS: '20',
      ASTERISK__RECONNECTMAXDELAYMS: '50',
      API__KEYS: keysEnv([crm]),
      ...env,
    },
  });
  const r: Rig = { ami, api, http: () => request.agent(api.url) };
  rigs.push(r);
  await whenReady(api);
  ami.clearActions();
  return r;
}

/** Actions other than the library's own housekeeping (resync lists, pings). */
function commands(ami: FakeAmiServer): string[] {
  const own = new Set(['ping', 'coreshowchannels', 'parkedcalls', 'queuestatus', 'filter']);
  return ami.actions.map((a) => a.get('Action') ?? '').filter((n) => !own.has(n.toLowerCase()));
}

/** Waits until the library shows a call of `line` in `state` (it works on the replayed events). */
async function callInState(r: Rig, line: string, state: CallState): Promise<{ id: string }> {
  const lib = r.api.app.get(MessagingRegistry).active();
  for (let i = 0; i < 500; i++) {
    const c = lib.activeCalls(line).find((x) => x.state === state);
    if (c) return c;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(
    `no ${CallState[state]} call on line ${line}; calls: ${JSON.stringify(lib.activeCalls(line))}`,
  );
}

/** c_inbound_answered up to the caller's hang-up: 305 talks with 79161234567. */
async function connectedCall(r: Rig): Promise<{ id: string }> {
  await replayTalking(r.ami);
  return callInState(r, '305', CallState.CONNECTED);
}

const QUEUE_MEMBERS: FakeAmiFields[] = ['support', 'sales'].map((queue) => queueMember305(queue));

describe('REST -> AMI with the real Asterisk library and the fake AMI server', () => {
  it('POST /calls: Originate of SIP/305 into the global originateContext, 202 with the call id the panel sees', async () => {
    const r = await up({}, originateLikeB1);
    // The operator's panel is open on the line: it must see the call under the same id.
    const panel = await WsCtiClient.connect(`ws://127.0.0.1:${new URL(r.api.url).port}/`);
    assert.equal((await panel.open('305', 'user-305')).eventType, 2);
    const res = await r
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '600' })
      .expect(202);
    const ring = await panel.events.next((e) => e.eventType === 5);
    await panel.close();
    assert.equal((ring.parsed as { id: string }).id, (res.body as { id: string }).id);
    const o = await r.ami.waitForAction('Originate');
    assert.deepEqual(actionFields(o), ORIGINATE_305_TO_600);
    const body = res.body as {
      id: string;
      line: string;
      context: string;
      call: { id: string; direction: string; calledId: string };
    };
    assert.equal(body.line, '305');
    assert.equal(body.context, 'from-internal');
    assert.equal(body.call.id, body.id);
    assert.equal(body.call.direction, CallDirection.OUT);
    assert.equal(body.call.calledId, '600');
    assert.deepEqual(commands(r.ami), ['Originate']);
  });

  it("a settings change over REST is used by the next originate; the request's context and variables go too", async () => {
    const r = await up({}, originateLikeB1);
    await r
      .http()
      .put('/api/v1/lines/305/settings')
      .set(auth)
      .send({ originateContext: 'sales-out' })
      .expect(200);
    await r.http().post('/api/v1/calls').set(auth).send({ line: '305', number: '600' }).expect(202);
    const first = await r.ami.waitForAction('Originate');
    assert.equal(first.get('Context'), 'sales-out');
    assert.equal(first.get('Channel'), 'SIP/305');

    r.ami.clearActions();
    await r
      .http()
      .patch('/api/v1/lines/305/settings')
      .set(auth)
      .send({ originateContext: null })
      .expect(200);
    await r
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({
        line: '305',
        number: '600',
        context: 'from-crm',
        callerId: '"CRM" <305>',
        variables: { CRM_TASK: 't1' },
      })
      .expect(202);
    const second = await r.ami.waitForAction('Originate');
    assert.deepEqual(actionFields(second), {
      Action: 'Originate',
      Channel: 'SIP/305',
      Context: 'from-crm',
      Exten: '600',
      Priority: '1',
      CallerID: '"CRM" <305>',
      Timeout: '30000',
      Async: 'true',
      Variable: 'CRM_TASK=t1',
    });
  });

  it("a settings change over REST is used by the next OpenConnection (the panel's MakeCall context, disableCallCentre, userUId)", async () => {
    const r = await up({}, originateLikeB1);
    const ws = `ws://127.0.0.1:${new URL(r.api.url).port}/`;
    const user = '410006e1-ca4e-4502-a9ec-e54d922d2c00';
    const clients: WsCtiClient[] = [];
    const connect = async (): Promise<WsCtiClient> => {
      const c = await WsCtiClient.connect(ws);
      clients.push(c);
      return c;
    };
    try {
      await r
        .http()
        .put('/api/v1/lines/305/settings')
        .set(auth)
        .send({ originateContext: 'from-rest', userUId: user })
        .expect(200);
      const panel = await connect();
      const opened = await panel.open('305', user);
      assert.equal(opened.eventType, 2, JSON.stringify(opened.parsed ?? opened.content));
      await panel.command('MakeCall', { targetAddress: '600' });
      const o = await r.ami.waitForAction('Originate');
      assert.equal(o.get('Channel'), 'SIP/305');
      assert.equal(o.get('Context'), 'from-rest');

      // The line is bound to another user now: that user's panel is refused.
      const other = await connect();
      const refused = await other.open('305', 'someone-else');
      assert.equal(refused.eventType, 3, JSON.stringify(refused.parsed));

      await r
        .http()
        .patch('/api/v1/lines/305/settings')
        .set(auth)
        .send({ disableCallCentre: true })
        .expect(200);
      const late = await connect();
      const disabled = await late.open('305', user);
      assert.equal(disabled.eventType, 3);
      assert.equal((disabled.parsed as { errorType: number }).errorType, 5);
    } finally {
      for (const c of clients) await c.close();
    }
  });

  it('POST /calls refused by Asterisk: 502 with its message; failed OriginateResponse: 502', async () => {
    const r = await up();
    r.ami.onAction('Originate', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'Extension does not exist.' }),
    );
    const res = await r
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '999' })
      .expect(502);
    const body = res.body as { code: string; detail: string; message: string };
    assert.equal(body.code, 'ACTION_FAILED');
    assert.equal(body.detail, 'Extension does not exist.');
    assert.match(body.message, /Extension does not exist/);

    originateBusy(r.ami);
    const busy = await r
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '600' })
      .expect(502);
    assert.equal((busy.body as { code: string }).code, 'ORIGINATE_FAILED');
  });

  it('GET /calls, GET /calls/{id}, DTMF (PlayDTMF), blind transfer (BlindTransfer in the line context), DELETE (Hangup)', async () => {
    const r = await up();
    await r
      .http()
      .put('/api/v1/lines/305/settings')
      .set(auth)
      .send({ originateContext: 'transfer-ctx' })
      .expect(200);
    const call = await connectedCall(r);
    // Every line's view: only 305's (SIP/trunk-in starts in from-trunk: a trunk, not a line).
    const all = await r.http().get('/api/v1/calls').set(auth).expect(200);
    const listed = (all.body as { calls: { id: string; deviceId: string }[] }).calls;
    assert.ok(
      listed.some((c) => c.id === call.id && c.deviceId === '305'),
      JSON.stringify(listed),
    );
    const mine = await r.http().get('/api/v1/calls?line=305').set(auth).expect(200);
    assert.deepEqual(
      (mine.body as { calls: { id: string }[] }).calls.map((c) => c.id),
      [call.id],
    );
    const one = await r.http().get(`/api/v1/calls/${call.id}`).set(auth).expect(200);
    assert.equal((one.body as { line: string }).line, '305');
    assert.equal((one.body as { call: { callerId: string } }).call.callerId, '79161234567');
    await r.http().get('/api/v1/calls?line=306').set(auth).expect(200, { calls: [] });

    await r
      .http()
      .post(`/api/v1/calls/${call.id}/dtmf`)
      .set(auth)
      .send({ digits: '1#' })
      .expect(204);
    await r
      .http()
      .post(`/api/v1/calls/${call.id}/transfer`)
      .set(auth)
      .send({ target: '306', mode: 'blind' })
      .expect(202, { mode: 'blind', callId: call.id, target: '306' });
    await r.http().delete(`/api/v1/calls/${call.id}`).set(auth).expect(204);
    assert.deepEqual(
      r.ami.actions
        .filter((a) => ['PlayDTMF', 'BlindTransfer', 'Hangup'].includes(a.get('Action')!))
        .map(actionFields),
      [
        ...DTMF_1_HASH,
        {
          Action: 'BlindTransfer',
          Channel: 'SIP/305-00000004',
          Context: 'transfer-ctx',
          Exten: '306',
        },
        { Action: 'Hangup', Channel: 'SIP/305-00000004', Cause: '16' },
      ],
    );
  });

  it('hold: Park of the remote party, 200 with parking space 701; hold again 409; unhold: Originate into parkingLotContext at 701', async () => {
    const r = await up();
    parkLikeE1(r.ami);
    await replayBeforePark(r.ami);
    const call = await callInState(r, '305', CallState.CONNECTED);
    const held = await r.http().post(`/api/v1/calls/${call.id}/hold`).set(auth).expect(200);
    assert.equal((held.body as { parkingSpace: string }).parkingSpace, '701');
    assert.equal((held.body as { call: { id: string; state: number } }).call.id, call.id);
    assert.equal((held.body as { call: { state: number } }).call.state, CallState.HOLDED);
    assert.deepEqual(actionFields(await r.ami.waitForAction('Park')), PARK_E1);
    const again = await r.http().post(`/api/v1/calls/${call.id}/hold`).set(auth).expect(409);
    assert.equal((again.body as { code: string }).code, 'INVALID_STATE');

    r.ami.onAction('Originate', (a, conn) =>
      conn.respond(a, { Message: 'Originate successfully queued' }),
    );
    const back = await r.http().post(`/api/v1/calls/${call.id}/unhold`).set(auth).expect(200);
    assert.equal((back.body as { parkingSpace: string }).parkingSpace, '701');
    assert.deepEqual(actionFields(await r.ami.waitForAction('Originate')), UNPARK_E1);
  });

  it('attended transfer: Atxfer, 202 with the consultation call; cancel: Hangup of the consulted party; complete: Hangup of the line', async () => {
    const r = await up();
    await replayUntil(r.ami, 'g3_atxfer', (p) => p.event === 'Hold');
    const primary = await callInState(r, '305', CallState.CONNECTED);
    const pending = r
      .http()
      .post(`/api/v1/calls/${primary.id}/transfer`)
      .set(auth)
      .send({ target: '306', mode: 'attended' })
      .then((res) => res);
    const at = await r.ami.waitForAction('Atxfer');
    assert.deepEqual(actionFields(at), ATXFER_G3_TO_306);
    // Asterisk carries the Atxfer out: the trace from its Hold event to the consulted party's answer.
    await replayRange(
      r.ami,
      'g3_atxfer',
      (p) => p.event === 'Hold',
      (p) => p.event === 'BridgeMerge',
    );
    const res = await pending;
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const consult = (res.body as { mode: string; consultCall: { id: string; calledId: string } })
      .consultCall;
    assert.equal((res.body as { mode: string }).mode, 'attended');
    assert.notEqual(consult.id, primary.id);
    assert.equal(consult.calledId, '306');

    await r
      .http()
      .post(`/api/v1/calls/${primary.id}/transfer/cancel`)
      .set(auth)
      .send({ consultCallId: consult.id })
      .expect(204);
    assert.deepEqual(actionFields(await r.ami.waitForAction('Hangup')), HANGUP_G3_CONSULTED);
    r.ami.clearActions();
    await r
      .http()
      .post(`/api/v1/calls/${primary.id}/transfer/complete`)
      .set(auth)
      .send({ consultCallId: consult.id })
      .expect(204);
    assert.deepEqual(actionFields(await r.ami.waitForAction('Hangup')), {
      Action: 'Hangup',
      Channel: 'SIP/305-0000001a',
      Cause: '16',
    });
  });

  it('GET /lines/{line} shows the queue memberships; PUT queue-pause: QueuePause of the member interface', async () => {
    const r = await up({}, (ami) => ami.setList('QueueStatus', QUEUE_MEMBERS));
    await r
      .http()
      .put('/api/v1/lines/305/settings')
      .set(auth)
      .send({ userUId: 'b5ca4bd4-0ee2-4d3e-9b9b-7c4e2f3c1d00' })
      .expect(200);
    const line = await r.http().get('/api/v1/lines/305').set(auth).expect(200);
    const body = line.body as {
      userUId: string;
      queues: { queue: string; memberInterface: string; paused: boolean }[];
      calls: unknown[];
      paused: boolean;
    };
    assert.equal(body.userUId, 'b5ca4bd4-0ee2-4d3e-9b9b-7c4e2f3c1d00');
    assert.deepEqual(
      body.queues.map((q) => [q.queue, q.memberInterface, q.paused]),
      [
        ['support', 'Local/305@from-queue/n', false],
        ['sales', 'Local/305@from-queue/n', false],
      ],
    );
    assert.deepEqual(body.calls, []);
    assert.equal(body.paused, false);

    await r
      .http()
      .put('/api/v1/lines/305/queue-pause')
      .set(auth)
      .send({ paused: true, reason: 'Break', queue: 'support' })
      .expect(200);
    await r
      .http()
      .put('/api/v1/lines/305/queue-pause')
      .set(auth)
      .send({ paused: false })
      .expect(200);
    assert.deepEqual(
      r.ami.actions.filter((a) => a.get('Action') === 'QueuePause').map(actionFields),
      [
        {
          Action: 'QueuePause',
          Interface: 'Local/305@from-queue/n',
          Paused: 'true',
          Queue: 'support',
          Reason: 'Break',
        },
        { Action: 'QueuePause', Interface: 'Local/305@from-queue/n', Paused: 'false' },
      ],
    );
    await r.http().get('/api/v1/lines/399').set(auth).expect(404);
  });

  it('unknown call 404 and a bad body 400 send nothing; a refused Hangup is 502 with the PBX message; a ringing call cannot be held (409)', async () => {
    const r = await up();
    await r.http().delete('/api/v1/calls/1795582091.999').set(auth).expect(404);
    await r.http().post('/api/v1/calls').set(auth).send({ line: '305' }).expect(400);
    assert.deepEqual(commands(r.ami), []);

    // Up to 305's phone answering: the call rings.
    await replayRinging(r.ami);
    const ringing = await callInState(r, '305', CallState.ALERTING);
    const hold = await r.http().post(`/api/v1/calls/${ringing.id}/hold`).set(auth).expect(409);
    assert.equal((hold.body as { code: string }).code, 'INVALID_STATE');
    r.ami.onAction('Hangup', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'No such channel' }),
    );
    const res = await r.http().delete(`/api/v1/calls/${ringing.id}`).set(auth).expect(502);
    assert.equal((res.body as { detail: string }).detail, 'No such channel');
  });

  it('Asterisk gone: commands 503 NOT_CONNECTED and readiness 503', async () => {
    const r = await up();
    r.ami.refuse(true);
    const down = whenReady(r.api, false);
    r.ami.dropAll();
    await down;
    const res = await r
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '600' })
      .expect(503);
    assert.equal((res.body as { code: string }).code, 'NOT_CONNECTED');
    const ready = await r.http().get('/health/ready').expect(503);
    assert.equal(
      (ready.body as { error: { messaging: { status: string } } }).error.messaging.status,
      'down',
    );
    assert.equal(
      (ready.body as { info: { storage: { status: string } } }).info.storage.status,
      'up',
    );
  });

  it('replay mode (asterisk.filePath): originate is not possible, 501', async () => {
    const r = await up({ ASTERISK__FILEPATH: join(fixturesDir(), 'a1_idle_login_status.jsonl') });
    const res = await r
      .http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '600' })
      .expect(501);
    assert.equal((res.body as { code: string }).code, 'NOT_IMPLEMENTED');
  });

  it('GET /libraries names the asterisk library as the active one, ready', async () => {
    const r = await up();
    const res = await r.http().get('/api/v1/libraries').set(auth).expect(200);
    const libs = (res.body as { libraries: { name: string; active: boolean; ready: boolean }[] })
      .libraries;
    assert.deepEqual(
      libs.filter((l) => l.active).map((l) => [l.name, l.ready]),
      [['asterisk', true]],
    );
  });
});
