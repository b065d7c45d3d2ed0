import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket, type ClientOptions } from 'ws';
import * as signalrCurrent from '@microsoft/signalr';
import * as signalr31 from 'signalr3';
import { SignalRCtiClient, type HubConnectionLike } from './cti-test-client';

/** The two client majors the panel may run: 3.1.x (as Creatio ships) and the current one. */
export const SIGNALR_CLIENTS = {
  '3.1': signalr31 as unknown as SignalRModule,
  current: signalrCurrent as unknown as SignalRModule,
} as const;

export type SignalRMajor = keyof typeof SIGNALR_CLIENTS;

/** Each client major over plain and TLS, each hub path once: the sessions the gateway tests run. */
export const SIGNALR_COMBOS: readonly [SignalRMajor, 'http' | 'https', string][] = [
  ['3.1', 'http', '/msg'],
  ['3.1', 'https', '/'],
  ['current', 'http', '/'],
  ['current', 'https', '/msg'],
];

interface HttpRequestLike {
  method?: string;
  url?: string;
  content?: string | ArrayBuffer;
  headers?: Record<string, string>;
}

/** What the tests use of a @microsoft/signalr module (both majors). */
export interface SignalRModule {
  HubConnectionBuilder: new () => {
    withUrl(
      url: string,
      options: Record<string, unknown>,
    ): {
      configureLogging(level: number): { build(): HubConnectionLike };
    };
  };
  HttpClient: abstract new () => object;
  HttpResponse: new (statusCode: number, statusText?: string, content?: string) => object;
  HttpTransportType: { WebSockets: number };
  LogLevel: { None: number };
}

/**
 * An HttpClient for the SignalR client over node's http/https with a given CA (the test
 * certificate), for both majors. Sends `Origin` like a browser page would.
 */
function httpClientFor(mod: SignalRModule, ca: Buffer | undefined, origin: string): object {
  const Base = mod.HttpClient as unknown as new () => object;
  class NodeTestHttpClient extends Base {
    send(req: HttpRequestLike): Promise<object> {
      return new Promise((resolve, reject) => {
        const url = new URL(req.url ?? '');
        const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const r = fn(
          url,
          {
            method: req.method ?? 'GET',
            headers: { ...(req.headers ?? {}), Origin: origin },
            ...(ca ? { ca } : {}),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) {
                resolve(new mod.HttpResponse(status, res.statusMessage ?? '', text));
              } else {
                reject(new Error(`HTTP ${status}: ${text}`));
              }
            });
          },
        );
        r.on('error', reject);
        if (typeof req.content === 'string') r.end(req.content);
        else r.end();
      });
    }
    getCookieString(): string {
      return '';
    }
  }
  return new NodeTestHttpClient();
}

/** A `ws` WebSocket class that trusts `ca` and sends `origin` (what a browser would send). */
function webSocketFor(ca: Buffer | undefined, origin: string): typeof WebSocket {
  return class TestWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
      super(url, protocols, { ...(options ?? {}), origin, ...(ca ? { ca } : {}) });
    }
  } as typeof WebSocket;
}

/** A real SignalR HubConnection of the given major to `url` (http(s)://host:port/path), not started. */
export function signalRConnection(
  major: SignalRMajor,
  url: string,
  opts: { ca?: Buffer; origin?: string } = {},
): HubConnectionLike {
  const mod = SIGNALR_CLIENTS[major];
  const origin = opts.origin ?? 'http://crm.example.test';
  return new mod.HubConnectionBuilder()
    .withUrl(url, {
      transport: mod.HttpTransportType.WebSockets,
      httpClient: httpClientFor(mod, opts.ca, origin),
      WebSocket: webSocketFor(opts.ca, origin),
    })
    .configureLogging(mod.LogLevel.None)
    .build();
}

/** Connects a real SignalR client of the given major to `url` (http(s)://host:port/path). */
export async function connectSignalR(
  major: SignalRMajor,
  url: string,
  opts: { ca?: Buffer; origin?: string } = {},
): Promise<SignalRCtiClient> {
  const connection = signalRConnection(major, url, opts);
  const client = new SignalRCtiClient(connection);
  await connection.start();
  return client;
}
