import { after } from 'node:test';
import { filter, firstValueFrom } from 'rxjs';
import { FakeAmiServer, type FakeAmiFields } from '@app/ami/testing';
import type { AmiPacket } from '@app/ami';
import { AsteriskLibrary, type AsteriskLibraryOptions, type AsteriskLogger } from '@app/asterisk';
import {
  MsgEventType,
  type Call,
  type CallEvent,
  type LineEvent,
  type LineSession,
  type LineSettings,
} from '@app/messaging';

/** A logger that keeps every line (to check what was logged). */
export function memoryLogger(): AsteriskLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { lines, log: at('log'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** The seed's asterisk keys as the tests use them (the trace PBX's contexts). */
export function libraryOptions(
  ami: FakeAmiServer,
  over: Partial<AsteriskLibraryOptions> = {},
): AsteriskLibraryOptions {
  return {
    ami: {
      host: ami.host,
      port: ami.port,
      username: 'admin',
      secret: 'secret',
      pingIntervalMs: 0,
      actionTimeoutMs: 3000,
      reconnectStrategy: { delay: () => 30 },
    },
    protocol: 'SIP/',
    originateContext: 'from-internal',
    parkingLotContext: 'parkedcalls',
    autoPauseOnCommutationStart: false,
    queueExtensionFormat: 'Local/{0}@from-queue/n',
    asyncOriginate: true,
    sendRingStartedOnRingingState: true,
    traceQueuesState: false,
    packetInfoConfig: '',
    commandTimeoutMs: 3000,
    logger: memoryLogger(),
    ...over,
  };
}

/** Resolves when `lib` reports ready (logged in and resynced). */
export function whenReady(lib: AsteriskLibrary, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(
        new Error(`library not ready within ${timeoutMs} ms: ${JSON.stringify(lib.readiness())}`),
      );
    }, timeoutMs);
    const sub = lib.readiness$.subscribe((r) => {
      if (r.ready) {
        clearTimeout(timer);
        queueMicrotask(() => sub.unsubscribe());
        resolve();
      }
    });
  });
}

/** Resolves when `lib` reports not ready. */
export function whenNotReady(lib: AsteriskLibrary, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`library still ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = lib.readiness$.subscribe((r) => {
      if (!r.ready) {
        clearTimeout(timer);
        queueMicrotask(() => sub.unsubscribe());
        resolve(r.reason ?? '');
      }
    });
  });
}

/** The events of a session, kept in order, with a wait. */
export class EventLog {
  readonly events: LineEvent[] = [];
  private waiters: { pred: (e: LineEvent) => boolean; resolve: (e: LineEvent) => void }[] = [];

  constructor(readonly session: LineSession) {
    session.events$.subscribe((e) => {
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
  }

  /** The first event (already seen or coming) matching pred. */
  waitFor(
    pred: (e: LineEvent) => boolean,
    what = 'an event',
    timeoutMs = 5000,
  ): Promise<LineEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `no ${what} on line ${this.session.line} within ${timeoutMs} ms; got: ${this.events.map((e) => e.type).join(',')}`,
          ),
        );
      }, timeoutMs);
      const done = (e: LineEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  types(): number[] {
    return this.events.map((e) => e.type);
  }
}

export interface Rig {
  ami: FakeAmiServer;
  lib: AsteriskLibrary;
  logger: ReturnType<typeof memoryLogger>;
  open(line: string, settings?: LineSettings): EventLog;
  close(): Promise<void>;
}

/** A fake Asterisk and a started library, logged in and resynced. */
export async function rig(
  over: Partial<AsteriskLibraryOptions> = {},
  prepare?: (ami: FakeAmiServer) => void,
): Promise<Rig> {
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  prepare?.(ami);
  const logger = memoryLogger();
  const lib = new AsteriskLibrary(libraryOptions(ami, { logger, ...over }));
  lib.start();
  await whenReady(lib);
  return {
    ami,
    lib,
    logger,
    open: (line, settings) => new EventLog(lib.openLine(line, settings)),
    close: async () => {
      await lib.close();
      await ami.close();
    },
  };
}

/**
 * A `rig` factory for one spec file: every rig it makes is closed after the file's tests (call it at
 * the top level of the spec).
 */
export function rigsClosedAfterAll(): (...args: Parameters<typeof rig>) => Promise<Rig> {
  const rigs: Rig[] = [];
  after(async () => {
    await Promise.all(rigs.map((r) => r.close()));
  });
  return async (...args) => {
    const r = await rig(...args);
    rigs.push(r);
    return r;
  };
}

/** The action's fields (Action first, ActionID left out: the queue sets it). */
export function actionFields(p: AmiPacket): Record<string, string | string[]> {
  const o = p.toObject();
  delete o['ActionID'];
  return o;
}

/*
 * The actions (as `actionFields` shows them) the library sends for the trace calls with the seed's
 * keys (`libraryOptions`); the library's and the REST API's specs expect the same ones.
 */

/** MakeCall('600') on line 305: Originate into originateContext. */
export const ORIGINATE_305_TO_600: Readonly<Record<string, string>> = {
  Action: 'Originate',
  Channel: 'SIP/305',
  Context: 'from-internal',
  Exten: '600',
  Priority: '1',
  CallerID: '"600" <600>',
  Timeout: '30000',
  Async: 'true',
};

/** Hold of e1's call: Park of the caller, back to 305's channel on timeout. */
export const PARK_E1: Readonly<Record<string, string>> = {
  Action: 'Park',
  Channel: 'SIP/trunk-in-00000007',
  TimeoutChannel: 'SIP/305-00000008',
};

/** Unhold of e1's call parked at 701: Originate of 305 into parkingLotContext at the space. */
export const UNPARK_E1: Readonly<Record<string, string>> = {
  Action: 'Originate',
  Channel: 'SIP/305',
  Context: 'parkedcalls',
  Exten: '701',
  Priority: '1',
  CallerID: '"79160000001" <701>',
  Timeout: '30000',
  Async: 'true',
};

/** Consultation call from g3's line to 306: Atxfer of the line channel. */
export const ATXFER_G3_TO_306: Readonly<Record<string, string>> = {
  Action: 'Atxfer',
  Channel: 'SIP/305-0000001a',
  Context: 'from-internal',
  Exten: '306',
};

/** Cancel of g3's consultation: Hangup of the consulted party. */
export const HANGUP_G3_CONSULTED: Readonly<Record<string, string>> = {
  Action: 'Hangup',
  Channel: 'Local/306@from-internal-00000002;1',
  Cause: '16',
};

/** DTMF '1#' on c_inbound_answered's call: PlayDTMF of each digit to the caller. */
export const DTMF_1_HASH: readonly Readonly<Record<string, string>>[] = [
  { Action: 'PlayDTMF', Channel: 'SIP/trunk-in-00000003', Digit: '1', Duration: '250' },
  { Action: 'PlayDTMF', Channel: 'SIP/trunk-in-00000003', Digit: '#', Duration: '250' },
];

/** The call tracker's sizes once every call ended and nothing is left of it. */
export const NOTHING_TRACKED = { channels: 0, bridges: 0, calls: 0, groups: 0, parked: 0 };

/** Answers Originate as Asterisk did for b1 (305 rings, answers), with this action's ActionID. */
export function originateLikeB1(ami: FakeAmiServer): void {
  ami.onAction('Originate', (a, conn) => {
    conn.respond(a, { Message: 'Originate successfully queued' });
    void ami.replay('b1_originate_to_600', { mapActionId: () => a.actionId });
  });
}

/** Answers Originate as queued, then its OriginateResponse Failure (reason 5: busy) before any channel. */
export function originateBusy(ami: FakeAmiServer): void {
  ami.onAction('Originate', (a, conn) => {
    conn.respond(a, { Message: 'Originate successfully queued' });
    conn.send({
      Event: 'OriginateResponse',
      Privilege: 'call,all',
      ActionID: a.actionId ?? '',
      Response: 'Failure',
      Channel: 'SIP/305',
      Context: 'from-internal',
      Exten: '600',
      Reason: '5',
      Uniqueid: '<unknown>',
      CallerIDNum: '<unknown>',
      CallerIDName: '<unknown>',
    });
  });
}

/** Answers Park as Asterisk does, with the ParkedCall event of e1's caller in space 701. */
export function parkLikeE1(ami: FakeAmiServer): void {
  ami.onAction('Park', (a, conn) => {
    conn.respond(a, { Message: 'Park successful' });
    conn.send({
      Event: 'ParkedCall',
      Privilege: 'call,all',
      ParkeeChannel: 'SIP/trunk-in-00000007',
      ParkeeChannelState: '6',
      ParkeeCallerIDNum: '79160000001',
      ParkeeConnectedLineNum: '305',
      ParkeeUniqueid: '1795582091.9',
      ParkeeLinkedid: '1795582091.9',
      ParkerDialString: 'SIP/305',
      Parkinglot: 'default',
      ParkingSpace: '701',
      ParkingTimeout: '45',
      ParkingDuration: '0',
    });
  });
}

/** The QueueStatus item of line 305 as a member of `queue`, reached at `location`, not paused. */
export function queueMember305(queue: string, location = 'Local/305@from-queue/n'): FakeAmiFields {
  return {
    Event: 'QueueMember',
    Queue: queue,
    Name: '305',
    Location: location,
    StateInterface: 'SIP/305',
    Status: '1',
    Paused: '0',
    InCall: '0',
  };
}

/** Replays c_inbound_answered up to the caller's hang-up: 305 talks with 79161234567. */
export function replayTalking(ami: FakeAmiServer): Promise<void> {
  return replayUntil(ami, 'c_inbound_answered', (p) => p.event === 'HangupRequest');
}

/** Replays e1_park_unpark up to its ParkedCall event (305 talks; the Park the recorder sent is the test's). */
export function replayBeforePark(ami: FakeAmiServer): Promise<void> {
  return replayUntil(ami, 'e1_park_unpark', (p) => p.event === 'ParkedCall');
}

/** c_inbound_answered up to the caller's hang-up, then the call 305's session shows as connected. */
export async function talkingCall(r: Rig, log: EventLog): Promise<Call> {
  await replayTalking(r.ami);
  const e = (await log.waitFor(
    (x) => x.type === MsgEventType.COMMUTATION_STARTED && 'call' in x,
    'COMMUTATION_STARTED',
  )) as CallEvent;
  return e.call;
}

/** Replays c_inbound_answered up to 305's phone answering: the call rings. */
export function replayRinging(ami: FakeAmiServer): Promise<void> {
  return replayUntil(
    ami,
    'c_inbound_answered',
    (p) => p.event === 'Newstate' && p.get('ChannelStateDesc') === 'Up',
  );
}

/** Replays a fixture's events up to (not including) the first packet for which `stop` is true. */
export async function replayUntil(
  ami: FakeAmiServer,
  fixture: string,
  stop: (p: AmiPacket) => boolean,
): Promise<void> {
  let stopped = false;
  await ami.replay(fixture, {
    filter: (p) => {
      if (!stopped && stop(p)) stopped = true;
      return !stopped;
    },
  });
}

/** Replays a fixture's events from the first packet for which `start` is true. */
export async function replayFrom(
  ami: FakeAmiServer,
  fixture: string,
  start: (p: AmiPacket) => boolean,
): Promise<void> {
  let started = false;
  await ami.replay(fixture, {
    filter: (p) => {
      if (!started && start(p)) started = true;
      return started;
    },
  });
}

/** Replays a fixture's events from the first packet matching `start` up to (excluding) the first matching `stop` after it. */
export async function replayRange(
  ami: FakeAmiServer,
  fixture: string,
  start: (p: AmiPacket) => boolean,
  stop: (p: AmiPacket) => boolean,
): Promise<void> {
  let state: 'before' | 'in' | 'after' = 'before';
  await ami.replay(fixture, {
    filter: (p) => {
      if (state === 'before' && start(p)) state = 'in';
      else if (state === 'in' && stop(p)) state = 'after';
      return state === 'in';
    },
  });
}

let marks = 0;

/**
 * Sends a marker event and resolves once the library handled it (and so every event before it), and
 * once the server recorded every action the library sent until then.
 */
export async function settle(ami: FakeAmiServer, lib: AsteriskLibrary): Promise<void> {
  const id = `settle-${++marks}`;
  const seen = firstValueFrom(
    lib.client.events$.pipe(filter((p) => p.event === 'UserEvent' && p.get('UserEvent') === id)),
  );
  ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: id });
  await seen;
  // Actions go the other way: once a Ping is answered, the server has every action sent before it.
  if (lib.client.isReady && !lib.client.replaying) await lib.client.action({ Action: 'Ping' });
}

/** Waits until `check` is true (polling the event loop), for state that has no event. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
