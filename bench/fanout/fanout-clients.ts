/**
 * Owns the benchmark clients of the gateway shared by bench:fanout and bench:cluster: a plain
 * WebSocket panel that loads the library and opens its line, the recorder that times frames of
 * events 5 and 6 against the AMI packets behind them, and connecting many of them at once.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { positiveOption } from '../bench-args';

export const ASSEMBLY =
  'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2';

/** Arrival times are matched with send times by `tag:eventType`. */
export class Recorder {
  readonly sentAt = new Map<string, number>();
  readonly latencies: number[] = [];
  unmatched = 0;

  onFrame(text: string, at: number): void {
    const type = /"eventType":(\d+)/.exec(text)?.[1];
    if (type !== '5' && type !== '6') return;
    const tag = /callerId\\":\\"(7\d{10})\\"/.exec(text)?.[1];
    if (!tag) return;
    const sent = this.sentAt.get(`${tag}:${type}`);
    if (sent === undefined) {
      this.unmatched++;
      return;
    }
    this.latencies.push(at - sent);
  }
}

export async function connectAll(
  n: number,
  concurrency: number,
  open: (i: number) => Promise<WebSocket>,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      sockets[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return sockets;
}

export function lineOf(i: number, opts: { lines: number }): string {
  return String(10_000 + (i % opts.lines));
}

export function gatewayClient(port: number, line: string, rec: Recorder): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    let ready = false;
    const send = (command: string, parameters: Record<string, unknown>): void =>
      ws.send(JSON.stringify({ commandUId: command, command, parameters }));
    ws.on('open', () => send('LoadLibrary', { AssemblyName: ASSEMBLY }));
    ws.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      if (ready) {
        rec.onFrame(text, performance.now());
        return;
      }
      const type = /"eventType":(\d+)/.exec(text)?.[1];
      if (type === '1') {
        send('OpenConnection', {
          connectionParams: JSON.stringify({ ExtensionName: line }),
          sessionServiceParams: JSON.stringify({
            UserUId: `user-${line}`,
            ServiceUrl: 'http://crm.bench',
          }),
        });
      } else if (type === '2') {
        ready = true;
        res(ws);
      } else {
        rej(new Error(`line ${line}: unexpected ${text.slice(0, 300)}`));
      }
    });
    ws.once('error', rej);
  });
}

/** The options of bench:fanout and bench:cluster: clients, lines, packets/s, seconds, concurrency. */
export interface FanoutOptions {
  clients: number;
  lines: number;
  rate: number;
  seconds: number;
  concurrency: number;
}

/** Reads FanoutOptions (defaults: 10,000 clients, two a line, 2,000 packets/s for 5 s). */
export function parseFanoutOptions(argv: string[], concurrency: number): FanoutOptions {
  const get = (name: string, def: number): number => positiveOption(argv, name, def);
  const clients = Math.floor(get('clients', 10_000));
  return {
    clients,
    lines: Math.max(1, Math.floor(get('lines', Math.ceil(clients / 2)))),
    rate: get('rate', 2000),
    seconds: get('seconds', 5),
    concurrency: Math.floor(get('concurrency', concurrency)),
  };
}
