import assert from 'node:assert/strict';
import { filter, firstValueFrom } from 'rxjs';
import { readTrace, type FakeAmiServer, type TraceRecord } from '@app/ami/testing';
import { AsteriskLibrary } from '@app/asterisk';
import { MessagingRegistry } from '@app/messaging';
import type { INestApplication } from '@nestjs/common';
import type {
  CtiClient,
  ReceivedEvent,
} from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { CALL_KEYS } from '../../apps/messaging-host/src/gateway/protocol/client-protocol';
import type { CrmRequest, FakeCrmServer } from './fake-crm-server';

export const CALL_EVENT_TYPES = [5, 6, 7, 8, 9, 13, 17];

export interface WireCall {
  id: string;
  databaseUId?: string;
  userContactUId?: string;
  deviceId: string;
  state: number;
  oldState: number;
  callerId: string;
  endTime?: string;
  [k: string]: unknown;
}

export function callOf(e: ReceivedEvent): WireCall {
  return e.parsed as WireCall;
}

let barrierSeq = 0;

/** Resolves once the app's Asterisk library has handled every AMI packet sent before now. */
export async function barrier(app: INestApplication, ami: FakeAmiServer): Promise<void> {
  const lib = app.get(MessagingRegistry).active();
  assert.ok(lib instanceof AsteriskLibrary, 'the active library is the Asterisk library');
  const marker = `crm-barrier-${++barrierSeq}`;
  const seen = firstValueFrom(
    lib.client.events$.pipe(
      filter((p) => p.event === 'UserEvent' && p.get('UserEvent') === marker),
    ),
  );
  ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: marker });
  await seen;
}

/** A command round trip: every event the server sent this client before is received after it. */
export async function flush(c: CtiClient): Promise<void> {
  const uid = await c.command('QueryLineState');
  await c.reply(uid);
}

/** Ids of the calls a client saw ring (event 5), in order. */
export function rungCalls(c: CtiClient): string[] {
  return c.events.all.filter((e) => e.eventType === 5).map((e) => callOf(e).id);
}

/** Waits until the client got event 15 for every call it saw ring. */
export async function waitSavedEvents(c: CtiClient, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  for (const id of rungCalls(c)) {
    const has = (): boolean => c.events.all.some((e) => e.eventType === 15 && callOf(e).id === id);
    while (!has()) {
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(
          `no event 15 for call ${id} within ${timeoutMs} ms; events: ${c.events.all
            .map((e) => e.eventType)
            .join(',')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const RINGING =
  /Event: Newstate\r\n(?:[^\r]*\r\n)*?Channel: SIP\/30\d-[^\r]*\r\n(?:[^\r]*\r\n)*?ChannelStateDesc: Ringing/;

/**
 * Replays a trace in parts, cut after every record where a line's phone starts ringing, running
 * `afterPart(i)` after each part.
 */
export async function replayInParts(
  ami: FakeAmiServer,
  trace: string | TraceRecord[],
  afterPart: (index: number) => Promise<void>,
): Promise<void> {
  const records = typeof trace === 'string' ? readTrace(trace) : trace;
  const cuts: number[] = [];
  records.forEach((r, i) => {
    if (r.dir !== 'rx') return;
    if (RINGING.test(Buffer.from(r.b64, 'base64').toString('latin1'))) cuts.push(i + 1);
  });
  let from = 0;
  let part = 0;
  for (const cut of [...cuts, records.length]) {
    if (cut <= from) continue;
    await ami.replay(records.slice(from, cut));
    from = cut;
    await afterPart(part++);
  }
}

/**
 * replayInParts where, after each part (once the library handled it and the panels received what
 * it caused), with `waitForSaves` every panel must get event 15 for the calls that rang so far, so
 * that the events after must carry the databaseUId.
 */
export async function replayWithSaves(
  app: INestApplication,
  ami: FakeAmiServer,
  trace: string | TraceRecord[],
  clients: CtiClient[],
  waitForSaves = true,
): Promise<void> {
  await replayInParts(ami, trace, async () => {
    await barrier(app, ami);
    for (const c of clients) await flush(c);
    if (waitForSaves) for (const c of clients) await waitSavedEvents(c);
  });
}

/** Splits a trace before the first rx record whose text contains `marker`. */
export function splitTrace(name: string, marker: string): [TraceRecord[], TraceRecord[]] {
  const records = readTrace(name);
  const i = records.findIndex(
    (r) => r.dir === 'rx' && Buffer.from(r.b64, 'base64').toString('latin1').includes(marker),
  );
  assert.ok(i > 0, `${marker} not found in ${name}`);
  return [records.slice(0, i), records.slice(i)];
}

/** The UpdateCall bodies the fake CRM got for call `id`, in arrival order. */
export function bodiesOf(crm: FakeCrmServer, id: string): Record<string, unknown>[] {
  return crm.saved.filter((r) => r.body?.['id'] === id).map((r) => r.body!);
}

/** The call events (5..9, 13, 17) a client got for call `id`, in order. */
export function callEventsOf(c: CtiClient, id: string): ReceivedEvent[] {
  return c.events.all.filter((e) => CALL_EVENT_TYPES.includes(e.eventType) && callOf(e).id === id);
}

/** Call ids a client saw, in order of their first event. */
export function callIdsOf(c: CtiClient): string[] {
  const ids: string[] = [];
  for (const e of c.events.all) {
    if (!CALL_EVENT_TYPES.includes(e.eventType)) continue;
    const id = callOf(e).id;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * Acceptance 1/2 for one call of one line: one record in the CRM, created by the first change
 * (without databaseUId), updated with its databaseUId by every later one, in the order the panel
 * saw the changes; the last one is the end (state 0, endTime). Returns the record's GUID.
 */
export function checkSavedCall(
  crm: FakeCrmServer,
  c: CtiClient,
  id: string,
  line: string,
  contact: string,
): string {
  const bodies = bodiesOf(crm, id);
  const events = callEventsOf(c, id);
  assert.ok(events.length > 0, `the panel saw call ${id}`);
  assert.deepEqual(
    bodies.map((b) => [b['state'], b['oldState']]),
    events.map((e) => [callOf(e).state, callOf(e).oldState]),
    `call ${id}: every change saved once, in the panel's order`,
  );
  assert.equal(
    bodies[0]!['databaseUId'],
    undefined,
    `call ${id}: the first save creates the record`,
  );
  assert.equal(bodies[0]!['state'], events[0] ? callOf(events[0]).state : undefined);
  for (const b of bodies) assert.equal(b['deviceId'], line);
  const guids = [...crm.records].filter(([, list]) => list.some((b) => b['id'] === id));
  assert.equal(guids.length, 1, `call ${id}: one record in the CRM (got ${guids.length})`);
  const guid = guids[0]![0];
  for (const b of bodies.slice(1)) {
    assert.equal(b['databaseUId'], guid, `call ${id}: later saves update ${guid}`);
  }
  for (const b of bodies) {
    assert.equal(b['userContactUId'], contact, `call ${id}: userContactUId from the session`);
    for (const k of Object.keys(b)) {
      assert.ok((CALL_KEYS as readonly string[]).includes(k), `no unknown key ${k}`);
    }
  }
  const last = bodies[bodies.length - 1]!;
  assert.equal(last['state'], 0, `call ${id}: its end is saved`);
  assert.equal(typeof last['endTime'], 'string', `call ${id}: with its endTime`);
  return guid;
}

/** Acceptance 1 on the panel's side: event 15 once, with the record; every later event carries it. */
export function checkPanelSaw(c: CtiClient, id: string, guid: string): ReceivedEvent[] {
  const mine = c.events.all.filter(
    (e) => (CALL_EVENT_TYPES.includes(e.eventType) || e.eventType === 15) && callOf(e).id === id,
  );
  const saved = mine.filter((e) => e.eventType === 15);
  assert.equal(saved.length, 1, `call ${id}: event 15 once (got ${saved.length})`);
  assert.equal(callOf(saved[0]!).databaseUId, guid, `call ${id}: event 15 carries the databaseUId`);
  const after = mine.slice(mine.indexOf(saved[0]!) + 1);
  for (const e of after) {
    assert.equal(
      callOf(e).databaseUId,
      guid,
      `call ${id}: event ${e.eventType} after 15 carries the databaseUId`,
    );
  }
  for (const e of mine) {
    for (const k of Object.keys(e.parsed as object)) {
      assert.ok(
        (CALL_KEYS as readonly string[]).includes(k),
        `event ${e.eventType}: unknown Call key ${k}`,
      );
    }
  }
  return after;
}

/** Every request had Content-Type application/json. */
export function checkJsonRequests(requests: CrmRequest[]): void {
  for (const r of requests) assert.match(r.contentType ?? '', /^application\/json/);
}

/** Polls `check` until it holds (liveness bound, not a timing assertion). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
