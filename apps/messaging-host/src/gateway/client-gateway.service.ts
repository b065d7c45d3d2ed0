import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { WebSocketServer, type WebSocket } from 'ws';
import { MessagingRegistry } from '@app/messaging';
import { AppConfig } from '../config/app-config';
import { LineOwnership, LocalLineOwnership } from '../cluster/line-ownership';
import { LineSettingsStore } from '../settings/line-settings.store';
import { ClientSocket, type SocketMode } from './client-socket';
import type { GatewayContext } from './client-session';
import {
  SIGNALR_HANDSHAKE_TIMEOUT_MS,
  SIGNALR_HUB_PATHS,
  hardFrameLimit,
} from './gateway.constants';
import { loadTlsOptions } from './gateway-tls';
import { GATEWAY_OBSERVER, type GatewayObserver } from './gateway-observer';
import { LineHub } from './line-hub';
import { LineObserver, OpenConnectionVerifier } from './line-observer';
import { events } from './protocol/client-protocol';
import { GatewaySecurity } from './security/gateway-security';
import { NegotiateHandler, requestUrl } from './signalr/negotiate.handler';
import { NegotiationStore } from './signalr/negotiation-store';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The client gateway: operators' CTI panels over plain WebSocket (any path) and SignalR (hub at
 * `/` and `/msg`) on the REST port, and on server.tlsPort over TLS when a certificate is
 * configured. It claims only WebSocket upgrades and `<hub>/negotiate`; everything else goes to
 * the Nest (express) app, which the TLS listener serves too.
 */
@Injectable()
export class ClientGateway
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(ClientGateway.name);
  private readonly socketLogger = new Logger('ClientSocket');
  private readonly hub: LineHub;
  private readonly security: GatewaySecurity;
  private readonly negotiate: NegotiateHandler;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<ClientSocket>();
  private readonly context: GatewayContext;
  private tlsOptions: ReturnType<typeof loadTlsOptions>;
  private tlsServer: HttpsServer | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly attached = new WeakSet<object>();
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    registry: MessagingRegistry,
    private readonly adapterHost: HttpAdapterHost,
    store: LineSettingsStore,
    // The cluster module's (leases in Redis, signed tokens); this node alone without it.
    @Optional() ownership?: LineOwnership,
    @Optional() negotiation?: NegotiationStore,
    @Optional() observer?: LineObserver,
    @Optional() verifier?: OpenConnectionVerifier,
    @Optional() @Inject(GATEWAY_OBSERVER) private readonly metrics?: GatewayObserver,
  ) {
    this.hub = new LineHub(observer ?? undefined, metrics);
    this.security = new GatewaySecurity(config.security);
    this.negotiate = new NegotiateHandler(SIGNALR_HUB_PATHS, this.security, Date.now, negotiation);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: hardFrameLimit(config.server.maxCommandLength),
    });
    this.context = {
      registry,
      hub: this.hub,
      store,
      ownership: ownership ?? new LocalLineOwnership(),
      security: this.security,
      ...(verifier ? { verifier } : {}),
      logger: new Logger('ClientSession'),
      metrics,
    };
  }

  onModuleInit(): void {
    // Read and try the certificate files now: a bad one stops the start, naming its key.
    this.tlsOptions = loadTlsOptions(this.config.server.tls);
  }

  async onApplicationBootstrap(): Promise<void> {
    const http = this.adapterHost.httpAdapter?.getHttpServer() as HttpServer | undefined;
    if (!http) throw new Error('the client gateway needs the HTTP server of the Nest app');
    this.attach(http);
    this.heartbeatTimer = setInterval(
      () => this.heartbeat(),
      this.config.server.heartbeatIntervalMs,
    );
    this.heartbeatTimer.unref();
    if (this.tlsOptions) await this.listenTls();
  }

  /**
   * Serves the gateway on a server that already runs the Nest app: claims `<hub>/negotiate`
   * before the app's routes, and every WebSocket upgrade.
   */
  attach(server: HttpServer | HttpsServer): void {
    if (this.attached.has(server)) return;
    this.attached.add(server);
    const previous = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.negotiate.handle(req, res)) return;
      for (const l of previous) l.call(server, req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
  }

  /** The TLS listener's address (when a certificate is configured). */
  tlsAddress(): AddressInfo | undefined {
    const a = this.tlsServer?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Connected sockets (by transport) and bound lines (diagnostics, metrics, tests). */
  stats(): {
    sockets: number;
    transports: Record<SocketMode, number>;
    lines: { line: string; members: number }[];
    negotiations: number;
  } {
    const transports: Record<SocketMode, number> = {
      detect: 0,
      plain: 0,
      'signalr-handshake': 0,
      signalr: 0,
    };
    for (const s of this.sockets) transports[s.transportMode] += 1;
    return {
      sockets: this.sockets.size,
      transports,
      lines: this.hub.stats(),
      negotiations: this.negotiate.pendingCount,
    };
  }

  /**
   * Stops taking clients: every bound client gets event 14 (without ignoreTryReconnection, so
   * that its panel reconnects, to another node behind the balancer) and its socket is closed.
   */
  drain(reason = 'the server is shutting down'): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const bye = events.disconnected(reason, false);
    this.logger.log(`closing ${this.sockets.size} client connection(s): ${reason}`);
    for (const s of this.sockets) {
      if (s.session.line !== undefined) s.session.deliver(bye);
      s.shutdown(reason);
    }
  }

  beforeApplicationShutdown(): void {
    this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.hub.closeAll();
    const tls = this.tlsServer;
    this.tlsServer = undefined;
    if (tls) {
      await new Promise<void>((resolve) => {
        tls.close(() => resolve());
        tls.closeAllConnections();
      });
    }
  }

  private async listenTls(): Promise<void> {
    const app = this.adapterHost.httpAdapter.getInstance() as RequestListener;
    const server = createHttpsServer(this.tlsOptions!, app);
    this.attach(server);
    const { host, tlsPort } = this.config.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tlsPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error(`TLS listener: ${err.message}`));
    this.tlsServer = server;
    const port = this.tlsAddress()?.port ?? tlsPort;
    this.logger.log(`TLS listening on ${host}:${port} (wss:// and https:// SignalR)`);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.stopping) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    const url = requestUrl(req);
    if (!url) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const id = url.searchParams.get('id');
    let origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    if (id !== null) {
      const pending = this.negotiate.take(id);
      if (!pending) {
        const body = 'No Connection with that ID';
        socket.end(
          `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      origin ??= pending.origin;
    }
    // `?token=` (ours), or `access_token` as SignalR clients send an accessTokenFactory's token.
    const token =
      url.searchParams.get('token') ?? url.searchParams.get('access_token') ?? undefined;
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const client = new ClientSocket(ws, this.context, this.socketLogger, {
        maxCommandLength: this.config.server.maxCommandLength,
        maxBufferedBytes: this.config.server.maxBufferedBytes,
        origin,
        queryToken: token,
        peer,
        signalR: id !== null,
        onClose: (s) => this.sockets.delete(s),
        metrics: this.metrics,
      });
      this.sockets.add(client);
      if (id !== null) {
        setTimeout(() => {
          if (client.isOpen && client.transportMode === 'signalr-handshake') {
            this.socketLogger.warn(`SignalR client ${peer} sent no handshake: connection closed`);
            client.terminate();
          }
        }, SIGNALR_HANDSHAKE_TIMEOUT_MS).unref();
      }
    });
  }

  private heartbeat(): void {
    this.negotiate.sweep();
    for (const s of this.sockets) s.heartbeat();
  }
}
