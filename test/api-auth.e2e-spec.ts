import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../apps/messaging-host/src/config/config.loader';
import { keysEnv, makeKey, startRecordingApiApp, type ApiApp } from './support/api-app';

Logger.overrideLogger(false);

const reader = makeKey('reader', ['read']);
const caller = makeKey('caller', ['calls']);
const admin = makeKey('settings-admin', ['settings']);
const limited = makeKey('limited', ['read']);
const other = makeKey('other', ['read']);

describe('REST auth: API keys from API__KEYS (JSON), scopes, rate limit per key', () => {
  let api: ApiApp;
  const http = () => request(api.url);
  const bearer = (k: { key: string }) => ({ Authorization: `Bearer ${k.key}` });

  before(async () => {
    api = await startRecordingApiApp({
      API__KEYS: keysEnv([reader, caller, admin, limited, other]),
      API__RATELIMIT__LIMIT: '5',
      API__RATELIMIT__TTLMS: '600000',
    });
  });
  after(async () => {
    await api?.close();
  });

  it('the keys come from the environment as JSON, digests only', () => {
    assert.deepEqual(
      api.config.api.keys.map((k) => [k.name, k.scopes]),
      [
        ['reader', ['read']],
        ['caller', ['calls']],
        ['settings-admin', ['settings']],
        ['limited', ['read']],
        ['other', ['read']],
      ],
    );
    assert.ok(api.config.api.keys.every((k) => /^[0-9a-f]{64}$/.test(k.sha256)));
  });

  it('a configuration with two keys of one name or one digest is refused, naming api.keys', () => {
    const twice = JSON.parse(keysEnv([reader, reader])) as { name: string }[];
    assert.throws(
      () => loadConfig({ argv: [], cwd: api.dataDir, env: { API__KEYS: JSON.stringify(twice) } }),
      /api\.keys: uniqueApiKeys: each key must have its own name and its own sha256/,
    );
    twice[1]!.name = 'renamed';
    assert.throws(
      () => loadConfig({ argv: [], cwd: api.dataDir, env: { API__KEYS: JSON.stringify(twice) } }),
      /api\.keys: uniqueApiKeys/,
    );
  });

  it('401 without a key, with WWW-Authenticate', async () => {
    const res = await http().get('/api/v1/calls').expect(401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="messaging-host"');
    assert.equal((res.body as { code: string }).code, 'UNAUTHORIZED');
    assert.match((res.body as { message: string }).message, /Authorization: Bearer/);
  });

  it('401 with a malformed Authorization header', async () => {
    await http().get('/api/v1/calls').set('Authorization', `Basic ${reader.key}`).expect(401);
    await http().get('/api/v1/calls').set('Authorization', 'Bearer').expect(401);
    await http()
      .get('/api/v1/calls')
      .set('Authorization', `Bearer ${reader.key} extra`)
      .expect(401);
  });

  it('401 with a wrong key, which the answer does not repeat', async () => {
    const wrong = `${reader.key.slice(0, -1)}${reader.key.endsWith('A') ? 'B' : 'A'}`;
    const res = await http()
      .get('/api/v1/calls')
      .set('Authorization', `Bearer ${wrong}`)
      .expect(401);
    assert.equal((res.body as { message: string }).message, 'unknown API key');
    assert.ok(!JSON.stringify(res.body).includes(wrong));
  });

  it('403 out of scope, naming the scope; 200 within it', async () => {
    const r1 = await http()
      .post('/api/v1/calls')
      .set(bearer(reader))
      .send({ line: '305', number: '1' })
      .expect(403);
    assert.match(
      (r1.body as { message: string }).message,
      /'reader' lacks the scope this route needs: calls/,
    );
    assert.equal((r1.body as { code: string }).code, 'FORBIDDEN');
    await http().put('/api/v1/lines/305/settings').set(bearer(reader)).send({}).expect(403);
    await http().put('/api/v1/lines/305/settings').set(bearer(caller)).send({}).expect(403);
    await http()
      .put('/api/v1/lines/305/queue-pause')
      .set(bearer(admin))
      .send({ paused: true })
      .expect(403);
    await http().get('/api/v1/calls').set(bearer(reader)).expect(200);
    await http().get('/api/v1/calls').set(bearer(caller)).expect(200);
    await http().get('/api/v1/calls').set(bearer(admin)).expect(403);
    await http()
      .put('/api/v1/lines/305/settings')
      .set(bearer(admin))
      .send({ debugMode: true })
      .expect(200);
    await http().get('/api/v1/lines/305/settings').set(bearer(admin)).expect(200);
    await http().get('/api/v1/lines/305/settings').set(bearer(reader)).expect(200);
    await http().get('/api/v1/libraries').set(bearer(admin)).expect(200);
  });

  it('scope is checked before the body: a forbidden request with a bad body is 403, not 400', async () => {
    await http().post('/api/v1/calls').set(bearer(reader)).send({ nonsense: true }).expect(403);
  });

  it('429 once a key exceeds the rate limit, with Retry-After; other keys are not affected', async () => {
    for (let i = 0; i < 5; i++) await http().get('/api/v1/calls').set(bearer(limited)).expect(200);
    const res = await http().get('/api/v1/calls').set(bearer(limited)).expect(429);
    assert.equal((res.body as { code: string }).code, 'RATE_LIMITED');
    assert.match(
      (res.body as { message: string }).message,
      /at most 5 requests per 600000 ms per API key/,
    );
    assert.ok(Number(res.headers['retry-after']) > 0, `Retry-After: ${res.headers['retry-after']}`);
    await http().get('/api/v1/calls').set(bearer(other)).expect(200);
  });

  it('health and the API documents need no key', async () => {
    await http().get('/health/live').expect(200);
    await http().get('/api/docs-json').expect(200);
    const ui = await http().get('/api/docs').redirects(1).expect(200);
    assert.match(ui.text, /swagger-ui/i);
  });
});

describe('REST auth with no key configured', () => {
  let api: ApiApp;
  before(async () => {
    api = await startRecordingApiApp();
  });
  after(async () => {
    await api?.close();
  });

  it('refuses every request with 401', async () => {
    await request(api.url)
      .get('/api/v1/libraries')
      .set('Authorization', 'Bearer anything')
      .expect(401);
  });
});
