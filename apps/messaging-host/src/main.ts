import 'reflect-metadata';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { setupApiDocs } from './api/api-docs';
import { ConfigError } from './config/config.errors';
import { loadConfig, type LoadedConfig } from './config/config.loader';
import { createRootLogger, PinoNestLogger } from './logging/pino-logger';
import { logFileOptions, openLogFile } from './logging/log-files';
import { LOG_CATEGORIES, unknownCategories } from './logging/log-categories';
import { ShutdownState } from './lifecycle/shutdown-state';
import { ClientGateway } from './gateway/client-gateway.service';
import { AppConfig } from './config/app-config';
import { EventStreamService } from './events/event-stream.service';

/** sysexits(3) EX_CONFIG: the configuration is unusable. */
const EXIT_CONFIG = 78;
/** The whole shutdown must end within this, whatever hangs (the spec: exit within 5 s). */
const SHUTDOWN_HARD_LIMIT_MS = 4800;

function loadOrExit(): LoadedConfig {
  try {
    return loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      // Logging is not configured yet (its own keys may be the bad ones): plain text to stderr.
      process.stderr.write(`messaging-host: ${err.message}\nThe service did not start.\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const { config, warnings, file } = loadOrExit();
  const logFile = config.logging.toFile
    ? await openLogFile(logFileOptions(config.logging))
    : undefined;
  const root = createRootLogger(config.logging, process.stdout, logFile);
  const log = root.child({ context: 'Main' });
  const nestLogger = new PinoNestLogger(root, config.logging);
  for (const w of warnings) log.warn(w);
  for (const c of unknownCategories(config.logging)) {
    log.warn(
      `logging.levels: '${c}' is no log category; known: ${Object.keys(LOG_CATEGORIES).join(', ')}`,
    );
  }
  log.info({ file }, 'configuration loaded');

  process.on('unhandledRejection', (reason) => {
    root.child({ context: 'Process' }).error({ err: reason }, 'unhandled promise rejection');
  });

  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: nestLogger,
    // Our own signal handling below: Nest's re-raises the signal after closing (exit code 143).
    abortOnError: false,
  });
  if (config.api.enabled) setupApiDocs(app);
  const server = app.getHttpServer() as Server;
  const sockets = trackSockets(server);
  await app.listen(config.server.port, config.server.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  log.info({ port, host: config.server.host }, `listening on ${config.server.host}:${port}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    void shutdown(app, server, sockets, signal, config.server.shutdownDrainMs, log);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return sockets;
}

/**
 * SIGTERM: readiness turns 503 at once, the listener closes, idle connections close, busy ones get
 * drainMs to finish, then everything is closed, modules shut down (AMI logoff, stores) and the
 * process exits 0; a hard limit makes sure that happens within 5 s.
 */
async function shutdown(
  app: INestApplication,
  server: Server,
  sockets: Set<Socket>,
  signal: NodeJS.Signals,
  drainMs: number,
  log: Logger,
): Promise<void> {
  const started = Date.now();
  const hard = setTimeout(() => {
    log.error({ signal }, 'shutdown took too long; exiting');
    process.exit(0);
  }, SHUTDOWN_HARD_LIMIT_MS);
  hard.unref();
  app.get(ShutdownState).begin(signal);
  // CTI sockets get event 14 and a close now, so that they reconnect elsewhere instead of holding the drain.
  app.get(ClientGateway).drain(`shutting down (${signal})`);
  if (app.get(AppConfig).api.enabled) app.get(EventStreamService).drain();
  log.info({ signal, open: sockets.size }, 'shutting down: not ready, draining connections');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const drained = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), drainMs).unref()),
  ]);
  if (!drained) {
    log.warn({ open: sockets.size }, 'drain time over: closing the remaining connections');
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
  }
  try {
    await app.close();
  } catch (err) {
    log.error({ err }, 'error while closing modules');
  }
  log.info({ ms: Date.now() - started }, 'stopped');
  clearTimeout(hard);
  // pino's multistream writes asynchronously to files: give it a tick to flush.
  setImmediate(() => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `messaging-host: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
