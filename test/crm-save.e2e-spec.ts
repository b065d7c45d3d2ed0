// Issue 12, acceptance 1 and 3: every call of a line saved in the CRM (a real HTTP server standing
// in for Creatio's MsgUtilService) from real traces through the fake AMI server, with real ws and
// SignalR panels; and a panel's ServiceUrl outside the allow-list never called (no SSRF).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import 'reflect-metadata';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import {
  WsCtiClient,
  type CtiClient,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { connectSignalR } from '../apps/messaging-host/src/gateway/testing/signalr-clients';
import { FakeCrmServer } from './support/fake-crm-server';
import {
  barrier,
  callIdsOf,
  callOf,
  checkJsonRequests,
  checkPanelSaw,
  checkSavedCall,
  flush,
  replayWithSaves,
} from './support/crm-harness';

const USER_305 = '410006e1-ca4e-4502-a9ec-e54d922d2c00';
const USER_306 = '5f0b3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06';
const CONTACT_305 = 'c4ed336c-3e9b-40fe-8b82-5632476472b4';
const CONTACT_306 = '7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6';
const TRACES = ['c_inbound_answered', 'd_inbound_missed', 'e1_park_unpark', 'g3_atxfer'];
const API_KEY = randomBytes(24).toString('base64url');

type Transport = 'ws' | 'signalr';

async function panel(t: RealApp, transport: Transport): Promise<CtiClient> {
  return transport === 'ws'
    ? WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`)
    : connectSignalR('current', `http://127.0.0.1:${t.port}/msg`);
}

async function openLine(
  c: CtiClient,
  line: string,
  user: string,
  contact: string,
  serviceUrl: string,
): Promise<void> {
  const e = await c.open(line, user, {
    sessionServiceParams: { ServiceUrl: serviceUrl, UserContactUId: contact },
  });
  assert.equal(e.eventType, 2, e.content);
}

async function restCall(
  t: RealApp,
  id: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${t.port}/api/v1/calls/${id}`, {
    headers: { Authorization: `Bearer ${API_KEY}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('crm e2e: every call saved in the CRM (acceptance 1)', () => {
  let crm: FakeCrmServer;
  const apps: RealApp[] = [];
  before(async () => {
    crm = await FakeCrmServer.start();
  });
  after(async () => {
    for (const t of apps) await t.close();
    await crm.close();
  });

  for (const transport of ['ws', 'signalr'] as Transport[]) {
    it(`c, d, e1, g3 over ${transport}: one record per line's call, event 15 once, databaseUId on every later event and on g3's event 17`, async () => {
      crm.requests.length = 0;
      crm.records.clear();
      const t = await startRealApp((c) => {
        c.security.allowedServiceUrls = [crm.base];
        c.crm.outbox.retryMinDelayMs = 20;
        c.crm.outbox.retryMaxDelayMs = 100;
        c.api.keys = [
          {
            name: 'test',
            sha256: createHash('sha256').update(API_KEY).digest('hex'),
            scopes: ['read'],
          },
        ];
      });
      apps.push(t);
      const p305 = await panel(t, transport);
      const p306 = await panel(t, transport);
      await openLine(p305, '305', USER_305, CONTACT_305, crm.base);
      await openLine(p306, '306', USER_306, CONTACT_306, `${crm.base}/`);

      for (const trace of TRACES) {
        await replayWithSaves(t.app, t.ami, trace, [p305, p306]);
        if (trace === 'e1_park_unpark') {
          // REST while nothing waits: the last call of 305 is saved.
          const id = callIdsOf(p305).at(-1)!;
          const r = await restCall(t, id);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          const saved = r.body['crm'] as Record<string, unknown>;
          assert.equal(saved['state'], 'saved');
          assert.equal(saved['pending'], 0);
          assert.match(String(saved['databaseUId']), /^[0-9a-f-]{36}$/);
          assert.equal(
            (r.body['call'] as Record<string, unknown>)['databaseUId'],
            saved['databaseUId'],
          );
        }
      }
      // Every change in the CRM: as many UpdateCalls as call events the panels got.
      const expected = [p305, p306].reduce(
        (n, c) =>
          n + c.events.all.filter((e) => [5, 6, 7, 8, 9, 13, 17].includes(e.eventType)).length,
        0,
      );
      await crm.waitFor(() => crm.saved.length >= expected, `${expected} UpdateCalls`);
      await barrier(t.app, t.ami);
      for (const c of [p305, p306]) await flush(c);

      const ids305 = callIdsOf(p305);
      const ids306 = callIdsOf(p306);
      // c, d, e1: one call each on 305; g3: the primary and the consultation on 305, one call on 306.
      assert.equal(ids305.length, 5, `305's calls: ${ids305.join(', ')}`);
      assert.equal(ids306.length, 1, `306's calls: ${ids306.join(', ')}`);
      assert.equal(crm.records.size, 6, 'one record per line call');
      assert.equal(crm.updates.length, expected, 'no change saved twice');
      checkJsonRequests(crm.requests);
      for (const id of ids305)
        checkPanelSaw(p305, id, checkSavedCall(crm, p305, id, '305', CONTACT_305));
      const b = ids306[0]!;
      const after15 = checkPanelSaw(p306, b, checkSavedCall(crm, p306, b, '306', CONTACT_306));
      const info = after15.find((e) => e.eventType === 17);
      assert.ok(info, "g3: 306's call got event 17 after its event 15");
      assert.equal(callOf(info).callerId, '79167770003');
      assert.match(
        String(callOf(info).databaseUId),
        /^[0-9a-f-]{36}$/,
        'event 17 carries the databaseUId',
      );

      // REST after the end: the finished call and its record.
      const ended = await restCall(t, b);
      assert.equal(ended.status, 200);
      assert.deepEqual(
        {
          state: (ended.body['crm'] as Record<string, unknown>)['state'],
          db: (ended.body['crm'] as Record<string, unknown>)['databaseUId'],
        },
        { state: 'saved', db: callOf(info).databaseUId },
      );
      await p305.close();
      await p306.close();
    });
  }
});

describe('crm e2e: a panel cannot choose where the service sends requests (acceptance 3)', () => {
  let crm: FakeCrmServer;
  let other: FakeCrmServer;
  let t: RealApp;
  before(async () => {
    crm = await FakeCrmServer.start();
    other = await FakeCrmServer.start();
    t = await startRealApp((c) => {
      c.security.allowedServiceUrls = [crm.base];
      c.crm.outbox.retryMinDelayMs = 20;
      c.crm.outbox.retryMaxDelayMs = 100;
    });
  });
  after(async () => {
    await t?.close();
    await crm.close();
    await other.close();
  });

  it('a ServiceUrl not in security.allowedServiceUrls: no request reaches it, one warning, other lines still saved', async () => {
    const evil = `http://127.0.0.1:${other.port}/0`;
    const p305 = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    const p306 = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    await openLine(p305, '305', USER_305, CONTACT_305, evil);
    // A reconnect of the same panel: still one warning.
    await openLine(p305, '305', USER_305, CONTACT_305, evil);
    await openLine(p306, '306', USER_306, CONTACT_306, crm.base);
    await replayWithSaves(t.app, t.ami, 'g3_atxfer', [p306]);
    await crm.waitFor(() => crm.saved.length >= 4, "306's four changes");
    await barrier(t.app, t.ami);
    await flush(p305);
    assert.equal(other.requests.length, 0, 'nothing was sent to the address the panel chose');
    assert.ok(callIdsOf(p305).length === 2, '305 saw its two calls');
    assert.ok(!p305.events.all.some((e) => e.eventType === 15), '305 got no event 15');
    assert.ok(
      crm.updates.every((r) => r.body?.['deviceId'] === '306'),
      'only 306 was saved',
    );
    const warnings = t.logs.lines.filter(
      (l) => l.level === 'warn' && l.message.includes(`127.0.0.1:${other.port}`),
    );
    assert.equal(warnings.length, 1, warnings.map((w) => w.message).join('\n'));
    assert.match(
      warnings[0]!.message,
      /line 305: calls are not saved in the CRM: .* is not in security\.allowedServiceUrls/,
    );
    await p305.close();
    await p306.close();
  });
});
