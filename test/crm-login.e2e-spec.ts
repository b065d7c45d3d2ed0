// Issue 12, acceptance 4: security.mode crm. The claimed user is checked with the CRM's
// LogInMsgServer at OpenConnection: a refused user gets Creatio's authentication error (type 6)
// with the CRM's text, the socket closes, no line; an allowed one works; answers are cached.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import {
  WsCtiClient,
  type CtiClient,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { connectSignalR } from '../apps/messaging-host/src/gateway/testing/signalr-clients';
import { SecurityMode } from '../apps/messaging-host/src/config/app-config';
import { FakeCrmServer } from './support/fake-crm-server';
import { replayWithSaves } from './support/crm-harness';

const ALLOWED = '410006e1-ca4e-4502-a9ec-e54d922d2c00';
const REFUSED = '9b1c7e52-33aa-4c1f-b7d2-0e6f5a4b3c21';
const LATER = '2d4f6a8c-1e3b-4d5f-a7c9-0b2d4f6a8c1e';

interface ErrorContent {
  errorType: number;
  internalErrorCode: string;
  data: string;
  source: string;
}

async function refusedOpen(c: CtiClient, user: string, serviceUrl?: string): Promise<ErrorContent> {
  const e = await c.open(
    '305',
    user,
    serviceUrl ? { sessionServiceParams: { ServiceUrl: serviceUrl } } : {},
  );
  assert.equal(e.eventType, 3, `an ERROR event, got ${e.eventType}: ${e.content}`);
  await c.events.waitClosed();
  return e.parsed as ErrorContent;
}

describe('crm e2e: security.mode crm (acceptance 4)', () => {
  let crm: FakeCrmServer;
  let other: FakeCrmServer;
  let t: RealApp;
  before(async () => {
    crm = await FakeCrmServer.start();
    other = await FakeCrmServer.start();
    crm.allowedUsers.add(ALLOWED);
    t = await startRealApp((c) => {
      c.security.mode = SecurityMode.Crm;
      c.security.allowedServiceUrls = [crm.base];
      c.crm.loginCacheMs = 60_000;
    });
  });
  after(async () => {
    await t?.close();
    await crm.close();
    await other.close();
  });

  it('a refused user gets error 6 with the CRM text, the socket closes, no line; the answer is cached', async () => {
    const ws = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    const err = await refusedOpen(ws, REFUSED, crm.base);
    assert.deepEqual(err, {
      errorType: 6,
      internalErrorCode: 'CRM_LOGIN_REFUSED',
      data: crm.refusalText,
      source: 'OpenConnection',
    });
    assert.deepEqual(t.gateway.stats().lines, []);
    assert.equal(crm.logins.length, 1);
    assert.deepEqual(crm.logins[0]!.body, {
      LicInfoKeys: ['BPMonlineAsteriskConnector.Use'],
      UserUId: REFUSED,
    });
    assert.match(crm.logins[0]!.contentType ?? '', /^application\/json/);

    // Again, over SignalR: the same refusal from the cache, the CRM is not asked twice.
    const sr = await connectSignalR('current', `http://127.0.0.1:${t.port}/msg`);
    const again = await refusedOpen(sr, REFUSED, crm.base);
    assert.equal(again.errorType, 6);
    assert.equal(again.data, crm.refusalText);
    assert.equal(crm.logins.length, 1, 'answered from the cache');
    assert.deepEqual(t.gateway.stats().lines, []);
  });

  it('an allowed user gets the line and its calls (saved in the CRM too)', async () => {
    const ws = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    const e = await ws.open('305', ALLOWED, { sessionServiceParams: { ServiceUrl: crm.base } });
    assert.equal(e.eventType, 2, e.content);
    assert.deepEqual(t.gateway.stats().lines, [{ line: '305', members: 1 }]);
    await replayWithSaves(t.app, t.ami, 'c_inbound_answered', [ws]);
    assert.deepEqual(
      ws.events.all.filter((x) => [5, 7, 6, 15].includes(x.eventType)).map((x) => x.eventType),
      [5, 15, 7, 6],
    );
    await ws.close();
  });

  it('a CRM that cannot answer: refused (error 6, not kept); a non-GUID UserUId is refused without asking', async () => {
    await crm.down();
    const ws = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    const err = await refusedOpen(ws, LATER, crm.base);
    assert.equal(err.errorType, 6);
    assert.equal(err.internalErrorCode, 'CRM_LOGIN_UNAVAILABLE');
    assert.match(err.data, /LogInMsgServer at http:\/\/127\.0\.0\.1:\d+\/0: .*ECONNREFUSED/);
    await crm.up();
    crm.allowedUsers.add(LATER);
    const ok = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    assert.equal(
      (await ok.open('306', LATER, { sessionServiceParams: { ServiceUrl: crm.base } })).eventType,
      2,
    );
    await ok.close();

    const before = crm.logins.length;
    const bad = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    const e = await refusedOpen(bad, 'not-a-guid', crm.base);
    assert.equal(e.internalErrorCode, 'CRM_LOGIN_BAD_USER');
    assert.equal(crm.logins.length, before);
  });

  it('a ServiceUrl outside the allow-list: refused without any request to it', async () => {
    const ws = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    const err = await refusedOpen(ws, ALLOWED, `http://127.0.0.1:${other.port}/0`);
    assert.equal(err.errorType, 6);
    assert.equal(err.internalErrorCode, 'CRM_LOGIN_UNAVAILABLE');
    assert.match(err.data, /not in security\.allowedServiceUrls/);
    assert.equal(other.requests.length, 0);
  });
});
