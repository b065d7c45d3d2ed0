import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewaySecurity } from '../security/gateway-security';
import {
  MemoryNegotiationStore,
  NEGOTIATION_TTL_MS,
  randomToken,
  type NegotiationStore,
  type PendingConnection,
} from './negotiation-store';

export {
  MAX_PENDING_NEGOTIATIONS,
  NEGOTIATION_TTL_MS,
  type PendingConnection,
} from './negotiation-store';

/** Largest negotiate request body read (the client sends none). */
const MAX_NEGOTIATE_BODY = 4096;

/** The URL of a request, or undefined when its target does not parse (`new URL` throws on `//[`). */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/**
 * SignalR's negotiate (dotnet/aspnetcore specs/TransportProtocols.md), with CORS for a
 * cross-origin panel: `POST <hub>/negotiate[?negotiateVersion=N]` answers the connection id
 * (version 0) or id and token (version 1) and the WebSocket transport with the Text format;
 * `OPTIONS` is the preflight. The allowed browser origin is echoed exactly, with credentials.
 */
export class NegotiateHandler {
  private readonly paths: Set<string>;

  constructor(
    hubPaths: readonly string[],
    private readonly security: GatewaySecurity,
    private readonly now: () => number = Date.now,
    /** Where tokens wait for their WebSocket: this process (default), or signed for a cluster. */
    private readonly store: NegotiationStore = new MemoryNegotiationStore(),
  ) {
    this.paths = new Set(
      hubPaths.map((p) => `${p.replace(/\/+$/, '')}/negotiate`.replace(/^([^/])/, '/$1')),
    );
  }

  /** Whether the path is one this handler answers. */
  claims(pathname: string): boolean {
    return this.paths.has(pathname.replace(/\/+$/, '') || '/');
  }

  /** Answers the request when it is a negotiate of a hub; false leaves it to the REST app. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = requestUrl(req);
    // A target that is not a URL (`//[`) is no negotiate: the REST app answers it.
    if (!url || !this.claims(url.pathname)) return false;
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const allowed = this.security.originAllowed(origin);
    if (origin && allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      if (!allowed) {
        this.json(res, 403, { error: `the origin ${origin} is not allowed` });
        req.resume();
        return true;
      }
      const reqHeaders = req.headers['access-control-request-headers'];
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader(
        'Access-Control-Allow-Headers',
        typeof reqHeaders === 'string' && reqHeaders
          ? reqHeaders
          : 'X-Requested-With, X-SignalR-User-Agent, Content-Type, Authorization',
      );
      res.setHeader('Access-Control-Max-Age', '600');
      res.statusCode = 204;
      res.end();
      req.resume();
      return true;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      this.json(res, 405, { error: 'negotiate takes POST' });
      req.resume();
      return true;
    }
    if (!allowed) {
      this.json(res, 403, { error: `the origin ${origin} is not in security.allowedOrigins` });
      req.resume();
      return true;
    }
    let size = 0;
    let answered = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_NEGOTIATE_BODY && !answered) {
        answered = true;
        this.json(res, 413, { error: 'negotiate takes no body' });
        req.destroy();
      }
    });
    req.on('end', () => {
      if (answered) return;
      answered = true;
      const requested = Number.parseInt(url.searchParams.get('negotiateVersion') ?? '0', 10);
      const version = Number.isFinite(requested) && requested >= 1 ? 1 : 0;
      this.json(res, 200, this.negotiate(version, origin));
    });
    req.on('error', () => {
      answered = true;
    });
    return true;
  }

  /** Takes a negotiated connection by the `id` of the WebSocket URL (once). */
  take(id: string): PendingConnection | undefined {
    return this.store.take(id, this.now());
  }

  /** Drops expired negotiations (called by the gateway's heartbeat). */
  sweep(): void {
    this.store.sweep(this.now());
  }

  get pendingCount(): number {
    return this.store.pendingCount;
  }

  private negotiate(version: number, origin: string | undefined): Record<string, unknown> {
    const connectionId = randomToken();
    const transports = [{ transport: 'WebSockets', transferFormats: ['Text'] }];
    const expiresAt = this.now() + NEGOTIATION_TTL_MS;
    if (version === 0) {
      // Version 0 connects with the connection id itself.
      const id = this.store.issue(connectionId, origin, expiresAt);
      return { connectionId: id, negotiateVersion: 0, availableTransports: transports };
    }
    const connectionToken = this.store.issue(connectionId, origin, expiresAt);
    return {
      connectionId,
      connectionToken,
      negotiateVersion: 1,
      availableTransports: transports,
    };
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }
}
