/**
 * Fan-out benchmark of the client gateway (`npm run bench:fanout -- [options]`).
 *
 * N clients (default 10,000) open lines spread over `--lines` lines (default N/2: two tabs per
 * line) on the real service (a child process: node dist/.../main.js with the Asterisk library)
 * connected to FakeAmiServer. Synthetic inbound calls (bench/fanout/call-flow.ts) are broadcast
 * at a fixed rate of AMI packets per second; each client times the frames of events 5 and 6 from
 * the moment the AMI packet behind them left the fake server. The same run then repeats the
 * measurement against a bare `ws` server (bare-ws-server.ts) reading the same AMI stream and
 * sending the same frames, and prints both with their ratio, plus the server's RSS per idle client.
 *
 * Options: --clients N  --lines L  --rate packets/s (2000)  --seconds S (5)  --concurrency C (200)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { FakeAmiServer } from '@app/ami/testing';
import { inboundCall, type FlowPacket } from './call-flow';
import {
  Recorder,
  connectAll,
  gatewayClient,
  lineOf,
  parseFanoutOptions,
  type FanoutOptions,
} from './fanout-clients';

type Options = FanoutOptions;
const parseOptions = (argv: string[]): Options => parseFanoutOptions(argv, 200);

const AMI_USER = 'bench';
const AMI_SECRET = 'bench-secret';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function root(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'apps'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the repository root');
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

function startChild(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    cwd: root(),
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${args[0]} was not ready within 60 s:\n${out.slice(-2000)}`));
    }, 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        res({ child, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    child.once('exit', (code) =>
      rej(new Error(`${args[0]} exited (${code}) before it was ready:\n${out.slice(-2000)}`)),
    );
  });
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function bareClient(port: number, line: string, rec: Recorder): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/?line=${line}`, { perMessageDeflate: false });
    let ready = false;
    ws.on('message', (data) => {
      if (ready) {
        rec.onFrame((data as Buffer).toString('utf8'), performance.now());
        return;
      }
      ready = true;
      res(ws);
    });
    ws.once('error', rej);
  });
}

interface PhaseResult {
  name: string;
  rssIdleKiB: number;
  rssClientsKiB: number;
  perClientBytes: number;
  expected: number;
  received: number;
  unmatched: number;
  p50: number;
  p99: number;
  max: number;
  packets: number;
  seconds: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Broadcasts call flows at `rate` packets per second for `seconds`. */
async function drive(
  ami: FakeAmiServer,
  opts: Options,
  rec: Recorder,
  clientsPerLine: (line: string) => number,
): Promise<{ packets: number; expected: number; seconds: number }> {
  const queue: FlowPacket[] = [];
  let seq = 0;
  let lineIndex = 0;
  let expected = 0;
  const total = Math.floor(opts.rate * opts.seconds);
  let sent = 0;
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * opts.rate) / 1000));
    while (sent < due) {
      if (queue.length === 0) {
        const line = String(10_000 + (lineIndex++ % opts.lines));
        const flow = inboundCall(line, ++seq);
        const n = clientsPerLine(line);
        expected += 2 * n;
        queue.push(...flow);
      }
      const p = queue.shift()!;
      if (p.timed) rec.sentAt.set(`${p.timed.tag}:${p.timed.eventType}`, performance.now());
      ami.broadcast(p.text);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
    if (sent < total) await sleep(1);
  }
  // Finish the last call so every timed packet has its pair.
  for (const p of queue) {
    if (p.timed) rec.sentAt.set(`${p.timed.tag}:${p.timed.eventType}`, performance.now());
    ami.broadcast(p.text);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { packets: sent, expected, seconds };
}

async function phase(
  name: string,
  ami: FakeAmiServer,
  opts: Options,
  start: () => Promise<{ child: ChildProcess; port: number }>,
  connect: (port: number, line: string, rec: Recorder) => Promise<WebSocket>,
): Promise<PhaseResult> {
  const before = ami.loggedIn.length;
  const { child, port } = await start();
  await waitFor(() => ami.loggedIn.length > before, `${name} to log in to the fake AMI server`);
  await sleep(1000);
  const rssIdleKiB = rssKiB(child.pid!);
  const rec = new Recorder();
  const t0 = performance.now();
  const sockets = await connectAll(opts.clients, opts.concurrency, (i) =>
    connect(port, lineOf(i, opts), rec),
  );
  const connectS = (performance.now() - t0) / 1000;
  await sleep(2000);
  const rssClientsKiB = rssKiB(child.pid!);
  process.stdout.write(
    `  ${name}: ${opts.clients} clients connected in ${connectS.toFixed(1)} s\n`,
  );
  const perLine = new Map<string, number>();
  for (let i = 0; i < opts.clients; i++)
    perLine.set(lineOf(i, opts), (perLine.get(lineOf(i, opts)) ?? 0) + 1);
  const d = await drive(ami, opts, rec, (l) => perLine.get(l) ?? 0);
  const t1 = Date.now();
  while (rec.latencies.length < d.expected && Date.now() - t1 < 10_000) await sleep(50);
  for (const s of sockets) s.terminate();
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  await waitFor(() => ami.loggedIn.length === 0, `${name} to leave the fake AMI server`);
  const sorted = [...rec.latencies].sort((a, b) => a - b);
  return {
    name,
    rssIdleKiB,
    rssClientsKiB,
    perClientBytes: ((rssClientsKiB - rssIdleKiB) * 1024) / opts.clients,
    expected: d.expected,
    received: rec.latencies.length,
    unmatched: rec.unmatched,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    packets: d.packets,
    seconds: d.seconds,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const base = root();
  const mainJs = join(base, 'dist', 'apps', 'messaging-host', 'src', 'main.js');
  const bareJs = join(__dirname, 'bare-ws-server.js');
  for (const f of [mainJs, bareJs])
    if (!existsSync(f)) throw new Error(`${f} is missing: npm run build`);
  process.stdout.write(
    `fan-out: ${opts.clients} clients on ${opts.lines} lines, ${opts.rate} AMI packets/s for ${opts.seconds} s (7 packets per call, events 5 and 6 timed)\n`,
  );
  const ami = await FakeAmiServer.start({ username: AMI_USER, secret: AMI_SECRET });
  try {
    const gateway = await phase(
      'gateway',
      ami,
      opts,
      async () => {
        const { child, match } = await startChild(
          [mainJs],
          {
            ASTERISK__URL: '127.0.0.1',
            ASTERISK__PORT: String(ami.port),
            ASTERISK__USERNAME: AMI_USER,
            ASTERISK__SECRET: AMI_SECRET,
            ASTERISK__AUTOPAUSEONCOMMUTATIONSTART: 'false',
            SERVER__HOST: '127.0.0.1',
            SERVER__PORT: '0',
            LOGGING__LEVEL: 'info',
            // One log line per opened line would weigh on the measurement.
            LOGGING__LEVELS__CLIENTSESSION: 'warn',
            // Every bench client comes from 127.0.0.1: the per-address cap would refuse most.
            LIMITS__MAXCONNECTIONSPERADDRESS: '0',
            LIMITS__MAXCONNECTIONS: '0',
            MESSAGING_HOST_CONFIG: join(base, 'bench', 'fanout', 'none.json'),
          },
          /listening on [^"\s]+:(\d+)|"port":(\d+)[^\n]*listening/,
        );
        return { child, port: Number(match[1] ?? match[2]) };
      },
      gatewayClient,
    );
    const bare = await phase(
      'bare ws',
      ami,
      opts,
      async () => {
        const { child, match } = await startChild(
          [bareJs, String(ami.port), AMI_USER, AMI_SECRET],
          {},
          /listening (\d+)/,
        );
        return { child, port: Number(match[1]) };
      },
      bareClient,
    );
    const row = (r: PhaseResult): string =>
      `${r.name.padEnd(8)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms  frames ${r.received}/${r.expected}${r.unmatched ? ` (+${r.unmatched} unmatched)` : ''}  RSS idle ${(r.rssIdleKiB / 1024).toFixed(0)} MiB -> ${(r.rssClientsKiB / 1024).toFixed(0)} MiB = ${(r.perClientBytes / 1024).toFixed(1)} KiB/client  (${(r.packets / r.seconds).toFixed(0)} packets/s)`;
    process.stdout.write(`\n${row(gateway)}\n${row(bare)}\n`);
    process.stdout.write(
      `ratio gateway/bare: p50 x${(gateway.p50 / bare.p50).toFixed(2)}, p99 x${(gateway.p99 / bare.p99).toFixed(2)}, RSS per client x${(gateway.perClientBytes / bare.perClientBytes).toFixed(2)}\n`,
    );
    process.stdout.write(
      `targets (issue 5): p99 < 5 ms at 2,000 events/s with 10,000 clients: ${gateway.p99 < 5 ? 'met' : 'NOT met'} (p99 ${gateway.p99.toFixed(2)} ms); < 16 KiB RSS per idle client: ${gateway.perClientBytes < 16 * 1024 ? 'met' : 'NOT met'} (${(gateway.perClientBytes / 1024).toFixed(1)} KiB)\n`,
    );
  } finally {
    await ami.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:fanout failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
