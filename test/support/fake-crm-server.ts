import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake CRM received. */
export interface CrmRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  /** The body as sent. */
  raw: string;
  /** The body parsed (undefined when it is not JSON). */
  body: Record<string, unknown> | undefined;
  at: number;
  /** The GUID answered (a save that took), or undefined (an error was answered). */
  guid?: string;
}

/** How the fake answers UpdateCall. */
export type CrmMode = 'up' | 'http503' | 'errorText';

const SERVICE = '/0/ServiceModel/MsgUtilService.svc/';

/**
 * A real HTTP server standing in for Creatio's MsgUtilService on 127.0.0.1:0 (base URL
 * `http://127.0.0.1:<port>/0`), answering as Creatio does: UpdateCall without databaseUId creates
 * a record and answers its GUID as a JSON string, with it updates the record and answers the same
 * GUID; LogInMsgServer answers a GUID for the allowed users and a refusal text for the others.
 * It records every request; `down()` closes the listener (connections refused), `up()` opens it
 * again on the same port.
 */
export class FakeCrmServer {
  readonly requests: CrmRequest[] = [];
  /** The UpdateCall bodies of each record, by databaseUId, in the order they arrived. */
  readonly records = new Map<string, Record<string, unknown>[]>();
  readonly allowedUsers = new Set<string>();
  refusalText =
    'The user has no licence for the Asterisk connector (BPMonlineAsteriskConnector.Use)';
  mode: CrmMode = 'up';
  private server: Server;
  private waiters: Array<() => void> = [];

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.server = server;
  }

  static async start(port = 0): Promise<FakeCrmServer> {
    const server = createServer();
    await listen(server, port);
    const fake = new FakeCrmServer(server, (server.address() as AddressInfo).port);
    fake.attach(server);
    return fake;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}/0`;
  }

  /** UpdateCall requests, in arrival order (errors answered included). */
  get updates(): CrmRequest[] {
    return this.requests.filter((r) => r.path === `${SERVICE}UpdateCall`);
  }

  /** UpdateCall requests that were answered a GUID (saves that took), in arrival order. */
  get saved(): CrmRequest[] {
    return this.updates.filter((r) => r.guid !== undefined);
  }

  get logins(): CrmRequest[] {
    return this.requests.filter((r) => r.path === `${SERVICE}LogInMsgServer`);
  }

  /** Stops listening: connections are refused (the CRM is down). */
  async down(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    const server = createServer();
    await listen(server, this.port);
    this.attach(server);
    this.server = server;
  }

  /** Resolves once `pred` holds (checked after every request), or rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `fake CRM: ${what} did not happen within ${timeoutMs} ms; ${this.requests.length} request(s): ${this.requests
              .map((r) => `${r.path.split('/').pop()} ${r.raw.slice(0, 120)}`)
              .join(' | ')}`,
          ),
        );
      }, timeoutMs);
      const check = (): void => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await this.down();
  }

  private attach(server: Server): void {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> | undefined;
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          body = undefined;
        }
        const path = (req.url ?? '').split('?')[0]!;
        const record: CrmRequest = {
          method: req.method ?? '',
          path,
          contentType: req.headers['content-type'],
          raw,
          body,
          at: Date.now(),
        };
        this.requests.push(record);
        const guid = this.answer(path, req.method ?? '', body, res);
        if (guid) record.guid = guid;
        for (const w of [...this.waiters]) w();
      });
    });
  }

  private answer(
    path: string,
    method: string,
    body: Record<string, unknown> | undefined,
    res: ServerResponse,
  ): string | undefined {
    const json = (status: number, value: unknown): undefined => {
      const text = JSON.stringify(value);
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
      return undefined;
    };
    if (method !== 'POST' || !body) return json(400, 'Bad request');
    if (path === `${SERVICE}LogInMsgServer`) {
      const user = String(body['UserUId'] ?? '').toLowerCase();
      json(200, this.allowedUsers.has(user) ? randomUUID() : this.refusalText);
      return undefined;
    }
    if (path !== `${SERVICE}UpdateCall`) return json(404, 'Not found');
    if (this.mode === 'http503') return json(503, 'Service Unavailable');
    if (this.mode === 'errorText')
      return json(200, 'Object reference not set to an instance of an object.');
    let id = typeof body['databaseUId'] === 'string' ? body['databaseUId'] : '';
    if (!id) id = randomUUID();
    const list = this.records.get(id) ?? [];
    list.push(body);
    this.records.set(id, list);
    json(200, id);
    return id;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
