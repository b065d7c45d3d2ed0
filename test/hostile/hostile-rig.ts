import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import request from 'supertest';
import { FakeAmiServer } from '@app/ami/testing';
import { MessagingRegistry } from '@app/messaging';
import { API_APP_OPTIONS } from '../../apps/messaging-host/src/api/api-body.guard';
import { setupApiDocs } from '../../apps/messaging-host/src/api/api-docs';
import { AppModule } from '../../apps/messaging-host/src/app.module';
import type { AppConfig } from '../../apps/messaging-host/src/config/app-config';
import { loadConfig } from '../../apps/messaging-host/src/config/config.loader';
import { CapturingLogger } from '../../apps/messaging-host/src/gateway/testing/gateway-test-app';
import {
  ASTERISK_ASSEMBLY,
  type ReceivedEvent,
  type WsCtiClient,
} from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { FakeLimitClock, FakeLimitClockModule } from '../support/fake-limit-clock';
import { keysEnv, makeKey, type TestKey } from '../support/api-app';

/**
 * The whole service (AppModule: real Asterisk library, gateway, REST, settings) against a
 * FakeAmiServer, with a FakeLimitClock under every limit and a log that keeps every line: what a
 * hostile client, REST caller or AMI peer meets.
 */
export interface HostileRig {
  app: INestApplication;
  ami: FakeAmiServer;
  clock: FakeLimitClock;
  logs: CapturingLogger;
  config: AppConfig;
  port: number;
  url: string;
  ws: string;
  keys: { crm: TestKey; reader: TestKey };
  http(): request.Agent;
  close(): Promise<void>;
}

export async function startHostileRig(
  env: Record<string, string> = {},
  prepare?: (ami: FakeAmiServer) => void,
): Promise<HostileRig> {
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  prepare?.(ami);
  const crm = makeKey('crm', ['read', 'calls', 'settings']);
  const reader = makeKey('reader', ['read']);
  const dataDir = mkdtempSync(join(tmpdir(), 'mh-hostile-'));
  const { config } = loadConfig({
    argv: [],
    cwd: dataDir,
    env: {
      SERVER__HOST: '127.0.0.1',
      SERVER__PORT: '0',
      SERVER__TLSPORT: '0',
      STORAGE__FILE__PATH: join(dataDir, 'settings.json'),
      ASTERISK__URL: '127.0.0.1',
      ASTERISK__PORT: String(ami.port),
      ASTERISK__USERNAME: 'admin',
      ASTERISK__SECRET: 'secret',
      ASTERISK__AUTOPAUSEONCOMMUTATIONSTART: 'false',
      ASTERISK__PINGINTERVALMS: '0',
      ASTERISK__RECONNECTMINDELAYMS: '20',
      ASTERISK__RECONNECTMAXDELAYMS: '50',
      API__KEYS: keysEnv([crm, reader]),
      ...env,
    },
  });
  const clock = new FakeLimitClock();
  const logs = new CapturingLogger();
  const ref = await Test.createTestingModule({
    imports: [AppModule.forRoot(config), FakeLimitClockModule.with(clock)],
  }).compile();
  const app = ref.createNestApplication({ ...API_APP_OPTIONS, logger: logs });
  setupApiDocs(app);
  await app.listen(0, '127.0.0.1');
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  const registry = app.get(MessagingRegistry);
  for (let i = 0; !registry.active().readiness().ready; i++) {
    if (i > 750) throw new Error(`not ready: ${registry.active().readiness().reason ?? '?'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  ami.clearActions();
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    ami,
    clock,
    logs,
    config,
    port,
    url,
    ws: `ws://127.0.0.1:${port}/`,
    keys: { crm, reader },
    http: () => request.agent(url),
    close: async () => {
      await app.close();
      await ami.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `Authorization` of a key. */
export function bearer(k: TestKey): { Authorization: string } {
  return { Authorization: `Bearer ${k.key}` };
}

/** Log lines of the limits (`limit <name> hit by <source>: ...`). */
export function limitLines(logs: CapturingLogger, limit: string): string[] {
  return logs.lines.map((l) => l.message).filter((m) => m.startsWith(`limit ${limit} hit`));
}

/** LoadLibrary, then OpenConnection with connectionParams given as raw JSON text. */
export async function openRaw(
  panel: WsCtiClient,
  connectionParamsJson: string,
  user: string,
): Promise<ReceivedEvent> {
  const load = await panel.command('LoadLibrary', { AssemblyName: ASTERISK_ASSEMBLY });
  assert.equal((await panel.reply(load)).eventType, 1);
  const open = await panel.command('OpenConnection', {
    connectionParams: connectionParamsJson,
    sessionServiceParams: JSON.stringify({ UserUId: user }),
  });
  return panel.reply(open);
}
