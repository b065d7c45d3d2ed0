// Issue 12, acceptance 2: the CRM down (or answering errors) for the first half of a replay, then
// up: every change arrives, in order, none twice; the same with the node restarted in between (a
// new process on the same store: the file journal after SIGTERM, Redis after SIGKILL).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import { Redis } from 'ioredis';
import { FakeAmiServer } from '@app/ami/testing';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import {
  WsCtiClient,
  type CtiClient,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { CrmCallRecorder } from '../apps/messaging-host/src/crm/crm-call-recorder.service';
import { outboxJournalPath } from '../apps/messaging-host/src/crm/outbox/file-crm-outbox.store';
import { FakeCrmServer, type CrmMode } from './support/fake-crm-server';
import { startRedisServer, type RedisServer } from './support/redis-server';
import { freePort, httpGet, startService, type ServiceProcess } from './support/service-process';
import {
  callEventsOf,
  callIdsOf,
  callOf,
  checkPanelSaw,
  checkSavedCall,
  eventually,
  replayInParts,
  replayWithSaves,
  splitTrace,
  waitSavedEvents,
} from './support/crm-harness';

const USER = '410006e1-ca4e-4502-a9ec-e54d922d2c00';
const CONTACT = 'c4ed336c-3e9b-40fe-8b82-5632476472b4';

let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis?.stop();
});

async function openPanel(port: number, serviceUrl: string): Promise<WsCtiClient> {
  const p = await WsCtiClient.connect(`ws://127.0.0.1:${port}/`);
  const e = await p.open('305', USER, {
    sessionServiceParams: { ServiceUrl: serviceUrl, UserContactUId: CONTACT },
  });
  assert.equal(e.eventType, 2, e.content);
  return p;
}

/** Waits until the panel got `n` call events (5..9, 13, 17) in all. */
async function waitCallEvents(p: CtiClient, n: number, timeoutMs = 20_000): Promise<void> {
  const count = (): number => callIdsOf(p).reduce((k, id) => k + callEventsOf(p, id).length, 0);
  const t0 = Date.now();
  while (count() < n) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`the panel got ${count()} of ${n} call events`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Variant = { store: 'file' | 'redis'; failure: 'down' | CrmMode };

describe('crm outbox e2e: the CRM away for the first half, then back (one node)', () => {
  const variants: Variant[] = [
    { store: 'file', failure: 'down' },
    { store: 'redis', failure: 'down' },
    { store: 'redis', failure: 'http503' },
    { store: 'file', failure: 'errorText' },
  ];
  for (const v of variants) {
    it(`${v.store} store, CRM ${v.failure === 'down' ? 'not listening' : `answering ${v.failure}`}: every change arrives in order, none twice`, async () => {
      const crm = await FakeCrmServer.start();
      let t: RealApp | undefined;
      try {
        if (v.failure === 'down') await crm.down();
        else crm.mode = v.failure;
        t = await startRealApp((c) => {
          c.security.allowedServiceUrls = [crm.base];
          c.crm.outbox.retryMinDelayMs = 20;
          c.crm.outbox.retryMaxDelayMs = 150;
          if (v.store === 'redis') {
            c.storage.driver = 'redis';
            c.storage.redis.url = redis.url;
            c.storage.redis.keyPrefix = `crm-e2e-${v.failure}-${Date.now()}:`;
          }
        });
        const p = await openPanel(t.port, crm.base);
        const [held, rest] = splitTrace('e1_park_unpark', 'Event: ParkedCall');
        // First half, CRM away: c whole, e1 up to the hold.
        await replayWithSaves(t.app, t.ami, 'c_inbound_answered', [p], false);
        await replayWithSaves(t.app, t.ami, held, [p], false);
        const [c, e1] = callIdsOf(p);
        assert.ok(c && e1, 'two calls seen');
        assert.ok(
          !p.events.all.some((e) => e.eventType === 15),
          'no event 15 while the CRM is away',
        );
        assert.ok(p.events.all.every((e) => !(e.parsed as { databaseUId?: string })?.databaseUId));
        const recorder = t.app.get(CrmCallRecorder);
        const waiting = recorder.status(e1);
        assert.equal(waiting?.state, 'pending');
        assert.equal(waiting?.pending, 2);
        if (v.failure !== 'down') {
          await crm.waitFor(() => crm.updates.length > 2, 'failed attempts');
          assert.equal(crm.saved.length, 0);
        }
        assert.ok(recorder.metrics.snapshot().outboxDepth >= 5);

        // The CRM is back: the five waiting changes go, in order; then event 15 for both calls.
        if (v.failure === 'down') await crm.up();
        else crm.mode = 'up';
        await waitSavedEvents(p);
        // A panel that reconnects sees the record in the snapshot too.
        const snap = await p.reply(await p.command('QueryActiveCallSnapshot'));
        const saved15 = p.events.all.find((e) => e.eventType === 15 && callOf(e).id === e1)!;
        const active = (snap.parsed as { ActiveCalls: { id: string; databaseUId?: string }[] })
          .ActiveCalls;
        assert.deepEqual(
          active.map((x) => [x.id, x.databaseUId]),
          [[e1, callOf(saved15).databaseUId]],
        );
        await replayWithSaves(t.app, t.ami, rest, [p]);
        await crm.waitFor(() => crm.saved.length >= 8, '8 saves');
        assert.equal(crm.saved.length, 8, 'none twice');
        const gc = checkSavedCall(crm, p, c, '305', CONTACT);
        const ge = checkSavedCall(crm, p, e1, '305', CONTACT);
        checkPanelSaw(p, c, gc);
        const after15 = checkPanelSaw(p, e1, ge);
        assert.deepEqual(
          after15.map((e) => e.eventType),
          [8, 9, 6],
          "e1's events after its save carry the record",
        );
        await eventually(
          () =>
            recorder.status(e1)?.state === 'saved' && recorder.metrics.snapshot().outboxDepth === 0,
          'the outbox drained',
        );
        await p.close();
      } finally {
        await t?.close();
        await crm.close();
      }
    });
  }
});

interface Node {
  proc: ServiceProcess;
  port: number;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const proc = startService({ ...env, SERVER__PORT: String(port) });
  await proc.waitForOutput(/listening on/);
  const t0 = Date.now();
  for (;;) {
    const r = await httpGet(port, '/health/ready');
    if (r.status === 200) break;
    if (Date.now() - t0 > 20_000) throw new Error(`not ready: ${r.body}\n${proc.output()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  return { proc, port };
}

describe('crm outbox e2e: the node restarted while the CRM is down (a new process, same store)', () => {
  const cases = [
    { store: 'file' as const, signal: 'SIGTERM' as const },
    { store: 'redis' as const, signal: 'SIGKILL' as const },
  ];
  for (const k of cases) {
    it(`${k.store} store, ${k.signal}: the new process sends what the old one kept, in order, none twice`, async () => {
      const crm = await FakeCrmServer.start();
      await crm.down();
      const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
      const dir = mkdtempSync(join(tmpdir(), 'crm-restart-'));
      const prefix = `crm-restart-${Date.now()}:`;
      const env: Record<string, string> = {
        SERVER__HOST: '127.0.0.1',
        SERVER__TLSPORT: '0',
        ASTERISK__URL: '127.0.0.1',
        ASTERISK__PORT: String(ami.port),
        ASTERISK__USERNAME: 'admin',
        ASTERISK__SECRET: 'secret',
        ASTERISK__AUTOPAUSEONCOMMUTATIONSTART: 'false',
        ASTERISK__PINGINTERVALMS: '0',
        SECURITY__ALLOWEDSERVICEURLS: crm.base,
        CRM__OUTBOX__RETRYMINDELAYMS: '20',
        CRM__OUTBOX__RETRYMAXDELAYMS: '150',
        CRM__OUTBOX__OWNERLEASEMS: '300',
        STORAGE__FILE__PATH: join(dir, 'settings.json'),
        ...(k.store === 'redis'
          ? {
              STORAGE__DRIVER: 'redis',
              STORAGE__REDIS__URL: redis.url,
              STORAGE__REDIS__KEYPREFIX: prefix,
            }
          : {}),
      };
      const client = k.store === 'redis' ? new Redis(redis.url) : undefined;
      /** Changes kept in the store, per call. */
      const kept = async (): Promise<number> => {
        if (client) {
          const keys = await client.keys(`${prefix}crm:call:*`);
          let n = 0;
          for (const key of keys) {
            const stored = JSON.parse((await client.get(key)) ?? '{}') as { changes?: unknown[] };
            n += stored.changes?.length ?? 0;
          }
          return n;
        }
        const last = new Map<string, number>();
        let text: string;
        try {
          text = readFileSync(outboxJournalPath(join(dir, 'settings.json')), 'utf8');
        } catch {
          return 0;
        }
        for (const line of text.split('\n').filter(Boolean)) {
          const r = JSON.parse(line) as { p?: { id: string; changes: unknown[] }; d?: string };
          if (r.p) last.set(r.p.id, r.p.changes.length);
          else if (r.d) last.delete(r.d);
        }
        return [...last.values()].reduce((a, b) => a + b, 0);
      };
      const nodes: Node[] = [];
      try {
        const a = await startNode(env);
        nodes.push(a);
        const pa = await openPanel(a.port, crm.base);
        await ami.replay('c_inbound_answered');
        await ami.replay('d_inbound_missed');
        await waitCallEvents(pa, 5);
        const t0 = Date.now();
        while ((await kept()) < 5) {
          if (Date.now() - t0 > 10_000)
            throw new Error(`the store kept ${await kept()} of 5 changes`);
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(crm.requests.length, 0);
        await pa.close();
        a.proc.child.kill(k.signal);
        await a.proc.exited;

        await crm.up();
        const b = await startNode(env);
        nodes.push(b);
        await crm.waitFor(() => crm.saved.length >= 5, 'the 5 changes left by the first process');
        const pb = await openPanel(b.port, crm.base);
        // e1 on the new process, the CRM up: after the ring, event 15; the rest carries the record.
        await replayInParts(ami, 'e1_park_unpark', async (part) => {
          await waitCallEvents(pb, [1, 3, 5][part]!);
          await waitSavedEvents(pb);
        });
        await crm.waitFor(() => crm.saved.length >= 10, 'every change');
        assert.equal(crm.saved.length, 10, 'none twice');
        const [c, d] = callIdsOf(pa);
        checkSavedCall(crm, pa, c!, '305', CONTACT);
        checkSavedCall(crm, pa, d!, '305', CONTACT);
        const e1 = callIdsOf(pb)[0]!;
        const g = checkSavedCall(crm, pb, e1, '305', CONTACT);
        assert.deepEqual(
          checkPanelSaw(pb, e1, g).map((e) => e.eventType),
          [7, 8, 9, 6],
        );
        await eventually(async () => (await kept()) === 0, 'the store is empty once all is saved');
        await pb.close();
      } finally {
        for (const n of nodes) {
          if (n.proc.child.exitCode === null && n.proc.child.signalCode === null) {
            n.proc.child.kill('SIGTERM');
            await n.proc.exited;
          }
        }
        client?.disconnect();
        await ami.close();
        await crm.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
