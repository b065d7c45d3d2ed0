import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisLineSettingsStore } from '../apps/messaging-host/src/settings/redis-line-settings.store';
import { isUnavailable, lineSettingsStoreSuite } from './settings-store-suite';
import { startRedisServer, type RedisServer } from './support/redis-server';

Logger.overrideLogger(false);

async function until(what: string, cond: () => boolean): Promise<void> {
  // Polls a state the store reaches by itself (reconnects); the test runner's timeout bounds it.
  while (!cond()) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(cond(), what);
}

describe('RedisLineSettingsStore against a real redis-server', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  const openStore = async (keyPrefix = 'mh-test:'): Promise<RedisLineSettingsStore> => {
    const s = new RedisLineSettingsStore({
      url: server.url,
      keyPrefix,
      maxReconnectDelayMs: 200,
    });
    await s.open();
    return s;
  };

  lineSettingsStoreSuite('redis', () => ({ open: () => openStore() }));

  it('keeps keys under the configured prefix', async () => {
    const s = await openStore('tenant-a:');
    await s.put('305', { originateContext: 'sales' });
    const raw = new Redis(server.url);
    try {
      assert.equal(await raw.get('tenant-a:line-settings:305'), '{"originateContext":"sales"}');
    } finally {
      raw.disconnect();
    }
    const other = await openStore('tenant-b:');
    assert.equal(await other.get('305'), undefined);
    await s.close();
    await other.close();
  });

  it('a Redis that goes away: readiness down, reads and writes fail with StoreUnavailable; back: ready again', async () => {
    const s = await openStore();
    await s.put('305', { debugMode: true });
    await server.stop();
    await until('store notices Redis is gone', () => !s.readiness().ready);
    assert.match(s.readiness().reason ?? '', /redis 127\.0\.0\.1:\d+ is /);
    await assert.rejects(s.put('305', { debugMode: false }), isUnavailable);
    await assert.rejects(s.patch('305', { debugMode: false }), isUnavailable);
    await assert.rejects(s.get('305'), isUnavailable);
    await assert.rejects(s.delete('305'), isUnavailable);
    await server.restart();
    await until('store reconnects', () => s.readiness().ready);
    // Started without persistence: the data went with the process; the store works again.
    assert.deepEqual(await s.put('305', { debugMode: false }), { debugMode: false });
    await s.close();
  });

  it('does not stop the start when Redis is unreachable; the password never shows', async () => {
    const s = new RedisLineSettingsStore({
      url: `redis://:hunter2-secret@127.0.0.1:${server.port + 0}/0`,
      keyPrefix: 'x:',
    });
    await server.stop();
    await s.open();
    const r = s.readiness();
    assert.equal(r.ready, false);
    assert.ok(!(r.reason ?? '').includes('hunter2'), r.reason);
    await assert.rejects(s.get('1'), (err) => {
      isUnavailable(err);
      assert.ok(!(err as Error).message.includes('hunter2'));
      return true;
    });
    await s.close();
    await server.restart();
  });
});
