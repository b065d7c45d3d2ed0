import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  Module,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MessagingModule } from '@app/messaging';
import { AppConfig } from '../../config/app-config';
import { AppConfigModule } from '../../config/app-config.module';
import { LineSettingsStore, type StoredLineSettings } from '../../settings/line-settings.store';
import { ClientGateway } from '../client-gateway.service';
import { GatewayModule } from '../gateway.module';
import { FakeMessagingLibrary } from './fake-messaging-library';

/** Log lines of a test app (to check that a disconnect is logged). */
export class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  private add(level: string, message: unknown, rest: unknown[]): void {
    const context =
      typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    this.lines.push({ level, message: String(message), context });
  }
  log(m: unknown, ...r: unknown[]): void {
    this.add('log', m, r);
  }
  error(m: unknown, ...r: unknown[]): void {
    this.add('error', m, r);
  }
  warn(m: unknown, ...r: unknown[]): void {
    this.add('warn', m, r);
  }
  debug(m: unknown, ...r: unknown[]): void {
    this.add('debug', m, r);
  }
  verbose(m: unknown, ...r: unknown[]): void {
    this.add('verbose', m, r);
  }
}

/** An in-memory per-line settings store (the real ones belong to the settings module). */
export class MemoryLineSettingsStore extends LineSettingsStore {
  readonly data = new Map<string, StoredLineSettings>();
  failing = false;
  /** A slow backend: get() answers after this many ms. */
  delayMs = 0;
  async get(line: string): Promise<StoredLineSettings | undefined> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failing) throw new Error('store unavailable');
    return this.data.get(line);
  }
  async put(line: string, s: StoredLineSettings): Promise<StoredLineSettings> {
    this.data.set(line, s);
    return s;
  }
  async patch(line: string, s: StoredLineSettings): Promise<StoredLineSettings> {
    const v = { ...this.data.get(line), ...s };
    this.data.set(line, v);
    return v;
  }
  async delete(line: string): Promise<boolean> {
    return this.data.delete(line);
  }
  readiness() {
    return { ready: !this.failing };
  }
}

@Module({ providers: [FakeMessagingLibrary], exports: [FakeMessagingLibrary] })
class FakeLibraryModule {}

@Module({})
class StoreModule {
  static with(store: LineSettingsStore): DynamicModule {
    const provider: Provider = { provide: LineSettingsStore, useValue: store };
    return { module: StoreModule, global: true, providers: [provider], exports: [provider] };
  }
}

export interface GatewayTestApp {
  app: INestApplication;
  port: number;
  lib: FakeMessagingLibrary;
  gateway: ClientGateway;
  logs: CapturingLogger;
  close(): Promise<void>;
}

/** The gateway in a Nest app on 127.0.0.1:0 with the fake library (and optionally a store). */
export async function startGatewayTestApp(
  tune: (c: AppConfig) => void = () => undefined,
  store: LineSettingsStore = new MemoryLineSettingsStore(),
): Promise<GatewayTestApp> {
  const config = new AppConfig();
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  config.server.tlsPort = 0;
  config.messaging.defaultLibrary = 'fake';
  tune(config);
  const logs = new CapturingLogger();
  const ref = await Test.createTestingModule({
    imports: [
      AppConfigModule.forRoot(config),
      MessagingModule.forRoot({ defaultLibrary: config.messaging.defaultLibrary }),
      FakeLibraryModule,
      StoreModule.with(store),
      GatewayModule,
    ],
  }).compile();
  const app = ref.createNestApplication({ logger: logs });
  await app.listen(0, '127.0.0.1');
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  return {
    app,
    port,
    lib: app.get(FakeMessagingLibrary),
    gateway: app.get(ClientGateway),
    logs,
    close: () => app.close(),
  };
}
