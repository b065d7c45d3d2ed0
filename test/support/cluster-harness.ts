// A real cluster on this machine for the cluster tests and bench:cluster: redis-server, one AMI
// peer (FakeAmiServer: every node logs in with its own connection and gets the same broadcast
// events), N `node dist/apps/messaging-host/src/main.js` nodes with cluster.enabled, and nginx
// (docker/nginx.conf, round robin) in front of them. Everything on 127.0.0.1, free ports.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AmiDecoder, type AmiPacket } from '@app/ami';
import { FakeAmiServer, readTrace, type FakeAmiFields } from '@app/ami/testing';
import type { LeaseValue } from '../../apps/messaging-host/src/cluster/redis-line-ownership';
import { startNginx, type NginxProcess } from './nginx';
import { startRedisServer, type RedisServer } from './redis-server';
import { startService, type ServiceProcess } from './service-process';

export const CLUSTER_AMI_USER = 'cluster-test';
export const CLUSTER_AMI_SECRET = 'cluster-test-secret';
export const CLUSTER_SECRET = 'cluster-e2e-secret-0123456789-abcdefghij';

export interface ClusterNode {
  id: string;
  port: number;
  proc: ServiceProcess;
  /** Set once the test killed it. */
  dead: boolean;
}

export interface TestCluster {
  redis: RedisServer;
  ami: FakeAmiServer;
  nodes: ClusterNode[];
  nginx: NginxProcess;
  /** A plain Redis client with the nodes' key prefix (to read leases). */
  raw: Redis;
  leaseOf(line: string): Promise<LeaseValue | undefined>;
  node(id: string): ClusterNode;
  /** GET /health/ready of one node (straight to it, not through nginx). */
  ready(node: ClusterNode): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Waits until every live node answers /health/ready with 200. */
  allReady(timeoutMs?: number): Promise<void>;
  kill(node: ClusterNode): Promise<void>;
  /** The nodes' output (for failure messages). */
  logs(): string;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  leaseMs?: number;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** QueueStatus items the AMI peer answers (the queue the trace's lines are members of). */
  queueStatus?: FakeAmiFields[];
  /** nginx's worker_connections (two per client: the client's and the upstream one). */
  nginxWorkerConnections?: number;
  /** nginx worker processes (default: one process). */
  nginxWorkers?: number;
}

/** The QueueParams and QueueMember items of the QueueStatus answer recorded in a trace. */
export function recordedQueueStatus(trace: string): FakeAmiFields[] {
  const items: FakeAmiFields[] = [];
  const decoder = new AmiDecoder(
    {
      onPacket: (p: AmiPacket) => {
        if (p.event !== 'QueueParams' && p.event !== 'QueueMember') return;
        const fields: Record<string, string> = {};
        p.keys.forEach((k, i) => {
          if (k.toLowerCase() !== 'actionid') fields[k] = p.values[i]!;
        });
        items.push(fields);
      },
      onError: (e) => {
        throw e;
      },
    },
    { expectBanner: true },
  );
  for (const r of readTrace(trace)) if (r.dir === 'rx') decoder.push(Buffer.from(r.b64, 'base64'));
  return items;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const n = opts.nodes ?? 3;
  const leaseMs = opts.leaseMs ?? 3000;
  const prefix = `mh-cluster-${process.pid}-${Date.now()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'mh-cluster-'));
  const configFile = join(dir, 'appsettings.json');
  writeFileSync(configFile, '{}\n');
  const redis = await startRedisServer();
  const ami = await FakeAmiServer.start({ username: CLUSTER_AMI_USER, secret: CLUSTER_AMI_SECRET });
  if (opts.queueStatus) ami.setList('QueueStatus', opts.queueStatus);
  const nodes: ClusterNode[] = [];
  const raw = new Redis(redis.url, {
    keyPrefix: prefix,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  raw.on('error', () => undefined);
  let nginx: NginxProcess | undefined;
  const cleanup = async (): Promise<void> => {
    for (const node of nodes) node.proc.kill();
    await Promise.all(nodes.map((node) => node.proc.exited));
    await nginx?.stop();
    raw.disconnect();
    await ami.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= n; i++) {
      const id = `node-${i}`;
      const proc = startService({
        MESSAGING_HOST_CONFIG: configFile,
        ASTERISK__URL: '127.0.0.1',
        ASTERISK__PORT: String(ami.port),
        ASTERISK__USERNAME: CLUSTER_AMI_USER,
        ASTERISK__SECRET: CLUSTER_AMI_SECRET,
        ASTERISK__RECONNECTMINDELAYMS: '100',
        ASTERISK__RECONNECTMAXDELAYMS: '500',
        SERVER__HOST: '127.0.0.1',
        SERVER__PORT: '0',
        SERVER__SHUTDOWNDRAINMS: '200',
        STORAGE__DRIVER: 'redis',
        STORAGE__REDIS__URL: redis.url,
        STORAGE__REDIS__KEYPREFIX: prefix,
        CLUSTER__ENABLED: 'true',
        CLUSTER__NODEID: id,
        CLUSTER__LEASEMS: String(leaseMs),
        CLUSTER__SECRET: CLUSTER_SECRET,
        LOGGING__LEVEL: 'info',
        ...opts.env,
      });
      nodes.push({ id, port: 0, proc, dead: false });
    }
    for (const node of nodes) {
      await node.proc.waitForOutput(/listening on [^"\s]+:(\d+)/, 60_000);
      node.port = Number(/listening on [^"\s]+:(\d+)/.exec(node.proc.output())![1]);
    }
    await raw.connect();
    const cluster: TestCluster = {
      redis,
      ami,
      nodes,
      nginx: undefined as unknown as NginxProcess,
      raw,
      async leaseOf(line) {
        const text = await raw.get(`lease:${line}`);
        return text ? (JSON.parse(text) as LeaseValue) : undefined;
      },
      node(id) {
        const found = nodes.find((x) => x.id === id);
        if (!found) throw new Error(`no node ${id}`);
        return found;
      },
      async ready(node) {
        const res = await fetch(`http://127.0.0.1:${node.port}/health/ready`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      },
      async allReady(timeoutMs = 20_000) {
        const t0 = Date.now();
        for (const node of nodes.filter((x) => !x.dead)) {
          for (;;) {
            const r = await cluster
              .ready(node)
              .catch((e: Error) => ({ status: 0, body: { e: e.message } }));
            if (r.status === 200) break;
            if (Date.now() - t0 > timeoutMs) {
              throw new Error(`${node.id} not ready: ${JSON.stringify(r.body)}\n${cluster.logs()}`);
            }
            await sleep(50);
          }
        }
      },
      async kill(node) {
        node.dead = true;
        node.proc.child.kill('SIGKILL');
        await node.proc.exited;
      },
      logs() {
        return nodes.map((x) => `--- ${x.id}\n${x.proc.output().slice(-4000)}`).join('\n');
      },
      close: cleanup,
    };
    await cluster.allReady();
    nginx = await startNginx(
      nodes.map((x) => x.port),
      { workerConnections: opts.nginxWorkerConnections, workers: opts.nginxWorkers },
    );
    cluster.nginx = nginx;
    return cluster;
  } catch (err) {
    const out = nodes.map((x) => `--- ${x.id}\n${x.proc.output().slice(-3000)}`).join('\n');
    await cleanup();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${out}`, {
      cause: err,
    });
  }
}
