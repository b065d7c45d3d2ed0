/**
 * Owns the limits of an HTTP(S) listener, for everything it serves (REST, health, negotiate,
 * WebSocket and SignalR upgrades): the time to send request headers, the time to send a whole
 * request, and how many connections may be open in all and from one address. Applied once per
 * server (the gateway applies it to both ports, the REST API to its own).
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { LimitsConfig } from '../config/limits.config';
import { addressOf, type LimitLog } from './limit-log';

const LIMITED = Symbol('messaging-host.http-server-limits');

/** Open connections of a server, in all and per address (diagnostics, tests). */
export interface ConnectionCounts {
  total: number;
  byAddress: ReadonlyMap<string, number>;
}

type LimitedServer = (HttpServer | HttpsServer) & { [LIMITED]?: ConnectionCounts };

/**
 * Applies `limits` to `server` (again on the same server: nothing more). Must run before the
 * server listens for the timeouts' sweep interval to apply. A connection over a cap is closed at
 * once, before a byte is read; each cap hit is logged once per address per minute.
 */
export function applyHttpServerLimits(
  server: HttpServer | HttpsServer,
  limits: LimitsConfig,
  log: LimitLog,
): ConnectionCounts {
  const s = server as LimitedServer;
  const already = s[LIMITED];
  if (already) return already;
  // Node answers 408 and closes a connection whose headers (or whole request) are late; it checks
  // every connectionsCheckingInterval (default 30 s): check often enough for the limits to hold.
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs;
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(
    1000,
    limits.headersTimeoutMs,
  );
  const byAddress = new Map<string, number>();
  const counts = {
    total: 0,
    byAddress,
  };
  s[LIMITED] = counts;
  server.prependListener('connection', (socket: Socket) => {
    const address = addressOf(socket.remoteAddress);
    const mine = byAddress.get(address) ?? 0;
    if (limits.maxConnections > 0 && counts.total >= limits.maxConnections) {
      log.hit(
        'maxConnections',
        address,
        `${counts.total} connections are open (limits.maxConnections ${limits.maxConnections}); new ones are closed at once`,
      );
      socket.destroy();
      return;
    }
    if (limits.maxConnectionsPerAddress > 0 && mine >= limits.maxConnectionsPerAddress) {
      log.hit(
        'maxConnectionsPerAddress',
        address,
        `${mine} connections from this address are open (limits.maxConnectionsPerAddress ${limits.maxConnectionsPerAddress}); new ones are closed at once`,
      );
      socket.destroy();
      return;
    }
    counts.total += 1;
    byAddress.set(address, mine + 1);
    socket.once('close', () => {
      counts.total -= 1;
      const n = (byAddress.get(address) ?? 1) - 1;
      if (n <= 0) byAddress.delete(address);
      else byAddress.set(address, n);
    });
  });
  return counts;
}
