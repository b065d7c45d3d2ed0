import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import {
  CallDirection,
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
} from '@app/messaging';
import { LineSettingsStore } from '../apps/messaging-host/src/settings/line-settings.store';
import { keysEnv, makeKey, startRecordingApiApp, type ApiApp } from './support/api-app';
import { RecordingMessagingLibrary } from './support/recording-messaging-library';

Logger.overrideLogger(false);

const admin = makeKey('crm', ['read', 'calls', 'settings']);

describe('REST /api/v1 over a recording messaging library', () => {
  let api: ApiApp;
  let lib: RecordingMessagingLibrary;
  const http = () => request(api.url);
  const auth = { Authorization: `Bearer ${admin.key}` };

  before(async () => {
    api = await startRecordingApiApp({
      API__KEYS: keysEnv([admin]),
      ASTERISK__ORIGINATECONTEXT: 'global-ctx',
    });
    lib = api.app.get(RecordingMessagingLibrary);
  });
  after(async () => {
    await api?.close();
  });
  beforeEach(() => {
    lib.commands.length = 0;
    lib.calls.clear();
    lib.queues.clear();
    lib.failNext = null;
    lib.setReady({ ready: true });
  });

  describe('calls', () => {
    it('POST /calls originates with the global context and answers 202 with the call id', async () => {
      const res = await http()
        .post('/api/v1/calls')
        .set(auth)
        .send({
          line: '305',
          number: '79001234567',
          callerId: 'CRM <305>',
          variables: { TASK: 'a1' },
        })
        .expect(202);
      const body = res.body as { id: string; line: string; context: string; call: { id: string } };
      assert.equal(body.line, '305');
      assert.equal(body.context, 'global-ctx');
      assert.equal(body.call.id, body.id);
      assert.ok(lib.calls.has(body.id));
      assert.deepEqual(lib.commands, [
        {
          line: '305',
          command: 'makeCall',
          args: [
            '79001234567',
            { context: 'global-ctx', callerId: 'CRM <305>', variables: { TASK: 'a1' } },
          ],
          settings: {},
        },
      ]);
      assert.equal(lib.openSessions, 0, 'the session opened for the command is closed');
    });

    it("a line's originateContext set over REST is used by the next originate; the request's context wins", async () => {
      await http()
        .put('/api/v1/lines/306/settings')
        .set(auth)
        .send({ originateContext: 'sales' })
        .expect(200);
      const res = await http()
        .post('/api/v1/calls')
        .set(auth)
        .send({ line: '306', number: '100' })
        .expect(202);
      assert.equal((res.body as { context: string }).context, 'sales');
      assert.deepEqual(lib.commands[0]!.args, ['100', { context: 'sales' }]);
      assert.deepEqual(lib.commands[0]!.settings, { originateContext: 'sales' });
      await http()
        .post('/api/v1/calls')
        .set(auth)
        .send({ line: '306', number: '100', context: 'override' })
        .expect(202);
      assert.deepEqual(lib.commands[1]!.args, ['100', { context: 'override' }]);
      await http().delete('/api/v1/lines/306/settings').set(auth).expect(204);
      await http().post('/api/v1/calls').set(auth).send({ line: '306', number: '100' }).expect(202);
      assert.deepEqual(lib.commands[2]!.args, ['100', { context: 'global-ctx' }]);
    });

    it('a line with disableCallCentre refuses to originate with 409', async () => {
      await http()
        .put('/api/v1/lines/307/settings')
        .set(auth)
        .send({ disableCallCentre: true })
        .expect(200);
      const res = await http()
        .post('/api/v1/calls')
        .set(auth)
        .send({ line: '307', number: '1' })
        .expect(409);
      assert.equal((res.body as { code: string }).code, 'CALL_CENTRE_DISABLED');
      assert.equal(lib.commands.length, 0);
    });

    it('GET /calls lists every line or one line; GET /calls/{id} answers the call with its line', async () => {
      const a = lib.addCall('305');
      const b = lib.addCall('306');
      const all = await http().get('/api/v1/calls').set(auth).expect(200);
      assert.deepEqual(
        (all.body as { calls: { id: string }[] }).calls.map((c) => c.id).sort(),
        [a.id, b.id].sort(),
      );
      const one = await http().get('/api/v1/calls?line=306').set(auth).expect(200);
      assert.deepEqual(
        (one.body as { calls: { id: string }[] }).calls.map((c) => c.id),
        [b.id],
      );
      const got = await http().get(`/api/v1/calls/${a.id}`).set(auth).expect(200);
      assert.deepEqual(got.body, { line: '305', call: { ...a, direction: CallDirection.IN } });
    });

    it('DELETE, hold, unhold, transfer (blind, attended, complete, cancel) and dtmf reach the library', async () => {
      const c = lib.addCall('305');
      const held = await http().post(`/api/v1/calls/${c.id}/hold`).set(auth).expect(200);
      assert.equal((held.body as { parkingSpace: string }).parkingSpace, '701');
      assert.equal((held.body as { call: { state: number } }).call.state, CallState.HOLDED);
      await http().post(`/api/v1/calls/${c.id}/hold`).set(auth).expect(409);
      const back = await http().post(`/api/v1/calls/${c.id}/unhold`).set(auth).expect(200);
      assert.equal((back.body as { call: { state: number } }).call.state, CallState.CONNECTED);
      await http().post(`/api/v1/calls/${c.id}/unhold`).set(auth).expect(409);
      await http().post(`/api/v1/calls/${c.id}/dtmf`).set(auth).send({ digits: '12#' }).expect(204);

      const att = await http()
        .post(`/api/v1/calls/${c.id}/transfer`)
        .set(auth)
        .send({ target: '310', mode: 'attended' })
        .expect(202);
      const consult = (att.body as { consultCall: { id: string } }).consultCall;
      await http()
        .post(`/api/v1/calls/${c.id}/transfer/cancel`)
        .set(auth)
        .send({ consultCallId: consult.id })
        .expect(204);
      const att2 = await http()
        .post(`/api/v1/calls/${c.id}/transfer`)
        .set(auth)
        .send({ target: '311', mode: 'attended' })
        .expect(202);
      await http()
        .post(`/api/v1/calls/${c.id}/transfer/complete`)
        .set(auth)
        .send({ consultCallId: (att2.body as { consultCall: { id: string } }).consultCall.id })
        .expect(204);
      const d = lib.addCall('305');
      const blind = await http()
        .post(`/api/v1/calls/${d.id}/transfer`)
        .set(auth)
        .send({ target: '312', mode: 'blind' })
        .expect(202);
      assert.deepEqual(blind.body, { mode: 'blind', callId: d.id, target: '312' });
      const e = lib.addCall('305');
      await http().delete(`/api/v1/calls/${e.id}`).set(auth).expect(204);
      assert.deepEqual(
        lib.commands.map((x) => [x.command, ...x.args]),
        [
          ['holdCall', c.id],
          ['holdCall', c.id],
          ['sendDtmf', c.id, '12#'],
          ['makeConsultCall', c.id, '310'],
          ['cancelTransfer', c.id, consult.id],
          ['makeConsultCall', c.id, '311'],
          ['transferCall', c.id, (att2.body as { consultCall: { id: string } }).consultCall.id],
          ['blindTransferCall', d.id, '312'],
          ['dropCall', e.id],
        ],
      );
      assert.equal(lib.openSessions, 0);
    });

    it("transfer without a mode follows the line's useBlindTransfer setting", async () => {
      await http()
        .put('/api/v1/lines/320/settings')
        .set(auth)
        .send({ useBlindTransfer: true })
        .expect(200);
      const c = lib.addCall('320');
      const r = await http()
        .post(`/api/v1/calls/${c.id}/transfer`)
        .set(auth)
        .send({ target: '1' })
        .expect(202);
      assert.equal((r.body as { mode: string }).mode, 'blind');
      const d = lib.addCall('321');
      const s = await http()
        .post(`/api/v1/calls/${d.id}/transfer`)
        .set(auth)
        .send({ target: '1' })
        .expect(202);
      assert.equal((s.body as { mode: string }).mode, 'attended');
    });

    it('an unknown call is 404 on every call route', async () => {
      for (const [method, path, body] of [
        ['get', '/api/v1/calls/nope', undefined],
        ['delete', '/api/v1/calls/nope', undefined],
        ['post', '/api/v1/calls/nope/hold', undefined],
        ['post', '/api/v1/calls/nope/unhold', undefined],
        ['post', '/api/v1/calls/nope/transfer', { target: '1', mode: 'blind' }],
        ['post', '/api/v1/calls/nope/transfer/complete', { consultCallId: 'x' }],
        ['post', '/api/v1/calls/nope/transfer/cancel', { consultCallId: 'x' }],
        ['post', '/api/v1/calls/nope/dtmf', { digits: '1' }],
      ] as const) {
        const res = await http()[method](path).set(auth).send(body);
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.equal((res.body as { code: string }).code, 'NO_SUCH_CALL');
      }
      assert.equal(lib.commands.length, 0);
    });

    it('library errors become 400, 404, 409, 502 (with the PBX message), 503 and 501', async () => {
      const cases: [MessagingErrorCode, number][] = [
        [MessagingErrorCode.InvalidArgument, 400],
        [MessagingErrorCode.NoSuchCall, 404],
        [MessagingErrorCode.WrongLine, 404],
        [MessagingErrorCode.InvalidState, 409],
        [MessagingErrorCode.ActionFailed, 502],
        [MessagingErrorCode.OriginateFailed, 502],
        [MessagingErrorCode.NotConnected, 503],
        [MessagingErrorCode.NotImplemented, 501],
      ];
      for (const [code, status] of cases) {
        lib.failNext = new MessagingCommandError(
          code,
          `refused: ${code}`,
          'Extension does not exist',
        );
        const res = await http().post('/api/v1/calls').set(auth).send({ line: '305', number: '1' });
        assert.equal(res.status, status, `${code}: ${JSON.stringify(res.body)}`);
        const body = res.body as {
          code: string;
          message: string;
          detail?: string;
          statusCode: number;
        };
        assert.equal(body.code, code);
        assert.equal(body.statusCode, status);
        assert.equal(body.message, `refused: ${code}`);
        assert.equal(body.detail, 'Extension does not exist');
      }
      assert.equal(lib.openSessions, 0, 'sessions are closed after a failed command too');
    });
  });

  describe('validation', () => {
    it('400 names each bad field and refuses unknown fields', async () => {
      const res = await http()
        .post('/api/v1/calls')
        .set(auth)
        .send({
          line: 'bad line',
          number: '1\r\nAction: Hangup',
          extra: 1,
          variables: { '1x': 'v' },
        })
        .expect(400);
      const body = res.body as {
        code: string;
        fields: string[];
        errors: string[];
        message: string;
      };
      assert.equal(body.code, 'VALIDATION_FAILED');
      assert.deepEqual([...body.fields].sort(), ['extra', 'line', 'number', 'variables']);
      assert.ok(body.errors.includes('extra: unknown field'), body.errors.join('\n'));
      assert.match(body.message, /line: must be letters, digits/);
      assert.equal(lib.commands.length, 0);
    });

    it('400 for missing fields, bad enum, bad digits, bad path parameter and a bad query', async () => {
      const missing = await http().post('/api/v1/calls').set(auth).send({}).expect(400);
      assert.deepEqual([...(missing.body as { fields: string[] }).fields].sort(), [
        'line',
        'number',
      ]);
      assert.deepEqual((missing.body as { errors: string[] }).errors, [
        'line: is required',
        'number: is required',
      ]);
      for (const body of ['[{"line":"305","number":"1"}]', '[]']) {
        const arr = await http()
          .post('/api/v1/calls')
          .set(auth)
          .set('Content-Type', 'application/json')
          .send(body)
          .expect(400);
        assert.deepEqual((arr.body as { errors: string[] }).errors, [
          'body: must be a JSON object',
        ]);
      }
      const c = lib.addCall('305');
      const mode = await http()
        .post(`/api/v1/calls/${c.id}/transfer`)
        .set(auth)
        .send({ target: '1', mode: 'sideways' })
        .expect(400);
      assert.deepEqual((mode.body as { fields: string[] }).fields, ['mode']);
      const dtmf = await http()
        .post(`/api/v1/calls/${c.id}/dtmf`)
        .set(auth)
        .send({ digits: 'xyz' })
        .expect(400);
      assert.deepEqual((dtmf.body as { fields: string[] }).fields, ['digits']);
      const line = await http().get('/api/v1/lines/a%20b').set(auth).expect(400);
      assert.deepEqual((line.body as { fields: string[] }).fields, ['line']);
      const q = await http().get('/api/v1/calls?line=a%0Ab&x=1').set(auth).expect(400);
      assert.deepEqual([...(q.body as { fields: string[] }).fields].sort(), ['line', 'x']);
      const pause = await http()
        .put('/api/v1/lines/305/queue-pause')
        .set(auth)
        .send({ paused: 'yes' })
        .expect(400);
      assert.deepEqual((pause.body as { fields: string[] }).fields, ['paused']);
      const settings = await http()
        .put('/api/v1/lines/305/settings')
        .set(auth)
        .send({ debugMode: 'on', originateContext: 'a b', colour: 'red' })
        .expect(400);
      assert.deepEqual([...(settings.body as { fields: string[] }).fields].sort(), [
        'colour',
        'debugMode',
        'originateContext',
      ]);
    });

    it('a body that is not JSON is 400, and the process keeps serving', async () => {
      const res = await http()
        .post('/api/v1/calls')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send('{"line": ')
        .expect(400);
      assert.equal((res.body as { statusCode: number }).statusCode, 400);
      await http().get('/api/v1/libraries').set(auth).expect(200);
    });
  });

  describe('lines', () => {
    it('GET /lines/{line}: bound user, calls, queues, pause state; 404 for an unknown line', async () => {
      await http()
        .put('/api/v1/lines/305/settings')
        .set(auth)
        .send({ userUId: 'user-1' })
        .expect(200);
      const c = lib.addCall('305');
      lib.queues.set('305', [
        {
          queue: 'support',
          memberInterface: 'Local/305@from-queue/n',
          paused: true,
          pausedReason: 'lunch',
        },
      ]);
      const res = await http().get('/api/v1/lines/305').set(auth).expect(200);
      const body = res.body as {
        line: string;
        userUId: string;
        calls: { id: string }[];
        queues: { queue: string; paused: boolean }[];
        paused: boolean;
        settings: unknown;
      };
      assert.equal(body.line, '305');
      assert.equal(body.userUId, 'user-1');
      assert.deepEqual(
        body.calls.map((x) => x.id),
        [c.id],
      );
      assert.equal(body.queues[0]!.queue, 'support');
      assert.equal(body.paused, true);
      assert.deepEqual(body.settings, { userUId: 'user-1' });
      const unknown = await http().get('/api/v1/lines/999').set(auth).expect(404);
      assert.equal((unknown.body as { code: string }).code, 'UNKNOWN_LINE');
    });

    it('PUT /lines/{line}/queue-pause pauses through the library and answers the memberships', async () => {
      lib.queues.set('305', [
        { queue: 'support', memberInterface: 'Local/305@from-queue/n', paused: false },
        { queue: 'sales', memberInterface: 'Local/305@from-queue/n', paused: false },
      ]);
      const res = await http()
        .put('/api/v1/lines/305/queue-pause')
        .set(auth)
        .send({ paused: true, reason: 'break', queue: 'sales' })
        .expect(200);
      assert.deepEqual(
        (res.body as { queues: { queue: string; paused: boolean }[] }).queues.map((q) => [
          q.queue,
          q.paused,
        ]),
        [
          ['support', false],
          ['sales', true],
        ],
      );
      assert.deepEqual(
        lib.commands.map((x) => [x.command, ...x.args]),
        [['setQueuePause', true, 'break', 'sales']],
      );
    });
  });

  describe('settings', () => {
    it('GET 404 before anything is stored; PUT and PATCH answer 200 with what is stored; DELETE 204 then 404', async () => {
      await http().get('/api/v1/lines/400/settings').set(auth).expect(404);
      const put = await http()
        .put('/api/v1/lines/400/settings')
        .set(auth)
        .send({ debugMode: true, originateContext: 'a', userUId: 'u' })
        .expect(200);
      assert.deepEqual(put.body, { debugMode: true, originateContext: 'a', userUId: 'u' });
      const patch = await http()
        .patch('/api/v1/lines/400/settings')
        .set(auth)
        .send({ originateContext: null, useBlindTransfer: false })
        .expect(200);
      assert.deepEqual(patch.body, { debugMode: true, useBlindTransfer: false, userUId: 'u' });
      const replaced = await http()
        .put('/api/v1/lines/400/settings')
        .set(auth)
        .send({ disableCallCentre: false })
        .expect(200);
      assert.deepEqual(replaced.body, { disableCallCentre: false });
      const got = await http().get('/api/v1/lines/400/settings').set(auth).expect(200);
      assert.deepEqual(got.body, { disableCallCentre: false });
      await http().delete('/api/v1/lines/400/settings').set(auth).expect(204);
      await http().delete('/api/v1/lines/400/settings').set(auth).expect(404);
      await http().get('/api/v1/lines/400/settings').set(auth).expect(404);
    });

    it('a store that fails answers 503 and readiness says storage is down', async () => {
      const store = api.app.get(LineSettingsStore);
      const path = api.config.storage.file.path;
      const { mkdirSync, rmSync } = await import('node:fs');
      rmSync(path, { force: true });
      mkdirSync(`${path}/blocked`, { recursive: true });
      try {
        const res = await http()
          .put('/api/v1/lines/401/settings')
          .set(auth)
          .send({ debugMode: true })
          .expect(503);
        assert.equal((res.body as { code: string }).code, 'STORE_UNAVAILABLE');
        assert.equal(store.readiness().ready, false);
        const ready = await http().get('/health/ready').expect(503);
        const body = ready.body as { error: { storage: { status: string; reason: string } } };
        assert.equal(body.error.storage.status, 'down');
        assert.match(body.error.storage.reason, /cannot write the settings file/);
      } finally {
        rmSync(path, { recursive: true, force: true });
      }
      await http()
        .put('/api/v1/lines/401/settings')
        .set(auth)
        .send({ debugMode: true })
        .expect(200);
      const ok = await http().get('/health/ready').expect(200);
      assert.equal(
        (ok.body as { info: { storage: { status: string } } }).info.storage.status,
        'up',
      );
    });
  });

  it('GET /libraries lists the registered libraries and the active one', async () => {
    lib.setReady({ ready: false, reason: 'not logged in' });
    const res = await http().get('/api/v1/libraries').set(auth).expect(200);
    assert.deepEqual(res.body, {
      libraries: [
        {
          name: 'recording',
          aliases: ['Recording.Library'],
          active: true,
          ready: false,
          reason: 'not logged in',
        },
      ],
    });
  });

  it("GET /diagnostics/sizes gives the library's internal sizes, the gateway's and the process memory", async () => {
    const res = await http().get('/api/v1/diagnostics/sizes').set(auth).expect(200);
    const body = res.body as {
      library: string;
      sizes: Record<string, number>;
      gateway: Record<string, number>;
      process: Record<string, number>;
    };
    assert.equal(body.library, 'recording');
    // The recording library reports its live calls; the API alone serves no CTI gateway.
    assert.deepEqual(body.sizes, { calls: 0 });
    assert.deepEqual(body.gateway, { sockets: 0, lines: 0, members: 0, negotiations: 0 });
    assert.ok(body.process['rssBytes']! > 0 && body.process['heapUsedBytes']! > 0);
    const call = await http()
      .post('/api/v1/calls')
      .set(auth)
      .send({ line: '305', number: '79001234567' })
      .expect(202);
    const after = await http().get('/api/v1/diagnostics/sizes').set(auth).expect(200);
    assert.deepEqual((after.body as { sizes: unknown }).sizes, { calls: 1 });
    await http()
      .delete(`/api/v1/calls/${(call.body as { id: string }).id}`)
      .set(auth)
      .expect(204);
  });
});
