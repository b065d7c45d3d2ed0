// The Redis outbox store with a real redis-server: a node's calls are its own while its lease
// lives; a node that closed (or whose lease ran out) has its calls taken over, atomically, once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallDirection, CallState } from '@app/messaging';
import { RedisCrmOutboxStore } from '../apps/messaging-host/src/crm/outbox/redis-crm-outbox.store';
import type { StoredCrmCall } from '../apps/messaging-host/src/crm/outbox/crm-outbox.types';
import { startRedisServer, type RedisServer } from './support/redis-server';

function stored(id: string): StoredCrmCall {
  return {
    v: 1,
    id,
    line: '305',
    base: '',
    announced: false,
    ended: false,
    changes: [
      {
        seq: 1,
        at: 1,
        eventType: 5,
        call: {
          id,
          deviceId: '305',
          callerId: '1',
          calledId: '305',
          direction: CallDirection.IN,
          state: CallState.ALERTING,
          oldState: CallState.NONE,
          callFeaturesSet: 8,
        },
      },
    ],
  };
}

describe('RedisCrmOutboxStore', () => {
  let redis: RedisServer;
  const stores: RedisCrmOutboxStore[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await redis.stop();
  });

  async function node(prefix: string, leaseMs = 300): Promise<RedisCrmOutboxStore> {
    const s = new RedisCrmOutboxStore({ url: redis.url, keyPrefix: prefix, leaseMs });
    stores.push(s);
    await s.open();
    return s;
  }

  it("a live node's calls are not taken; a closed node's are, once, by one node", async () => {
    const a = await node('t1:');
    const b = await node('t1:');
    const c = await node('t1:');
    await a.put(stored('A1'));
    await a.put(stored('A2'));
    await a.remove('A2');
    assert.deepEqual(await b.takeOver(), []);
    assert.deepEqual(await b.inspect('A1').then((x) => x?.mine), false, "A1 is a's while a lives");
    await a.close();
    const [fromB, fromC] = await Promise.all([b.takeOver(), c.takeOver()]);
    const ids = [...fromB, ...fromC].map((x) => x.id);
    assert.deepEqual(ids, ['A1'], 'taken over exactly once');
    const owner = fromB.length ? b : c;
    assert.equal((await owner.inspect('A1'))?.mine, true);
  });

  it('a crashed node (lease ran out) is taken over; one call can be claimed alone', async () => {
    const a = await node('t2:', 100);
    await a.put(stored('X'));
    await a.put(stored('Y'));
    // A crash: the lease is not renewed and not deleted.
    (a as unknown as { renewTimer: NodeJS.Timeout }).renewTimer.unref();
    clearInterval((a as unknown as { renewTimer: NodeJS.Timeout }).renewTimer);
    const b = await node('t2:', 100);
    assert.equal((await b.inspect('X'))?.mine, false);
    await new Promise((r) => setTimeout(r, 400));
    const claimed = await b.inspect('X');
    assert.equal(claimed?.mine, true, 'a dead owner gives its call up to the one asking');
    assert.deepEqual(
      (await b.takeOver()).map((x) => x.id),
      ['Y'],
    );
  });

  it('fails writes at once while Redis is away, and is unready', async () => {
    const a = await node('t3:');
    await redis.stop();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(a.put(stored('Z')), /not connected/);
    assert.equal(a.readiness().ready, false);
    await redis.restart();
    for (let i = 0; i < 100 && !a.readiness().ready; i++)
      await new Promise((r) => setTimeout(r, 50));
    await a.put(stored('Z'));
    assert.equal((await a.inspect('Z'))?.mine, true);
  });
});
