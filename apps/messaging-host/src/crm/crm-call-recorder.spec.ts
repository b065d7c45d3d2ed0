import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CallState, type Call, type MessagingRegistry } from '@app/messaging';
import { AppConfig } from '../config/app-config';
import { FakeMessagingLibrary } from '../gateway/testing/fake-messaging-library';
import { CrmCallRecorder } from './crm-call-recorder.service';
import { CrmMetrics } from './crm-metrics';
import { CrmTargets } from './crm-target';
import { MsgUtilServiceClient } from './msg-util-service.client';
import { MemoryCrmOutboxStore } from './testing/memory-crm-outbox.store';

const CRM = 'http://crm.test/0';
const CONTACT = 'c4ed336c-3e9b-40fe-8b82-5632476472b4';

interface Posted {
  url: string;
  body: Record<string, unknown>;
}

function setup(tune: (c: AppConfig) => void = () => undefined) {
  const config = new AppConfig();
  config.crm.serviceUrl = CRM;
  config.crm.outbox.retryMinDelayMs = 5;
  config.crm.outbox.retryMaxDelayMs = 20;
  tune(config);
  const lib = new FakeMessagingLibrary();
  const registry = { active: () => lib } as unknown as MessagingRegistry;
  const store = new MemoryCrmOutboxStore();
  const posted: Posted[] = [];
  const records = new Map<string, string>();
  const fakeFetch = (async (url: string, init: { body: string }) => {
    const body = JSON.parse(init.body) as Record<string, unknown>;
    posted.push({ url, body });
    const id = String(body['id']);
    const guid = (body['databaseUId'] as string | undefined) ?? records.get(id) ?? randomUUID();
    records.set(id, guid);
    return new Response(JSON.stringify(guid), { status: 200 });
  }) as unknown as typeof fetch;
  const client = new MsgUtilServiceClient({ timeoutMs: 1000, fetch: fakeFetch });
  const targets = new CrmTargets(config.crm, config.security.allowedServiceUrls);
  const recorder = new CrmCallRecorder(config, registry, store, client, targets, new CrmMetrics());
  const delivered: { line: string; type: number; call: Call }[] = [];
  recorder.attach({ deliverCall: (line, type, call) => delivered.push({ line, type, call }) });
  const bind = (line = '305', contact = CONTACT): void =>
    recorder.lineBound({
      line,
      library: lib,
      libraryName: 'fake',
      userUId: 'u',
      userContactUId: contact,
      serviceUrl: undefined,
    });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
  };
  return { config, lib, store, posted, recorder, delivered, bind, settle };
}

describe('CrmCallRecorder', () => {
  it('saves a call of a bound line at each change, sends event 15 once, decorates what the panel sees', async () => {
    const h = setup();
    await h.recorder.onApplicationBootstrap();
    h.bind();
    const ring = h.lib.ring('305');
    await h.settle();
    assert.equal(h.posted.length, 1);
    assert.equal(h.posted[0]!.url, `${CRM}/ServiceModel/MsgUtilService.svc/UpdateCall`);
    assert.equal(h.posted[0]!.body['userContactUId'], CONTACT);
    assert.deepEqual(
      h.delivered.map((d) => [d.line, d.type]),
      [['305', 15]],
    );
    const guid = h.delivered[0]!.call.databaseUId;
    assert.ok(guid);
    const seen = h.recorder.decorateCall('305', h.lib.activeCalls('305')[0]!);
    assert.equal(seen.databaseUId, guid);
    assert.equal(seen.userContactUId, CONTACT);
    h.lib.move(ring.id, CallState.CONNECTED);
    h.lib.move(ring.id, CallState.NONE);
    await h.settle();
    assert.deepEqual(
      h.posted.map((p) => p.body['state']),
      [1, 2, 0],
    );
    assert.ok(h.posted.slice(1).every((p) => p.body['databaseUId'] === guid));
    assert.equal(h.delivered.length, 1, 'event 15 once');
    assert.equal(h.recorder.status(ring.id)?.state, 'saved');
    await h.recorder.onApplicationShutdown();
  });

  it('keeps saving a call to its end when the panel leaves mid-call, then lets the line go', async () => {
    const h = setup();
    await h.recorder.onApplicationBootstrap();
    h.bind();
    const c = h.lib.ring('305');
    h.recorder.lineReleased('305');
    h.lib.move(c.id, CallState.CONNECTED);
    h.lib.move(c.id, CallState.NONE);
    await h.settle();
    assert.deepEqual(
      h.posted.map((p) => p.body['state']),
      [1, 2, 0],
      'the end is saved',
    );
    const closes = h.lib.commands.filter((x) => x.name === 'close' && x.line === '305');
    assert.equal(closes.length, 1, "the recorder's own session closed after the end");
    h.lib.ring('305');
    await h.settle();
    assert.equal(h.posted.length, 3, 'a call after the panel left is not saved here');
    await h.recorder.onApplicationShutdown();
  });

  it('a call first seen mid-way: continued when it is ours, left to the node that saves it otherwise', async () => {
    const h = setup();
    await h.recorder.onApplicationBootstrap();
    const mine = h.lib.ring('305');
    const theirs = h.lib.ring('306');
    const fresh = h.lib.ring('307');
    const stored = (c: Call, databaseUId: string) => ({
      v: 1 as const,
      id: c.id,
      line: c.deviceId,
      base: '',
      databaseUId,
      announced: true,
      ended: false,
      changes: [],
      last: c,
    });
    h.store.calls.set(mine.id, stored(mine, '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06'));
    h.store.foreign.set(theirs.id, stored(theirs, '1b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06'));
    for (const line of ['305', '306', '307']) h.bind(line);
    await h.settle();
    assert.equal(
      h.recorder.decorateCall('306', h.lib.activeCalls('306')[0]!).databaseUId,
      '1b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06',
      "another node's record is shown",
    );
    assert.equal(h.recorder.status(theirs.id)?.state, 'elsewhere');
    for (const c of [mine, theirs, fresh]) h.lib.move(c.id, CallState.CONNECTED);
    await h.settle();
    const byId = (id: string) => h.posted.filter((p) => p.body['id'] === id);
    assert.equal(byId(theirs.id).length, 0, 'not saved twice in a cluster');
    assert.equal(byId(mine.id)[0]!.body['databaseUId'], '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    assert.equal(byId(fresh.id).length, 1, 'a call nobody saves is saved from here on');
    assert.equal(byId(fresh.id)[0]!.body['databaseUId'], undefined);
    await h.recorder.onApplicationShutdown();
  });

  it('after a restart: a call the PBX still has is followed; one that vanished gets its end saved', async () => {
    const h = setup();
    const alive = h.lib.ring('305');
    const gone: Call = { ...alive, id: 'gone-1', deviceId: '306' };
    const left = (c: Call) => ({
      v: 1 as const,
      id: c.id,
      line: c.deviceId,
      base: '',
      databaseUId: '2b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06',
      announced: true,
      ended: false,
      changes: [],
      last: c,
    });
    h.store.leftovers = [left(alive), left(gone)];
    await h.recorder.onApplicationBootstrap();
    await h.settle();
    const ends = h.posted.filter((p) => p.body['id'] === 'gone-1');
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.body['state'], CallState.NONE);
    assert.equal(typeof ends[0]!.body['endTime'], 'string');
    h.lib.move(alive.id, CallState.NONE);
    await h.settle();
    const aliveSaves = h.posted.filter((p) => p.body['id'] === alive.id);
    assert.deepEqual(
      aliveSaves.map((p) => p.body['state']),
      [CallState.NONE],
    );
    assert.equal(aliveSaves[0]!.body['databaseUId'], '2b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    await h.recorder.onApplicationShutdown();
  });

  it('crm.saveCalls false: no watch, nothing saved, calls untouched', async () => {
    const h = setup((c) => (c.crm.saveCalls = false));
    await h.recorder.onApplicationBootstrap();
    h.bind();
    const c = h.lib.ring('305');
    await h.settle();
    assert.equal(h.posted.length, 0);
    assert.equal(h.lib.opened.length, 0);
    assert.equal(h.recorder.decorateCall('305', c), c);
    await h.recorder.onApplicationShutdown();
  });

  it('a contact that is not a GUID is left out (Creatio would refuse the whole save)', async () => {
    const h = setup();
    await h.recorder.onApplicationBootstrap();
    h.bind('305', 'contact-of-someone');
    h.lib.ring('305');
    await h.settle();
    assert.equal(h.posted[0]!.body['userContactUId'], undefined);
    await h.recorder.onApplicationShutdown();
  });
});
