import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallDirection, CallState, type Call } from '@app/messaging';
import { CrmError, CrmErrorCode } from '../crm.errors';
import { CrmMetrics } from '../crm-metrics';
import type { CrmTarget } from '../crm-target';
import { MemoryCrmOutboxStore } from '../testing/memory-crm-outbox.store';
import { CrmOutbox, type CallSave, type CrmOutboxLimits } from './crm-outbox';

const BASE = 'http://crm.test/0';

function call(id: string, state: CallState, old: CallState): Call {
  return {
    id,
    deviceId: '305',
    callerId: '79161234567',
    calledId: '305',
    direction: CallDirection.IN,
    state,
    oldState: old,
    callFeaturesSet: 8,
    startTime: '2026-01-01T00:00:00.000Z',
    ...(state === CallState.NONE ? { endTime: '2026-01-01T00:00:09.000Z' } : {}),
  };
}

interface Sent {
  base: string;
  body: Record<string, unknown>;
  resolve(guid: string): void;
  reject(err: unknown): void;
}

function harness(
  limits: Partial<CrmOutboxLimits> = {},
  target: (b: string) => CrmTarget = (b) => ({ base: b || BASE }),
) {
  const store = new MemoryCrmOutboxStore();
  const metrics = new CrmMetrics();
  const sent: Sent[] = [];
  const logs: { level: string; msg: string }[] = [];
  const firstSaves: string[] = [];
  const finished: string[] = [];
  const outbox = new CrmOutbox({
    store,
    updateCall: (base, body) =>
      new Promise<string>((resolve, reject) => sent.push({ base, body, resolve, reject })),
    target,
    metrics,
    limits: {
      maxRecords: 100,
      maxAgeMs: 60_000,
      retryMinDelayMs: 5,
      retryMaxDelayMs: 20,
      concurrency: 4,
      ...limits,
    },
    onFirstSave: (s) => firstSaves.push(s.stored.id),
    onFinished: (s) => finished.push(s.stored.id),
    logger: {
      log: (m: unknown) => logs.push({ level: 'log', msg: String(m) }),
      warn: (m: unknown) => logs.push({ level: 'warn', msg: String(m) }),
      error: (m: unknown) => logs.push({ level: 'error', msg: String(m) }),
    },
  });
  const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
  /** Waits until `n` requests were sent. */
  const sentCount = async (n: number): Promise<void> => {
    for (let i = 0; i < 500 && sent.length < n; i++) await tick(2);
    assert.ok(sent.length >= n, `${sent.length} of ${n} requests sent`);
  };
  return { store, metrics, sent, logs, firstSaves, finished, outbox, tick, sentCount };
}

function newCall(h: ReturnType<typeof harness>, id: string): CallSave {
  return h.outbox.create({
    id,
    line: '305',
    base: '',
    contact: 'c4ed336c-3e9b-40fe-8b82-5632476472b4',
  });
}

describe('CrmOutbox', () => {
  it("sends one call's changes one after the other, the record's id on all but the first", async () => {
    const h = harness();
    const s = newCall(h, 'A');
    h.outbox.record(s, 5, call('A', CallState.ALERTING, CallState.NONE));
    h.outbox.record(s, 7, call('A', CallState.CONNECTED, CallState.ALERTING));
    h.outbox.record(s, 6, call('A', CallState.NONE, CallState.CONNECTED));
    await h.sentCount(1);
    await h.tick(5);
    assert.equal(h.sent.length, 1, 'the second change waits for the first');
    assert.equal(h.sent[0]!.body['databaseUId'], undefined);
    assert.equal(h.sent[0]!.body['userContactUId'], 'c4ed336c-3e9b-40fe-8b82-5632476472b4');
    h.sent[0]!.resolve('0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    await h.sentCount(2);
    assert.deepEqual(h.firstSaves, ['A']);
    assert.equal(h.sent[1]!.body['state'], CallState.CONNECTED);
    assert.equal(h.sent[1]!.body['databaseUId'], '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    h.sent[1]!.resolve('0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    await h.sentCount(3);
    h.sent[2]!.resolve('0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    await h.tick(5);
    assert.deepEqual(h.finished, ['A']);
    assert.equal(h.store.calls.size, 0, 'a call saved to its end leaves the store');
    assert.deepEqual(h.firstSaves, ['A'], 'event 15 once');
    assert.deepEqual(h.metrics.snapshot().saves, { ok: 3, error: 0 });
  });

  it('keeps every change in the store until saved', async () => {
    const h = harness();
    const s = newCall(h, 'A');
    h.outbox.record(s, 5, call('A', CallState.ALERTING, CallState.NONE));
    h.outbox.record(s, 7, call('A', CallState.CONNECTED, CallState.ALERTING));
    await h.tick(5);
    assert.equal(h.store.calls.get('A')!.changes.length, 2);
  });

  it('a CRM that is away: every call waits (capped backoff), then all go, each in order', async () => {
    const h = harness();
    const a = newCall(h, 'A');
    const b = newCall(h, 'B');
    h.outbox.record(a, 5, call('A', CallState.ALERTING, CallState.NONE));
    h.outbox.record(b, 5, call('B', CallState.ALERTING, CallState.NONE));
    h.outbox.record(a, 6, call('A', CallState.NONE, CallState.ALERTING));
    await h.sentCount(2);
    for (const s of h.sent.splice(0)) {
      s.reject(new CrmError(CrmErrorCode.Unreachable, 'ECONNREFUSED', true));
    }
    await h.tick(1);
    assert.equal(
      h.logs.filter((l) => l.level === 'warn' && /cannot take saves/.test(l.msg)).length,
      1,
      'one warning',
    );
    // Retried within the backoff's cap; answered now.
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      await h.sentCount(1);
      const s = h.sent.shift()!;
      seen.push(`${String(s.body['id'])}:${String(s.body['state'])}`);
      s.resolve(
        s.body['id'] === 'A'
          ? '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06'
          : '1b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06',
      );
    }
    assert.deepEqual(
      seen.filter((x) => x.startsWith('A')),
      ['A:1', 'A:0'],
      "A's changes in order",
    );
    assert.ok(seen.includes('B:1'));
    assert.ok(h.logs.some((l) => /takes saves again/.test(l.msg)));
  });

  it('an error answer for one call delays that call only', async () => {
    const h = harness({ retryMinDelayMs: 200, retryMaxDelayMs: 200 });
    const a = newCall(h, 'A');
    const b = newCall(h, 'B');
    h.outbox.record(a, 5, call('A', CallState.ALERTING, CallState.NONE));
    await h.sentCount(1);
    h.sent.shift()!.reject(new CrmError(CrmErrorCode.NotAGuid, 'bad call', false));
    await h.tick(1);
    h.outbox.record(b, 5, call('B', CallState.ALERTING, CallState.NONE));
    await h.sentCount(1);
    assert.equal(h.sent[0]!.body['id'], 'B', 'B is not held back by A');
    assert.equal(h.outbox.get('A')!.lastError, 'bad call');
  });

  it('a full outbox drops its oldest change (not the one in flight), with an error log and a counter', async () => {
    const h = harness({ maxRecords: 3 });
    const a = newCall(h, 'A');
    const b = newCall(h, 'B');
    h.outbox.record(a, 5, call('A', CallState.ALERTING, CallState.NONE));
    await h.sentCount(1); // A:1 in flight
    h.outbox.record(a, 7, call('A', CallState.CONNECTED, CallState.ALERTING));
    h.outbox.record(b, 5, call('B', CallState.ALERTING, CallState.NONE));
    h.outbox.record(b, 6, call('B', CallState.NONE, CallState.ALERTING));
    assert.equal(h.outbox.sizes().depth, 3);
    assert.equal(h.outbox.get('A')!.stored.changes.length, 1, "A's oldest not in flight (7) went");
    assert.equal(h.outbox.get('A')!.stored.changes[0]!.eventType, 5);
    assert.equal(h.metrics.snapshot().dropped, 1);
    assert.match(
      h.logs.find((l) => l.level === 'error')!.msg,
      /outbox full .*dropped the oldest change, event 7 of call A/,
    );
  });

  it('gives a call up when its address is no longer allowed, or a change is too old', async () => {
    let allowed = true;
    const h = harness({ maxAgeMs: 1000 }, (b) =>
      allowed ? { base: b || BASE } : { off: 'not allowed' },
    );
    const a = newCall(h, 'A');
    allowed = false;
    h.outbox.record(a, 5, call('A', CallState.ALERTING, CallState.NONE));
    h.outbox.record(a, 6, call('A', CallState.NONE, CallState.ALERTING));
    await h.tick(5);
    assert.equal(h.sent.length, 0, 'nothing sent to an address that is not allowed');
    assert.deepEqual(h.finished, ['A']);
    assert.equal(h.metrics.snapshot().givenUp, 2);
    assert.match(
      h.logs.find((l) => l.level === 'error')!.msg,
      /gave up 2 change\(s\) of call A .*not allowed/,
    );
  });

  it('goes on from memory while the store is away, and writes again once it is back', async () => {
    const h = harness();
    h.store.failing = true;
    const a = newCall(h, 'A');
    h.outbox.record(a, 5, call('A', CallState.ALERTING, CallState.NONE));
    await h.sentCount(1);
    assert.ok(h.logs.some((l) => l.level === 'error' && /cannot persist/.test(l.msg)));
    h.store.failing = false;
    h.outbox.flushDirty();
    await h.tick(1);
    assert.equal(h.store.calls.get('A')!.changes.length, 1);
  });

  it('adopts calls from the store and continues their numbering and their record', async () => {
    const h = harness();
    const save = h.outbox.adopt({
      v: 1,
      id: 'A',
      line: '305',
      base: '',
      databaseUId: '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06',
      announced: true,
      ended: false,
      changes: [
        {
          seq: 41,
          at: Date.now(),
          eventType: 7,
          call: call('A', CallState.CONNECTED, CallState.ALERTING),
        },
      ],
    });
    h.outbox.record(save, 6, call('A', CallState.NONE, CallState.CONNECTED));
    assert.deepEqual(
      save.stored.changes.map((c) => c.seq),
      [41, 42],
    );
    await h.sentCount(1);
    assert.equal(h.sent[0]!.body['databaseUId'], '0b0c3c1e-8a44-4e0c-9b0f-2f7d4a1c9e06');
    assert.equal(h.sent[0]!.body['state'], CallState.CONNECTED);
  });
});
