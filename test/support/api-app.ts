import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { MessagingModule } from '@app/messaging';
import { ApiModule } from '../../apps/messaging-host/src/api/api.module';
import { setupApiDocs } from '../../apps/messaging-host/src/api/api-docs';
import { API_APP_OPTIONS } from '../../apps/messaging-host/src/api/api-body.guard';
import { AppModule } from '../../apps/messaging-host/src/app.module';
import type { AppConfig, ApiScope } from '../../apps/messaging-host/src/config/app-config';
import { AppConfigModule } from '../../apps/messaging-host/src/config/app-config.module';
import { loadConfig } from '../../apps/messaging-host/src/config/config.loader';
import { HealthModule } from '../../apps/messaging-host/src/health/health.module';
import { LifecycleModule } from '../../apps/messaging-host/src/lifecycle/lifecycle.module';
import { SettingsModule } from '../../apps/messaging-host/src/settings/settings.module';
import { RecordingLibraryModule } from './recording-messaging-library';

/** A random API key and its configuration entry (the digest is what api.keys holds). */
export interface TestKey {
  name: string;
  key: string;
  scopes: ApiScope[];
}

export function makeKey(name: string, scopes: ApiScope[]): TestKey {
  return { name, key: randomBytes(24).toString('base64url'), scopes };
}

export function keysEnv(keys: TestKey[]): string {
  return JSON.stringify(
    keys.map((k) => ({
      name: k.name,
      sha256: createHash('sha256').update(k.key).digest('hex'),
      scopes: k.scopes,
    })),
  );
}

export interface ApiApp {
  app: INestApplication;
  config: AppConfig;
  url: string;
  /** The data directory (settings file) of this app. */
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The REST API as the service composes it (config from the environment as main.ts loads it,
 * health, settings store, API, OpenAPI docs), with `libraryModules` providing the messaging
 * libraries, on 127.0.0.1 and a free port.
 */
export async function startApiApp(options: {
  env: Record<string, string>;
  defaultLibrary: string;
  libraryModules: Array<Type<unknown> | DynamicModule>;
  dataDir?: string;
}): Promise<ApiApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mh-api-'));
  const ownDir = options.dataDir === undefined;
  const { config } = loadConfig({
    argv: [],
    cwd: dataDir,
    env: {
      STORAGE__FILE__PATH: join(dataDir, 'settings.json'),
      MESSAGING__DEFAULTLIBRARY: options.defaultLibrary,
      ASTERISK__USERNAME: 'messaging-host',
      ...options.env,
    },
  });
  const moduleRef = await Test.createTestingModule({
    imports: [
      AppConfigModule.forRoot(config),
      LifecycleModule,
      MessagingModule.forRoot({ defaultLibrary: config.messaging.defaultLibrary }),
      ...options.libraryModules,
      HealthModule,
      SettingsModule,
      ApiModule,
    ],
  }).compile();
  return listen(
    moduleRef.createNestApplication({ ...API_APP_OPTIONS, logger: false }),
    config,
    dataDir,
    ownDir,
  );
}

/** startApiApp with the recording messaging library (test/support) as the default and only one. */
export function startRecordingApiApp(
  env: Record<string, string> = {},
  dataDir?: string,
): Promise<ApiApp> {
  return startApiApp({
    env,
    defaultLibrary: 'recording',
    libraryModules: [RecordingLibraryModule],
    ...(dataDir === undefined ? {} : { dataDir }),
  });
}

/**
 * The whole service as main.ts builds it (AppModule with the Asterisk library, gateway, health,
 * settings, REST and its documents), configured from `env` as the process would be.
 */
export async function startServiceApp(options: {
  env: Record<string, string>;
  dataDir?: string;
}): Promise<ApiApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mh-app-'));
  const ownDir = options.dataDir === undefined;
  const { config } = loadConfig({
    argv: [],
    cwd: dataDir,
    env: { STORAGE__FILE__PATH: join(dataDir, 'settings.json'), ...options.env },
  });
  const app = await NestFactory.create(AppModule.forRoot(config), {
    ...API_APP_OPTIONS,
    logger: false,
    abortOnError: false,
  });
  return listen(app, config, dataDir, ownDir);
}

/**
 * Serves `app` with its OpenAPI documents on 127.0.0.1 and a free port; closing it removes
 * `dataDir` when the app made it (`ownDir`).
 */
async function listen(
  app: INestApplication,
  config: AppConfig,
  dataDir: string,
  ownDir: boolean,
): Promise<ApiApp> {
  setupApiDocs(app);
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    close: async () => {
      await app.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
