import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagingRegistry } from '@app/messaging';
import { FakeAmiServer } from '@app/ami/testing';
import { AppModule } from '../../app.module';
import { API_APP_OPTIONS } from '../../api/api-body.guard';
import { AppConfig } from '../../config/app-config';
import { ClientGateway } from '../client-gateway.service';
import { CapturingLogger } from './gateway-test-app';

export const AMI_USER = 'gateway-e2e';
export const AMI_SECRET = 'gateway-e2e-secret';

export interface RealApp {
  app: INestApplication;
  ami: FakeAmiServer;
  port: number;
  gateway: ClientGateway;
  logs: CapturingLogger;
  close(): Promise<void>;
}

/**
 * The whole service (AppModule: config, messaging registry, the real Asterisk library, health,
 * gateway) on 127.0.0.1:0, its AMI client connected to a FakeAmiServer; resolves once the active
 * library reports ready (logged in, state rebuilt).
 */
export async function startRealApp(
  tune: (c: AppConfig) => void = () => undefined,
): Promise<RealApp> {
  const ami = await FakeAmiServer.start({ username: AMI_USER, secret: AMI_SECRET });
  const config = new AppConfig();
  config.asterisk.url = '127.0.0.1';
  config.asterisk.port = ami.port;
  config.asterisk.userName = AMI_USER;
  config.asterisk.secret = AMI_SECRET;
  config.asterisk.autoPauseOnCommutationStart = false;
  config.asterisk.reconnectMinDelayMs = 50;
  config.asterisk.reconnectMaxDelayMs = 200;
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  config.server.tlsPort = 0;
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-e2e-data-'));
  config.storage.file.path = join(dataDir, 'settings.json');
  tune(config);
  const logs = new CapturingLogger();
  const app = await NestFactory.create(AppModule.forRoot(config), {
    ...API_APP_OPTIONS,
    logger: logs,
    abortOnError: false,
  });
  try {
    await app.listen(0, '127.0.0.1');
    const registry = app.get(MessagingRegistry);
    const t0 = Date.now();
    while (!registry.active().readiness().ready) {
      if (Date.now() - t0 > 15_000) {
        throw new Error(
          `the messaging library did not become ready: ${registry.active().readiness().reason ?? '?'}; logs: ${logs.lines
            .slice(-10)
            .map((l) => l.message)
            .join(' | ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    await app.close().catch(() => undefined);
    await ami.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  return {
    app,
    ami,
    port,
    gateway: app.get(ClientGateway),
    logs,
    close: async () => {
      await app.close();
      await ami.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
