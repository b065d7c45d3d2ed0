// Acceptance 1 of the Asterisk library: every recorded trace, replayed through the fake AMI server
// into the app's Asterisk library, gives the client events of its golden file (test/golden/README.md).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { FakeAmiServer, fixtureNames } from '@app/ami/testing';
import { AsteriskLibrary } from '@app/asterisk';
import type { LineEvent } from '@app/messaging';
import { asteriskOptions } from '../apps/messaging-host/src/app.module';
import { loadConfig } from '../apps/messaging-host/src/config/config.loader';
import { memoryLogger, whenReady } from './asterisk-harness';
import {
  GOLDEN_EVENT_TYPES,
  compareGolden,
  loadGoldenFile,
  type GoldenActualEvent,
  type GoldenFile,
} from './golden/golden-format';

/** The environment names of the golden files' @config keys (ASTERISK__<KEY>). */
const CONFIG_ENV: Record<string, string> = {
  protocol: 'ASTERISK__PROTOCOL',
  queueExtensionFormat: 'ASTERISK__QUEUEEXTENSIONFORMAT',
  sendRingStartedOnRingingState: 'ASTERISK__SENDRINGSTARTEDONRINGINGSTATE',
  originateContext: 'ASTERISK__ORIGINATECONTEXT',
  parkingLotContext: 'ASTERISK__PARKINGLOTCONTEXT',
  asyncOriginate: 'ASTERISK__ASYNCORIGINATE',
  autoPauseOnCommutationStart: 'ASTERISK__AUTOPAUSEONCOMMUTATIONSTART',
  traceQueuesState: 'ASTERISK__TRACEQUEUESSTATE',
  packetInfoConfig: 'ASTERISK__PACKETINFOCONFIG',
};

const servers: FakeAmiServer[] = [];
const libs: AsteriskLibrary[] = [];
after(async () => {
  await Promise.all(libs.map((l) => l.close()));
  await Promise.all(servers.map((s) => s.close()));
});

/** The app's Asterisk library (config loader + asteriskOptions) for a golden file's @config. */
function appLibrary(ami: FakeAmiServer, golden: GoldenFile): AsteriskLibrary {
  const env: Record<string, string> = {
    ASTERISK__URL: ami.host,
    ASTERISK__PORT: String(ami.port),
    ASTERISK__USERNAME: 'admin',
    ASTERISK__SECRET: 'secret',
    ASTERISK__PINGINTERVALMS: '0',
  };
  for (const [key, value] of Object.entries(golden.config)) {
    if (key === 'canAnswer') {
      // The Asterisk library cannot answer over AMI; a file expecting it is a test error.
      assert.equal(value, 'false', `${golden.source}: canAnswer=${value} is not supported`);
      continue;
    }
    const name = CONFIG_ENV[key];
    assert.ok(name, `${golden.source}: @config key ${key} has no configuration key`);
    env[name] = value;
  }
  // An empty folder as cwd: no config/appsettings.json, only the defaults and this environment.
  const { config } = loadConfig({ env, argv: [], cwd: mkdtempSync(join(tmpdir(), 'golden-')) });
  const opts = asteriskOptions(config);
  return new AsteriskLibrary({ ...opts, logger: memoryLogger() });
}

function actualOf(e: LineEvent): GoldenActualEvent | undefined {
  if (!GOLDEN_EVENT_TYPES.has(e.type)) return undefined;
  if ('call' in e) {
    return { line: e.line, eventType: e.type, call: e.call };
  }
  if (e.type === 11) {
    return {
      line: e.line,
      eventType: e.type,
      callFeaturesSet: e.callFeaturesSet,
      ...(e.callId ? { callId: e.callId } : {}),
    };
  }
  return undefined;
}

async function replayGolden(fixture: string): Promise<string[]> {
  const golden = loadGoldenFile(fixture);
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  servers.push(ami);
  const lib = appLibrary(ami, golden);
  libs.push(lib);
  lib.start();
  await whenReady(lib);
  const actual: GoldenActualEvent[] = [];
  for (const line of golden.lines) {
    lib.openLine(line).events$.subscribe((e) => {
      const a = actualOf(e);
      if (a) actual.push(a);
    });
  }
  const end = firstValueFrom(
    lib.client.events$.pipe(
      filter((p) => p.event === 'UserEvent' && p.get('UserEvent') === 'golden-end'),
    ),
  );
  await ami.replay(fixture);
  // A marker after the trace: once the library has it, it has handled every event before it.
  ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'golden-end' });
  await end;
  await lib.close();
  return compareGolden(golden, actual);
}

describe('golden: recorded traces -> client events of the Asterisk library', () => {
  for (const fixture of fixtureNames()) {
    it(fixture, async () => {
      const diff = await replayGolden(fixture);
      assert.deepEqual(diff, [], `${fixture}: differences from test/golden/${fixture}.expected`);
    });
  }
});
