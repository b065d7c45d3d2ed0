// Line leases, signed SignalR tokens and the shared rate limit against a real redis-server, two
// "nodes" in one process (each its own ClusterRedis connection and RedisLineOwnership).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ClusterNodes } from '../apps/messaging-host/src/cluster/cluster-nodes';
import { ClusterRedis } from '../apps/messaging-host/src/cluster/cluster-redis';
import { RedisAgentStateStore } from '../apps/messaging-host/src/cluster/redis-agent-state.store';
import { RedisLineActionGate } from '../apps/messaging-host/src/cluster/redis-line-action.gate';
import {
  LineClaimRefused,
  LineOwnershipErrorCode,
} from '../apps/messaging-host/src/cluster/line-ownership';
import { RedisLineOwnership } from '../apps/messaging-host/src/cluster/redis-line-ownership';
import { RedisThrottlerStorage } from '../apps/messaging-host/src/cluster/redis-throttler.storage';
import { SignedNegotiationStore } from '../apps/messaging-host/src/cluster/signed-negotiation-store';
import { startRedisServer, type RedisServer } from './support/redis-server';

const LEASE_MS = 1500;
const PREFIX = 'mh-test:';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function refusal(p: Promise<unknown>): Promise<LineClaimRefused> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof LineClaimRefused, String(err));
    return err;
  }
  assert.fail('the claim was accepted');
}

describe('cluster: line leases in Redis', () => {
  let redis: RedisServer;
  let raw: Redis;
  const opened: { c: ClusterRedis; o: RedisLineOwnership }[] = [];

  async function node(nodeId: string): Promise<{ c: ClusterRedis; o: RedisLineOwnership }> {
    const c = new ClusterRedis({ url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 500 });
    await c.open();
    const o = new RedisLineOwnership(c, { nodeId, leaseMs: LEASE_MS });
    const n = { c, o };
    opened.push(n);
    return n;
  }

  before(async () => {
    redis = await startRedisServer();
    raw = new Redis(redis.url, { keyPrefix: PREFIX, maxRetriesPerRequest: 1 });
    raw.on('error', () => undefined); // Redis is stopped on purpose below
  });
  after(async () => {
    for (const n of opened) {
      await n.o.close().catch(() => undefined);
      await n.c.close();
    }
    raw.disconnect();
    await redis.stop();
  });

  it('one user per line across nodes; the same user takes over at once; release frees it', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const l1 = await a.o.claim('305', 'User-1');
    assert.equal(a.o.isHeldHere('305'), true);
    assert.deepEqual(
      { user: (await a.o.holderOf('305'))?.user, node: (await a.o.holderOf('305'))?.node },
      { user: 'user-1', node: 'node-a' },
    );
    const busy = await refusal(b.o.claim('305', 'user-2'));
    assert.equal(busy.code, LineOwnershipErrorCode.LineBusy);
    assert.equal(busy.message, 'line 305 is in use by another user');

    const l2 = await b.o.claim('305', 'USER-1');
    assert.equal((await b.o.holderOf('305'))?.node, 'node-b', 'taken over by the reconnect');
    assert.equal(b.o.isHeldHere('305'), true);
    await a.o.renewAll();
    assert.equal(a.o.isHeldHere('305'), false, 'node-a follows: the same user, another session');
    assert.deepEqual(
      a.o.localLeases().map((l) => [l.line, l.holder]),
      [['305', false]],
    );

    l2.release();
    await until(async () => (await raw.get('lease:305')) === null, 'the release');
    await a.o.renewAll();
    assert.equal((await a.o.holderOf('305'))?.node, 'node-a', 'node-a took it back');
    assert.equal(a.o.isHeldHere('305'), true);
    l1.release();
    await until(async () => (await raw.get('lease:305')) === null, 'the last release');
    assert.deepEqual(a.o.localLeases(), []);
  });

  it("a dead node's lease expires within leaseMs; a live one is renewed past it", async () => {
    const a = await node('node-c');
    const b = await node('node-d');
    await a.o.claim('401', 'user-1');
    await b.o.claim('402', 'user-3');
    // node-c dies: no renewal, no release.
    a.c.client.disconnect();
    await a.o.close();
    const t0 = Date.now();
    const refused = await refusal(b.o.claim('401', 'user-2'));
    assert.equal(refused.code, LineOwnershipErrorCode.LineBusy);
    let claimed = false;
    while (!claimed) {
      try {
        await b.o.claim('401', 'user-2');
        claimed = true;
      } catch {
        await sleep(50);
      }
      assert.ok(Date.now() - t0 < LEASE_MS + 1000, 'the dead lease outlived leaseMs');
    }
    assert.equal((await b.o.holderOf('402'))?.node, 'node-d', 'kept by its renewals');
    assert.ok(Number(await raw.pttl('lease:402')) > LEASE_MS / 2);
  });

  it('a line another user took while this node could not renew is lost: the socket is told why', async () => {
    const a = await node('node-e');
    const lease = await a.o.claim('501', 'user-1');
    const reasons: string[] = [];
    lease.onLost((r) => reasons.push(r));
    await raw.set(
      'lease:501',
      JSON.stringify({ user: 'user-9', node: 'node-x', session: 'node-x/1', since: 1 }),
      'PX',
      LEASE_MS,
    );
    await a.o.renewAll();
    assert.deepEqual(reasons, [
      'line 501 was taken by another user on node node-x while this node could not renew its lease',
    ]);
    assert.equal(a.o.isHeldHere('501'), false);
    assert.deepEqual(a.o.localLeases(), []);
  });

  it('Redis lost: claims refused with the reason, open leases kept, then re-established', async () => {
    const a = await node('node-f');
    await a.o.claim('601', 'user-1');
    assert.equal(a.o.readiness().ready, true);
    await redis.stop();
    await until(() => !a.c.isReady, 'the connection to notice');
    const r = a.o.readiness();
    assert.equal(r.ready, false);
    assert.match(
      r.reason ?? '',
      /^redis 127\.0\.0\.1:\d+ is \w+.*new line claims are refused; 1 open line/,
    );
    const refused = await refusal(a.o.claim('602', 'user-2'));
    assert.equal(refused.code, LineOwnershipErrorCode.Unavailable);
    assert.match(
      refused.message,
      /^line 602 cannot be opened now: line ownership is kept in Redis and redis 127\.0\.0\.1:\d+ is/,
    );
    // Another socket of the same user on a line this node already has is no new claim.
    const again = await a.o.claim('601', 'user-1');
    again.release();
    assert.deepEqual(
      a.o.localLeases().map((l) => l.line),
      ['601'],
    );

    await redis.restart(); // empty: no persistence
    await until(
      async () => a.c.isReady && (await raw.get('lease:601').catch(() => null)) !== null,
      'the lease back',
    );
    assert.equal((await a.o.holderOf('601'))?.node, 'node-f');
    await until(() => a.o.readiness().ready, 'readiness back');
    await (await a.o.claim('602', 'user-2')).release();
  });
});

describe('cluster: signed SignalR connection tokens', () => {
  const secret = 's'.repeat(40);
  it('a token issued by one node is taken by another, once per node, until it expires', () => {
    const a = new SignedNegotiationStore(secret);
    const b = new SignedNegotiationStore(secret);
    const now = 1_000_000;
    const t = a.issue('conn-1', 'http://crm.example', now + 60_000);
    assert.deepEqual(b.take(t, now + 1000), {
      connectionId: 'conn-1',
      expiresAt: now + 60_000,
      origin: 'http://crm.example',
    });
    assert.equal(b.take(t, now + 1000), undefined, 'used');
    assert.equal(a.take(t, now + 60_000), undefined, 'expired');
    assert.equal(a.pendingCount, 0, 'nothing is kept per negotiation');
  });

  it('refuses a token of another secret, or altered, or not one at all', () => {
    const a = new SignedNegotiationStore(secret);
    const other = new SignedNegotiationStore('o'.repeat(40));
    const now = 5_000;
    const t = a.issue('conn-2', undefined, now + 60_000);
    assert.equal(other.take(t, now), undefined);
    const [body, sig] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ c: 'conn-2', e: now + 10 ** 9 })).toString(
      'base64url',
    );
    assert.equal(a.take(`${forged}.${sig}`, now), undefined);
    assert.equal(a.take(`${body}.${sig!.slice(1)}A`, now), undefined);
    for (const junk of ['', '.', 'abc', 'a.b', `${'x'.repeat(3000)}.y`]) {
      assert.equal(a.take(junk, now), undefined, junk.slice(0, 20));
    }
    assert.ok(a.take(t, now));
    assert.throws(() => new SignedNegotiationStore('short'), /at least 32/);
  });
});

describe('cluster: REST rate limit counted in Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis.stop());

  it('two nodes share the count; with Redis away each counts alone', async () => {
    const c1 = new ClusterRedis({ url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 500 });
    const c2 = new ClusterRedis({ url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 500 });
    await c1.open();
    await c2.open();
    const s1 = new RedisThrottlerStorage(c1);
    const s2 = new RedisThrottlerStorage(c2);
    try {
      const hits: number[] = [];
      for (let i = 0; i < 3; i++) {
        hits.push((await s1.increment('key:crm', 60_000, 4, 60_000, 'default')).totalHits);
        hits.push((await s2.increment('key:crm', 60_000, 4, 60_000, 'default')).totalHits);
      }
      assert.deepEqual(hits, [1, 2, 3, 4, 5, 6]);
      const blocked = await s1.increment('key:crm', 60_000, 4, 60_000, 'default');
      assert.equal(blocked.isBlocked, true);
      assert.ok(blocked.timeToBlockExpire > 0 && blocked.timeToBlockExpire <= 60);
      await redis.stop();
      await until(() => !c1.isReady, 'the connection to notice');
      const alone = await s1.increment('key:crm', 60_000, 4, 60_000, 'default');
      assert.equal(alone.totalHits, 1, 'counted in this node only');
      await redis.restart();
    } finally {
      s1.close();
      s2.close();
      await c1.close();
      await c2.close();
    }
  });
});

describe('cluster: who acts on a line, and the shared agent state', () => {
  let redis: RedisServer;
  const closers: (() => Promise<void>)[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await redis.stop();
  });

  async function node(id: string) {
    const c = new ClusterRedis({ url: redis.url, keyPrefix: 'mh-act:', commandTimeoutMs: 500 });
    await c.open();
    const o = new RedisLineOwnership(c, { nodeId: id, leaseMs: LEASE_MS });
    const nodes = new ClusterNodes(c, id, LEASE_MS);
    const gate = new RedisLineActionGate(c, o, id);
    const agents = new RedisAgentStateStore(c, id);
    await agents.open();
    await nodes.beat();
    closers.push(async () => {
      await agents.close();
      await nodes.close();
      await o.close();
      await c.close();
    });
    return { c, o, nodes, gate, agents };
  }

  it('the lease holder acts, the others do not; no lease: the lowest live node id', async () => {
    const b = await node('node-b');
    const a = await node('node-a');
    const cNode = await node('node-c');
    assert.deepEqual(await a.nodes.live(), ['node-a', 'node-b', 'node-c']);
    const acting = async (line: string): Promise<string[]> => {
      const out: string[] = [];
      for (const [id, n] of [
        ['node-a', a],
        ['node-b', b],
        ['node-c', cNode],
      ] as const)
        if (await n.gate.mayAct(line)) out.push(id);
      return out;
    };
    assert.deepEqual(await acting('305'), ['node-a'], 'nobody holds 305: the lowest id');
    const lease = await cNode.o.claim('305', 'user-305');
    assert.deepEqual(await acting('305'), ['node-c'], 'the holder');
    lease.release();
    await until(async () => (await a.c.client.get('lease:305')) === null, 'the release');
    // node-a leaves the cluster: node-b is the lowest live one.
    await a.nodes.close();
    assert.deepEqual(await acting('306'), ['node-b']);
    await a.nodes.beat();
  });

  it('an agent state set on one node is read on the others, and survives a Redis restart', async () => {
    const a = await node('node-d');
    const b = await node('node-e');
    await a.agents.set('305', { code: 'Away', reason: 'Lunch', wrapUp: false, autoPaused: false });
    await until(() => b.agents.get('305')?.code === 'Away', 'the change to reach node-e');
    assert.deepEqual(b.agents.get('305'), {
      code: 'Away',
      reason: 'Lunch',
      wrapUp: false,
      autoPaused: false,
    });
    // Set while Redis is away: kept, then written when it is back (Redis restarts empty).
    await redis.stop();
    await until(() => !a.c.isReady, 'the connection to notice');
    await b.agents.set('306', { code: 'Active', wrapUp: true, autoPaused: false });
    assert.equal(b.agents.get('306')?.wrapUp, true);
    await redis.restart();
    await until(async () => {
      if (!b.c.isReady) return false;
      return (await b.c.client.hget('agents', '306').catch(() => null)) !== null;
    }, 'the pending state written');
    const late = await node('node-f');
    assert.equal(late.agents.get('306')?.wrapUp, true, 'a node started later reads it');
    await until(async () => (await b.c.client.hget('agents', '305')) !== null, '305 put back');
    assert.equal(
      late.agents.get('305')?.code ?? (await node('node-g')).agents.get('305')?.code,
      'Away',
    );
  });
});
