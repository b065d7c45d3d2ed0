/**
 * The soak's REST side: what a CRM back-end asks while calls go on (a line's state, the active
 * calls, per-line settings written, read and removed), over one keep-alive agent, plus the probes
 * the soak itself needs (readiness, /api/v1/diagnostics/sizes). Counts answers by status.
 */
import { Agent, request } from 'node:http';

export class SoakRest {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly byStatus = new Map<string, number>();
  private failures = 0;

  constructor(
    private readonly port: number,
    private readonly apiKey: string,
  ) {}

  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = text;
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  async ready(): Promise<boolean> {
    try {
      return (await this.call('GET', '/health/ready')).status === 200;
    } catch {
      return false;
    }
  }

  async diagnostics(): Promise<unknown> {
    const r = await this.call('GET', '/api/v1/diagnostics/sizes');
    if (r.status !== 200) {
      throw new Error(`GET /api/v1/diagnostics/sizes: ${r.status} ${JSON.stringify(r.json)}`);
    }
    return r.json;
  }

  /** The i-th request of the CRM mix, about `line`. */
  async mixed(i: number, line: string): Promise<void> {
    let r: { status: number };
    switch (i % 6) {
      case 0:
        r = await this.call('GET', `/api/v1/lines/${line}`);
        break;
      case 1:
        r = await this.call('GET', `/api/v1/calls?line=${line}`);
        break;
      case 2:
        r = await this.call('GET', '/api/v1/calls');
        break;
      case 3:
        r = await this.call('PUT', `/api/v1/lines/${line}/settings`, {
          userUId: `user-${line}`,
          originateContext: 'from-internal',
          useBlindTransfer: i % 12 === 3,
        });
        break;
      case 4:
        r = await this.call('GET', `/api/v1/lines/${line}/settings`);
        break;
      default:
        r = await this.call('GET', '/api/v1/libraries');
    }
    const key = `${['line', 'calls?line', 'calls', 'PUT settings', 'GET settings', 'libraries'][i % 6]}:${r.status}`;
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }

  fail(err: unknown): void {
    this.failures += 1;
    if (this.failures <= 3) process.stderr.write(`REST request failed: ${String(err)}\n`);
  }

  summary(): string {
    const parts = [...this.byStatus.entries()].sort().map(([k, n]) => `${k}=${n}`);
    return `${parts.join(' ')}${this.failures ? ` failures=${this.failures}` : ''}`;
  }
}
