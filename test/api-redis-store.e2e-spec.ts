import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Logger } from '@nestjs/common';
import { LineSettingsStore } from '../apps/messaging-host/src/settings/line-settings.store';
import { keysEnv, makeKey, startRecordingApiApp, type ApiApp } from './support/api-app';
import { startRedisServer, type RedisServer } from './support/redis-server';

Logger.overrideLogger(false);

const admin = makeKey('crm', ['read', 'settings']);

async function until(cond: () => boolean): Promise<void> {
  // A state the store reaches by itself (Redis reconnect); the runner's timeout bounds the wait.
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

describe('REST settings with storage.driver redis (real redis-server)', () => {
  let redis: RedisServer;
  let api: ApiApp;
  let second: ApiApp;
  const auth = { Authorization: `Bearer ${admin.key}` };

  before(async () => {
    redis = await startRedisServer();
    const env = {
      API__KEYS: keysEnv([admin]),
      STORAGE__DRIVER: 'redis',
      STORAGE__REDIS__URL: redis.url,
      STORAGE__REDIS__KEYPREFIX: 'e2e:',
    };
    api = await startRecordingApiApp(env);
    second = await startRecordingApiApp(env);
  });
  after(async () => {
    await api?.close();
    await second?.close();
    await redis?.stop();
  });

  it('a setting written on one node is read on another', async () => {
    await request(api.url)
      .put('/api/v1/lines/305/settings')
      .set(auth)
      .send({ originateContext: 'sales', userUId: 'u1' })
      .expect(200);
    const res = await request(second.url).get('/api/v1/lines/305/settings').set(auth).expect(200);
    assert.deepEqual(res.body, { originateContext: 'sales', userUId: 'u1' });
    const ready = await request(api.url).get('/health/ready').expect(200);
    assert.equal(
      (ready.body as { info: { storage: { status: string } } }).info.storage.status,
      'up',
    );
  });

  it('Redis gone: readiness 503 naming storage, reads and writes 503; Redis back: 200 again', async () => {
    const store = api.app.get(LineSettingsStore);
    await redis.stop();
    await until(() => !store.readiness().ready);
    const w = await request(api.url)
      .patch('/api/v1/lines/305/settings')
      .set(auth)
      .send({ debugMode: true })
      .expect(503);
    assert.equal((w.body as { code: string }).code, 'STORE_UNAVAILABLE');
    assert.match((w.body as { message: string }).message, /redis 127\.0\.0\.1:\d+/);
    await request(api.url).get('/api/v1/lines/305/settings').set(auth).expect(503);
    const ready = await request(api.url).get('/health/ready').expect(503);
    const body = ready.body as { error: { storage: { status: string; reason: string } } };
    assert.equal(body.error.storage.status, 'down');
    assert.match(body.error.storage.reason, /^redis 127\.0\.0\.1:\d+ is /);

    await redis.restart();
    await until(() => store.readiness().ready);
    await request(api.url)
      .put('/api/v1/lines/305/settings')
      .set(auth)
      .send({ debugMode: true })
      .expect(200);
    await request(api.url).get('/health/ready').expect(200);
  });
});
