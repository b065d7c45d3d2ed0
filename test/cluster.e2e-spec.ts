// Issue 11 acceptance: real processes. redis-server, nginx (docker/nginx.conf: round robin, no
// affinity) in front of 3 `node dist/apps/messaging-host/src/main.js` nodes with cluster.enabled,
// all fed by one AMI peer replaying the recorded traces (f_queue_pause, c_inbound_answered).
// CTI clients connect through nginx only: `ws`, @microsoft/signalr current and 3.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { decodeScenario } from '@app/ami';
import { readTrace } from '@app/ami/testing';
import {
  WsCtiClient,
  type CtiClient,
  type ReceivedEvent,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { connectSignalR } from '../apps/messaging-host/src/gateway/testing/signalr-clients';
import { recordedQueueStatus, startCluster, type TestCluster } from './support/cluster-harness';

const LEASE_MS = 3000;
const API_KEY = 'cluster-e2e-api-key-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface CallContent {
  id: string;
  deviceId: string;
  state: number;
}

function callOf(e: ReceivedEvent): CallContent {
  return e.parsed as CallContent;
}

function errorOf(e: ReceivedEvent): { errorType: number; internalErrorCode: string; data: string } {
  assert.equal(e.eventType, 3, `an ERROR event, got ${e.eventType}: ${e.content}`);
  return e.parsed as { errorType: number; internalErrorCode: string; data: string };
}

/** The number of broadcast events of a trace before the first one matching `pred`. */
function indexOf(trace: string, pred: (event: string | undefined) => boolean, nth = 1): number {
  const events = decodeScenario(readTrace(trace), trace).events;
  let seen = 0;
  for (let i = 0; i < events.length; i++) {
    if (pred(events[i]!.packet.event) && ++seen === nth) return i;
  }
  throw new Error(`${trace}: no such event`);
}

/** Broadcasts the trace's events [from, to) to every node's AMI connection. */
async function replay(c: TestCluster, trace: string, from = 0, to = Infinity): Promise<void> {
  let i = 0;
  await c.ami.replay(trace, {
    filter: () => {
      const k = i++;
      return k >= from && k < to;
    },
  });
}

/** The QueuePause actions the AMI peer received for a member interface, from every node. */
function queuePauses(c: TestCluster, iface: string): Record<string, string>[] {
  return c.ami.actions
    .filter((a) => a.get('Action') === 'QueuePause' && a.get('Interface') === iface)
    .map((a) => {
      const out: Record<string, string> = { Paused: a.get('Paused') ?? '' };
      const reason = a.get('Reason');
      if (reason) out['Reason'] = reason;
      return out;
    });
}

describe('cluster of 3 nodes behind nginx (issue 11)', () => {
  let c: TestCluster;
  const clients: CtiClient[] = [];
  const ws = async (): Promise<WsCtiClient> => {
    const client = await WsCtiClient.connect(`ws://127.0.0.1:${c.nginx.port}/`);
    clients.push(client);
    return client;
  };

  before(async () => {
    c = await startCluster({
      nodes: 3,
      leaseMs: LEASE_MS,
      queueStatus: recordedQueueStatus('f_queue_pause'),
      env: {
        API__KEYS: JSON.stringify([
          {
            name: 'crm',
            sha256: createHash('sha256').update(API_KEY).digest('hex'),
            scopes: ['read'],
          },
        ]),
        API__RATELIMIT__LIMIT: '5',
        API__RATELIMIT__TTLMS: '60000',
      },
    });
  });
  after(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await c?.close();
  });

  it('SignalR connects through nginx every time: 20 connects in a row, 3.1 and current clients', async () => {
    const opened: CtiClient[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const major = i % 2 === 0 ? '3.1' : 'current';
        const path = i % 4 < 2 ? '/msg' : '/';
        const client = await connectSignalR(major, `http://127.0.0.1:${c.nginx.port}${path}`);
        opened.push(client);
        const e2 = await client.open(String(7000 + i), `user-${i}`);
        assert.equal(e2.eventType, 2, `connect ${i + 1} (${major}): ${e2.content}`);
        const snap = await client.reply(await client.command('QueryActiveCallSnapshot'));
        assert.equal(snap.eventType, 10);
      }
      const nodes = new Set<string>();
      for (let i = 0; i < 20; i++) nodes.add((await c.leaseOf(String(7000 + i)))!.node);
      assert.equal(
        nodes.size,
        3,
        `the sessions are spread over every node: ${[...nodes].join(', ')}`,
      );
    } finally {
      for (const client of opened) await client.close();
    }
    // Released with the sockets.
    for (let t = 0; t < 40 && (await c.leaseOf('7000')); t++) await sleep(50);
    assert.equal(await c.leaseOf('7000'), undefined);
  });

  it('a negotiate on one node and its WebSocket on another: accepted once, a forged token refused', async () => {
    const [n1, n2, n3] = c.nodes;
    const res = await fetch(`http://127.0.0.1:${n1!.port}/msg/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { Origin: 'http://crm.example.test' },
    });
    const { connectionToken } = (await res.json()) as { connectionToken: string };
    const upgrade = (node: { port: number }, id: string): Promise<number> =>
      new Promise((resolve) => {
        const sock = new WebSocket(`ws://127.0.0.1:${node.port}/msg?id=${encodeURIComponent(id)}`);
        sock.once('open', () => {
          sock.send('{"protocol":"json","version":1}\x1e');
          sock.once('message', (m) => {
            resolve(String(m) === '{}\x1e' ? 101 : -1);
            sock.close();
          });
        });
        sock.once('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
        sock.once('error', () => resolve(0));
      });
    assert.equal(await upgrade(n2!, connectionToken), 101, 'another node takes the token');
    assert.equal(await upgrade(n2!, connectionToken), 404, 'once');
    const [body, sig] = connectionToken.split('.');
    assert.equal(await upgrade(n3!, `${body}x.${sig}`), 404, 'an altered token');
  });

  it('the REST rate limit holds for the whole cluster: the 6th request of 5 allowed, on any node, is refused', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`http://127.0.0.1:${c.nginx.port}/api/v1/libraries`, {
        headers: { Authorization: `Bearer ${API_KEY}` },
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    // Round robin: each node saw 2 or 3 of them; counted per node, none would be refused.
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  });

  it('a second user claiming 305 through any node gets error 2; the owner keeps it', async () => {
    const owner = await ws();
    assert.equal((await owner.open('305', 'user-305')).eventType, 2);
    const holder = await c.leaseOf('305');
    assert.equal(holder?.user, 'user-305');
    // Three connects in a row: round robin puts them on the three nodes.
    for (let i = 0; i < 3; i++) {
      const intruder = await ws();
      const err = errorOf(await intruder.open('305', 'user-intruder'));
      assert.equal(err.errorType, 2);
      assert.equal(err.internalErrorCode, 'LINE_OWNED_BY_OTHER_USER');
      assert.equal(err.data, 'line 305 is in use by another user');
      await intruder.events.waitClosed();
    }
    assert.deepEqual(await c.leaseOf('305'), holder);
    // The same user again, through any node: taken over at once.
    const tab = await ws();
    assert.equal((await tab.open('305', 'USER-305')).eventType, 2);
    await tab.close();
    await owner.close();
    for (let t = 0; t < 60 && (await c.leaseOf('305')); t++) await sleep(50);
    assert.equal(await c.leaseOf('305'), undefined, 'released with the last socket');
  });

  it('Redis stopped: readiness 503 with the reason, open sessions get their calls, claims refused; then leases back', async () => {
    const owner = await ws();
    assert.equal((await owner.open('305', 'user-305')).eventType, 2);
    await sleep(LEASE_MS / 2);
    const holder = (await c.leaseOf('305'))!;
    await c.redis.stop();
    for (const node of c.nodes) {
      let r = await c.ready(node);
      for (let t = 0; t < 100 && r.status === 200; t++) {
        await sleep(50);
        r = await c.ready(node);
      }
      assert.equal(r.status, 503, `${node.id} ready: ${JSON.stringify(r.body)}`);
      const cluster = (r.body['error'] as Record<string, { reason?: string }>)['cluster'];
      assert.match(
        cluster?.reason ?? '',
        /^redis 127\.0\.0\.1:\d+ is \w+.*new line claims are refused/,
        JSON.stringify(r.body),
      );
    }
    // The open session still gets the call (AMI is local to each node).
    await replay(c, 'c_inbound_answered');
    const ring = await owner.events.next((e) => e.eventType === 5);
    assert.equal(callOf(ring).deviceId, '305');
    const end = await owner.events.next((e) => e.eventType === 6);
    assert.equal(callOf(end).id, callOf(ring).id);
    // A new claim is refused with the reason, through any node.
    const late = await ws();
    const err = errorOf(await late.open('306', 'user-306'));
    assert.equal(err.errorType, 2);
    assert.equal(err.internalErrorCode, 'CLUSTER_UNAVAILABLE');
    assert.match(
      err.data,
      /^line 306 cannot be opened now: line ownership is kept in Redis and redis 127\.0\.0\.1:\d+ is/,
    );

    await c.redis.restart();
    await c.allReady(15_000);
    let back = await c.leaseOf('305');
    for (let t = 0; t < 60 && !back; t++) {
      await sleep(50);
      back = await c.leaseOf('305');
    }
    assert.equal(back?.node, holder.node, 'the lease is re-established by its node');
    assert.equal(back?.session, holder.session);
    const now = await ws();
    assert.equal((await now.open('306', 'user-306')).eventType, 2, 'claims are accepted again');
    await now.close();
    await owner.close();
  });

  it('a line another user took while its node could not renew: the panel gets error 2 and is closed', async () => {
    const panel = await ws();
    assert.equal((await panel.open('308', 'user-308')).eventType, 2);
    // What a lapse looks like from Redis: the lease is another user's now.
    await c.raw.set(
      'lease:308',
      JSON.stringify({ user: 'user-other', node: 'node-9', session: 'node-9/x', since: 1 }),
      'PX',
      LEASE_MS,
    );
    const err = errorOf(await panel.events.next((e) => e.eventType === 3, LEASE_MS * 2));
    assert.equal(err.errorType, 2);
    assert.equal(err.internalErrorCode, 'LINE_LEASE_LOST');
    assert.match(err.data, /^line 308 was taken by another user on node node-9/);
    await panel.events.waitClosed();
    await c.raw.del('lease:308');
  });

  it('autoPauseOnCommutationStart: one QueuePause pause and one unpause per answered queue call, from the lease holder', async () => {
    const panel = await ws();
    assert.equal((await panel.open('305', 'user-305')).eventType, 2);
    c.ami.clearActions();
    await replay(c, 'f_queue_pause');
    await panel.events.next((e) => e.eventType === 7);
    await panel.events.next((e) => e.eventType === 6);
    await sleep(LEASE_MS / 2);
    const pauses = queuePauses(c, 'Local/305@from-queue/n');
    assert.deepEqual(pauses, [
      { Paused: 'true', Reason: 'autoPauseOnCommutationStart' },
      { Paused: 'false' },
    ]);
    await panel.close();
  });

  it('a queue member with no panel open anywhere: paused and unpaused once (the lowest live node)', async () => {
    for (let t = 0; t < 60 && (await c.leaseOf('305')); t++) await sleep(50);
    c.ami.clearActions();
    await replay(c, 'f_queue_pause');
    await sleep(LEASE_MS / 2);
    assert.deepEqual(queuePauses(c, 'Local/305@from-queue/n'), [
      { Paused: 'true', Reason: 'autoPauseOnCommutationStart' },
      { Paused: 'false' },
    ]);
  });

  it('"Away" chosen on one node is never overwritten by another node after the next call', async () => {
    const panel = await ws();
    assert.equal((await panel.open('305', 'user-305')).eventType, 2);
    c.ami.clearActions();
    const set = await panel.reply(
      await panel.command('SetMsgUserState', { code: 'Away', reason: 'Lunch' }),
    );
    assert.equal(set.parsed, 'Away');
    await replay(c, 'f_queue_pause');
    await panel.events.next((e) => e.eventType === 6);
    await sleep(LEASE_MS / 2);
    const pauses = queuePauses(c, 'Local/305@from-queue/n');
    assert.ok(pauses.length >= 1, 'the Away pause');
    assert.ok(
      !pauses.some((p) => p.Paused === 'false'),
      `nobody unpaused an Away agent: ${JSON.stringify(pauses)}`,
    );
    // Another tab of the same user, through another node, sees Away.
    const tab = await ws();
    assert.equal((await tab.open('305', 'user-305')).eventType, 2);
    const q = await tab.reply(await tab.command('QueryMsgUserState'));
    assert.equal(q.parsed, 'Away');
    c.ami.clearActions();
    const back = await tab.reply(await tab.command('SetMsgUserState', { code: 'Active' }));
    assert.equal(back.parsed, 'Active');
    assert.deepEqual(queuePauses(c, 'Local/305@from-queue/n'), [{ Paused: 'false' }]);
    await tab.close();
    await panel.close();
  });

  it('kill -9 of the node holding 305 during a call: the panel reconnects elsewhere, same call, later events, lease moved', async () => {
    const panel = await ws();
    assert.equal((await panel.open('305', 'user-305')).eventType, 2);
    c.ami.clearActions();
    const cut = indexOf('c_inbound_answered', (e) => e === 'BridgeEnter', 2) + 1;
    await replay(c, 'c_inbound_answered', 0, cut);
    const talking = await panel.events.next((e) => e.eventType === 7);
    const callId = callOf(talking).id;
    await sleep(200);
    const holder = (await c.leaseOf('305'))!;
    const victim = c.node(holder.node);
    const killedAt = Date.now();
    await c.kill(victim);
    await panel.events.waitClosed(5000);

    // The panel reconnects the whole sequence, through nginx (it retries as Creatio's does).
    let again: WsCtiClient | undefined;
    while (!again) {
      assert.ok(Date.now() - killedAt < 10_000, 'no reconnect within 10 s');
      try {
        const client = await ws();
        const e2 = await client.open('305', 'user-305');
        if (e2.eventType === 2) again = client;
        else await client.close();
      } catch {
        await sleep(200);
      }
    }
    const reconnectedMs = Date.now() - killedAt;
    assert.ok(reconnectedMs < 10_000, `reconnected after ${reconnectedMs} ms`);
    const snap = await again.reply(await again.command('QueryActiveCallSnapshot'));
    const active = (snap.parsed as { ActiveCalls: CallContent[] }).ActiveCalls;
    assert.deepEqual(
      active.map((x) => x.id),
      [callId],
      'the snapshot shows the same call',
    );
    const moved = await c.leaseOf('305');
    assert.ok(
      moved && moved.node !== victim.id,
      `the lease moved off ${victim.id}: ${JSON.stringify(moved)}`,
    );
    assert.equal(moved.user, 'user-305');

    await replay(c, 'c_inbound_answered', cut);
    const end = await again.events.next((e) => e.eventType === 6);
    assert.equal(callOf(end).id, callId, 'the call ends on the new node');
    // Paused by the dead node when the call connected, unpaused by the new holder when it ended.
    await sleep(LEASE_MS / 2);
    assert.deepEqual(queuePauses(c, 'Local/305@from-queue/n'), [
      { Paused: 'true', Reason: 'autoPauseOnCommutationStart' },
      { Paused: 'false' },
    ]);
    await again.close();
  });
});
