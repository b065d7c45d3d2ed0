/**
 * The soak's CRM: a Creatio MsgUtilService on 127.0.0.1:0 that saves every call the service sends
 * (UpdateCall answers the record's GUID, the same one for every change of a call, as Creatio does)
 * and allows every user (LogInMsgServer). Counts requests; keeps one GUID per call id it saw in
 * the last minute only, so that the bench itself stays flat over hours.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class SoakCrm {
  updates = 0;
  logins = 0;
  other = 0;
  private ids = new Map<string, string>();
  private older = new Map<string, string>();
  private readonly rotate: NodeJS.Timeout;

  private constructor(private readonly server: Server) {
    server.on('request', (req, res) => this.onRequest(req, res));
    this.rotate = setInterval(() => {
      this.older = this.ids;
      this.ids = new Map();
    }, 60_000);
    this.rotate.unref();
  }

  static async start(): Promise<SoakCrm> {
    const server = createServer({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new SoakCrm(server);
  }

  /** Creatio's workspace address (crm.serviceUrl). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/0`;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      let answer: string;
      if (path.endsWith('/UpdateCall')) {
        this.updates += 1;
        answer = this.guidFor(Buffer.concat(chunks).toString('utf8'));
      } else if (path.endsWith('/LogInMsgServer')) {
        this.logins += 1;
        answer = randomUUID();
      } else {
        this.other += 1;
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such service');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(answer));
    });
  }

  /** The record of the call in the request (by its id), made on its first change. */
  private guidFor(body: string): string {
    const id = /"(?:Id|id)"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? randomUUID();
    let guid = this.ids.get(id) ?? this.older.get(id);
    if (!guid) guid = randomUUID();
    this.ids.set(id, guid);
    return guid;
  }

  async close(): Promise<void> {
    clearInterval(this.rotate);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
