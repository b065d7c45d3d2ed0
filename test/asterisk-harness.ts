import { filter, firstValueFrom } from 'rxjs';
import { FakeAmiServer } from '@app/ami/testing';
import type { AmiPacket } from '@app/ami';
import { AsteriskLibrary, type AsteriskLibraryOptions, type AsteriskLogger } from '@app/asterisk';
import type { LineEvent, LineSession, LineSettings } from '@app/messaging';

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
