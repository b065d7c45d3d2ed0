/**
 * `npm run bench:crm [-- --calls 2000 --concurrency 4]`: calls saved in the CRM through the outbox
 * (each change written to the file journal, flushed to disk, then POSTed in order) against the same
 * UpdateCalls POSTed straight to the same local HTTP server with the same concurrency and per-call
 * order (no outbox, nothing persisted). Prints changes/s and p50/p99 latency from the change to the
 * CRM for both, and their ratio: the price of never losing a change.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CallDirection, CallState, type Call } from '@app/messaging';
import { CrmMetrics } from '../../apps/messaging-host/src/crm/crm-metrics';
import { MsgUtilServiceClient } from '../../apps/messaging-host/src/crm/msg-util-service.client';
import { CrmOutbox, updateCallBody } from '../../apps/messaging-host/src/crm/outbox/crm-outbox';
import { FileCrmOutboxStore } from '../../apps/messaging-host/src/crm/outbox/file-crm-outbox.store';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const CALLS = arg('calls', 2000);
const CONCURRENCY = arg('concurrency', 4);
const STATES: [number, CallState, CallState][] = [
  [5, CallState.ALERTING, CallState.NONE],
  [7, CallState.CONNECTED, CallState.ALERTING],
  [6, CallState.NONE, CallState.CONNECTED],
];

function callOf(id: string, state: CallState, old: CallState): Call {
  return {
    id,
    deviceId: String(300 + (Number(id.slice(-3)) % 100)),
    callerId: '79161234567',
    calledId: '305',
    direction: CallDirection.IN,
    state,
    oldState: old,
    callFeaturesSet: 8,
    startTime: new Date().toISOString(),
    timeStamp: new Date().toISOString(),
    ...(state === CallState.NONE ? { endTime: new Date().toISOString() } : {}),
  };
}

/** A CRM that answers each UpdateCall with a GUID and notes when each change arrived. */
async function crmServer(arrived: Map<string, number>): Promise<{ server: Server; base: string }> {
  const records = new Map<string, string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const id = String(body['id']);
      arrived.set(`${id}:${String(body['state'])}`, performance.now());
      const guid = records.get(id) ?? randomUUID();
      records.set(id, guid);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(guid));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/0` };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Result {
  perSec: number;
  p50: number;
  p99: number;
}

function summarise(
  recorded: Map<string, number>,
  arrived: Map<string, number>,
  ms: number,
): Result {
  const lat = [...recorded].map(([k, t]) => (arrived.get(k) ?? NaN) - t).sort((a, b) => a - b);
  if (lat.some((x) => Number.isNaN(x))) throw new Error('a change never arrived');
  return {
    perSec: (recorded.size / ms) * 1000,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
  };
}

/** Through the outbox: the calls progress interleaved, as on a busy PBX. */
async function viaOutbox(): Promise<Result> {
  const arrived = new Map<string, number>();
  const { server, base } = await crmServer(arrived);
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-'));
  const store = new FileCrmOutboxStore(join(dir, 'outbox.jsonl'));
  await store.open();
  const client = new MsgUtilServiceClient({ timeoutMs: 10_000 });
  let finished = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const outbox = new CrmOutbox({
    store,
    updateCall: (b, body, signal) => client.updateCall(b, body, signal),
    target: () => ({ base }),
    metrics: new CrmMetrics(),
    limits: {
      maxRecords: CALLS * 3 + 10,
      maxAgeMs: 3_600_000,
      retryMinDelayMs: 10,
      retryMaxDelayMs: 100,
      concurrency: CONCURRENCY,
    },
    onFirstSave: () => undefined,
    onFinished: () => {
      if (++finished === CALLS) done();
    },
    logger: { log: () => undefined, warn: console.warn, error: console.error },
  });
  const recorded = new Map<string, number>();
  const ids = Array.from({ length: CALLS }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
  const saves = ids.map((id) => outbox.create({ id, line: '305', base: '' }));
  const t0 = performance.now();
  for (const [type, state, old] of STATES) {
    for (let i = 0; i < CALLS; i++) {
      recorded.set(`${ids[i]}:${state}`, performance.now());
      outbox.record(saves[i]!, type, callOf(ids[i]!, state, old));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  await all;
  const ms = performance.now() - t0;
  await outbox.close(1000);
  await store.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
  return summarise(recorded, arrived, ms);
}

/** Baseline: the same POSTs straight to the CRM, same concurrency, each call's changes in order. */
async function direct(): Promise<Result> {
  const arrived = new Map<string, number>();
  const { server, base } = await crmServer(arrived);
  const client = new MsgUtilServiceClient({ timeoutMs: 10_000 });
  const recorded = new Map<string, number>();
  const ids = Array.from({ length: CALLS }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
  const queues = new Map<string, Call[]>(ids.map((id) => [id, []]));
  const t0 = performance.now();
  for (const [, state, old] of STATES) {
    for (const id of ids) {
      recorded.set(`${id}:${state}`, performance.now());
      queues.get(id)!.push(callOf(id, state, old));
    }
  }
  const guids = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!;
      for (const call of queues.get(id)!) {
        const stored = {
          v: 1 as const,
          id,
          line: '305',
          base: '',
          announced: true,
          ended: false,
          changes: [],
          ...(guids.has(id) ? { databaseUId: guids.get(id)! } : {}),
        };
        guids.set(
          id,
          await client.updateCall(
            base,
            updateCallBody(stored, { seq: 0, at: 0, eventType: 0, call }),
          ),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - t0;
  server.close();
  return summarise(recorded, arrived, ms);
}

async function main(): Promise<void> {
  console.log(
    `crm bench: ${CALLS} calls x 3 changes, concurrency ${CONCURRENCY}, local CRM over HTTP`,
  );
  await direct(); // warm-up (HTTP agent, JIT)
  const base = await direct();
  const ours = await viaOutbox();
  const f = (r: Result): string =>
    `${r.perSec.toFixed(0)} changes/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
  console.log(`direct POST (no outbox): ${f(base)}`);
  console.log(`outbox (file journal):   ${f(ours)}`);
  console.log(
    `RESULT outbox_per_s=${ours.perSec.toFixed(0)} direct_per_s=${base.perSec.toFixed(0)} ratio=${(ours.perSec / base.perSec).toFixed(2)}`,
  );
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
