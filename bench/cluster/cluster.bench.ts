/**
 * Cluster fan-out benchmark (`npm run bench:cluster -- [options]`), issue 11.
 *
 * The same N clients (default 10,000, two tabs per line) and the same synthetic inbound calls at
 * a fixed rate of AMI packets (default 2,000/s, bench/fanout/call-flow.ts) twice in one run:
 *   1. one node (cluster.enabled false), clients straight to it;
 *   2. three nodes with cluster.enabled on one redis-server, behind nginx (docker/nginx.conf,
 *      round robin), clients through nginx; every node has its own AMI connection to the peer.
 * Each client times the frames of events 5 and 6 from the moment the AMI packet behind them left
 * the peer. Prints p50/p99/max, frames received of those expected (lost = the difference), and a
 * RESULT line with the ratios cluster/single.
 *
 * Options: --clients N  --lines L  --rate packets/s  --seconds S  --concurrency C
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeAmiServer } from '@app/ami/testing';
import { inboundCall, type FlowPacket } from '../fanout/call-flow';
import {
  Recorder,
  connectAll,
  gatewayClient,
  lineOf,
  parseFanoutOptions,
  type FanoutOptions,
} from '../fanout/fanout-clients';
import { startCluster } from '../../test/support/cluster-harness';
import { startService } from '../../test/support/service-process';

type Options = FanoutOptions;
const parseOptions = (argv: string[]): Options => parseFanoutOptions(argv, 100);

const AMI_USER = 'bench';
const AMI_SECRET = 'bench-secret';
/**
 * Quiet nodes (a log line per opened line would weigh on the measurement), and no connection caps:
 * every client comes from 127.0.0.1 (through nginx, as behind any proxy).
 */
const QUIET = {
  LIMITS__MAXCONNECTIONSPERADDRESS: '0',
  LIMITS__MAXCONNECTIONS: '0',
  LOGGING__LEVEL: 'info',
  LOGGING__LEVELS__CLIENTSESSION: 'warn',
  LOGGING__LEVELS__LINELEASES: 'warn',
  ASTERISK__AUTOPAUSEONCOMMUTATIONSTART: 'false',
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Broadcasts call flows at `rate` packets per second for `seconds`. */
async function drive(ami: FakeAmiServer, opts: Options, rec: Recorder, seqBase: number) {
  const perLine = new Map<string, number>();
  for (let i = 0; i < opts.clients; i++) {
    perLine.set(lineOf(i, opts), (perLine.get(lineOf(i, opts)) ?? 0) + 1);
  }
  const queue: FlowPacket[] = [];
  let seq = seqBase;
  let lineIndex = 0;
  let expected = 0;
  const total = Math.floor(opts.rate * opts.seconds);
  let sent = 0;
  const t0 = performance.now();
  const send = (p: FlowPacket): void => {
    if (p.timed) rec.sentAt.set(`${p.timed.tag}:${p.timed.eventType}`, performance.now());
    ami.broadcast(p.text);
  };
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * opts.rate) / 1000));
    while (sent < due) {
      if (queue.length === 0) {
        const line = String(10_000 + (lineIndex++ % opts.lines));
        queue.push(...inboundCall(line, ++seq));
        expected += 2 * (perLine.get(line) ?? 0);
      }
      send(queue.shift()!);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
    if (sent < total) await sleep(1);
  }
  for (const p of queue) send(p); // the last call's end, so every timed packet has its pair
  return { expected, seconds: (performance.now() - t0) / 1000, packets: sent };
}

interface Result {
  name: string;
  connectS: number;
  expected: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  rate: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(
  name: string,
  ami: FakeAmiServer,
  port: number,
  opts: Options,
  seqBase: number,
): Promise<Result> {
  const rec = new Recorder();
  const t0 = performance.now();
  const sockets = await connectAll(opts.clients, opts.concurrency, (i) =>
    gatewayClient(port, lineOf(i, opts), rec),
  );
  const connectS = (performance.now() - t0) / 1000;
  process.stdout.write(
    `  ${name}: ${opts.clients} clients connected in ${connectS.toFixed(1)} s\n`,
  );
  await sleep(2000);
  const d = await drive(ami, opts, rec, seqBase);
  const t1 = Date.now();
  while (rec.latencies.length < d.expected && Date.now() - t1 < 10_000) await sleep(50);
  for (const s of sockets) s.terminate();
  const sorted = [...rec.latencies].sort((a, b) => a - b);
  return {
    name,
    connectS,
    expected: d.expected,
    received: rec.latencies.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    rate: d.packets / d.seconds,
  };
}

async function single(opts: Options): Promise<Result> {
  const ami = await FakeAmiServer.start({ username: AMI_USER, secret: AMI_SECRET });
  const dir = mkdtempSync(join(tmpdir(), 'mh-bench-cluster-'));
  writeFileSync(join(dir, 'appsettings.json'), '{}\n');
  const node = startService({
    MESSAGING_HOST_CONFIG: join(dir, 'appsettings.json'),
    ASTERISK__URL: '127.0.0.1',
    ASTERISK__PORT: String(ami.port),
    ASTERISK__USERNAME: AMI_USER,
    ASTERISK__SECRET: AMI_SECRET,
    SERVER__HOST: '127.0.0.1',
    SERVER__PORT: '0',
    STORAGE__FILE__PATH: join(dir, 'settings.json'),
    ...QUIET,
  });
  try {
    await node.waitForOutput(/listening on [^"\s]+:(\d+)/);
    const port = Number(/listening on [^"\s]+:(\d+)/.exec(node.output())![1]);
    while (ami.loggedIn.length < 1) await sleep(20);
    await sleep(500);
    return await measure('one node', ami, port, opts, 0);
  } finally {
    node.kill();
    await node.exited;
    await ami.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cluster(opts: Options): Promise<Result> {
  const c = await startCluster({
    nodes: 3,
    // The default lease (renewed every 3.3 s), as a deployment runs it.
    leaseMs: 10_000,
    env: QUIET,
    nginxWorkerConnections: opts.clients * 2 + 1024,
    // Two sockets per client: spread over workers, each under its own open-files limit.
    nginxWorkers: 4,
  });
  try {
    await sleep(500);
    return await measure('3 nodes + nginx', c.ami, c.nginx.port, opts, 10_000_000);
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  process.stdout.write(
    `bench:cluster: ${opts.clients} clients on ${opts.lines} lines, ${opts.rate} AMI packets/s for ${opts.seconds} s (7 packets per call, events 5 and 6 timed)\n`,
  );
  const one = await single(opts);
  const three = await cluster(opts);
  const row = (r: Result): string =>
    `${r.name.padEnd(16)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms  frames ${r.received}/${r.expected} (lost ${r.expected - r.received})  ${r.rate.toFixed(0)} packets/s  connect ${r.connectS.toFixed(1)} s`;
  process.stdout.write(`\n${row(one)}\n${row(three)}\n`);
  process.stdout.write(
    `RESULT bench:cluster clients=${opts.clients} rate=${opts.rate}/s: 3 nodes behind nginx p50 ${three.p50.toFixed(2)} ms p99 ${three.p99.toFixed(2)} ms lost ${three.expected - three.received}/${three.expected}; one node p50 ${one.p50.toFixed(2)} ms p99 ${one.p99.toFixed(2)} ms lost ${one.expected - one.received}/${one.expected}; ratio cluster/one p50 x${(three.p50 / one.p50).toFixed(2)} p99 x${(three.p99 / one.p99).toFixed(2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:cluster failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
