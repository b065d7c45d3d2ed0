// The cluster's deployment files checked against the code (issue 11): docker-compose.cluster.yml
// and nginx.conf (round robin, no affinity, the nodes it names), the k8s Deployment's cluster
// settings, the PodDisruptionBudget and the Service without session affinity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig } from '../apps/messaging-host/src/config/config.loader';
import { findAll, parseNginxConf } from './support/nginx';

type Obj = Record<string, unknown>;

function root(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'docker'))) return d;
    if (dirname(d) === d) throw new Error(`no repository root above ${__dirname}`);
  }
}
const ROOT = root();
const read = (rel: string): string => {
  assert.ok(existsSync(join(ROOT, rel)), `${rel} is missing`);
  return readFileSync(join(ROOT, rel), 'utf8');
};
const obj = (v: unknown, what: string): Obj => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} must be a mapping`);
  return v as Obj;
};
const k8s = (file: string, kind: string): Obj => {
  const docs = parseAllDocuments(read(`docker/k8s/${file}`)).map((d) => obj(d.toJS(), file));
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `docker/k8s/${file} holds one ${kind}`);
  return found[0]!;
};

/** docker/etc/appsettings.json with `env`, as a node loads it. */
function loadEtc(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-deploy-'));
  try {
    const p = join(dir, 'appsettings.json');
    writeFileSync(p, read('docker/etc/appsettings.json'));
    return loadConfig({ argv: ['--config', p], env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SECRET_EXAMPLE = 'an-example-secret-of-more-than-32-characters';

describe('docker/docker-compose.cluster.yml and docker/nginx.conf', () => {
  const compose = (): Obj =>
    obj(parseYaml(read('docker/docker-compose.cluster.yml'), { merge: true }), 'compose');
  const services = (): Obj => obj(compose().services, 'services');
  const nodes = (): [string, Obj][] =>
    Object.entries(services())
      .map(([k, v]) => [k, obj(v, k)] as [string, Obj])
      .filter(([, s]) => obj(s.environment ?? {}, 'environment')['CLUSTER__ENABLED'] === 'true');
  const envOf = (s: Obj): Record<string, string> => {
    const env = obj(s.environment, 'environment') as Record<string, string>;
    // ${CLUSTER__SECRET:?...} comes from .env; the check gives it a value.
    return Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        String(v).replace(/^\$\{CLUSTER__SECRET[^}]*\}$/, SECRET_EXAMPLE),
      ]),
    );
  };

  it('runs two or more nodes of the image, each a valid cluster node with its own id', () => {
    const list = nodes();
    assert.ok(list.length >= 2, `cluster nodes: ${list.map(([k]) => k).join(', ')}`);
    const ids = new Set<string>();
    for (const [name, s] of list) {
      const build = obj(s.build, `${name} build`);
      assert.equal(join(ROOT, 'docker', String(build.context)), ROOT);
      assert.equal(build.dockerfile, 'docker/Dockerfile');
      assert.ok(s.ports === undefined, `${name} publishes no port: clients go through nginx`);
      const env = envOf(s);
      assert.match(
        String(obj(s.environment, 'env')['CLUSTER__SECRET']),
        /^\$\{CLUSTER__SECRET:\?/,
        `${name}: the secret comes from .env and the start fails without it`,
      );
      const { config, warnings } = loadEtc(env);
      assert.deepEqual(warnings, []);
      assert.equal(config.cluster.enabled, true);
      assert.equal(config.storage.driver, 'redis');
      const redisHost = new URL(config.storage.redis.url).hostname;
      assert.ok(
        Object.hasOwn(services(), redisHost),
        `${name}: storage.redis.url names ${redisHost}, which is no service of the file`,
      );
      ids.add(config.cluster.effectiveNodeId());
    }
    assert.equal(ids.size, list.length, 'every node has its own cluster.nodeId');
  });

  it('nginx publishes 2013 and balances over exactly those nodes, round robin, no affinity', () => {
    const nginx = obj(services()['nginx'], 'service nginx');
    const ports = (nginx.ports as unknown[]).map(String);
    assert.ok(
      ports.some((p) => /(^|:)2013:2013$/.test(p)),
      `nginx ports ${ports.join(', ')}`,
    );
    const volumes = (nginx.volumes as unknown[]).map(String);
    assert.ok(volumes.includes('./nginx.conf:/etc/nginx/nginx.conf:ro'), volumes.join(', '));

    const conf = parseNginxConf(read('docker/nginx.conf'));
    const upstreams = findAll(conf, 'upstream');
    assert.equal(upstreams.length, 1, 'one upstream block');
    const block = upstreams[0]!.block!;
    for (const banned of ['ip_hash', 'hash', 'sticky', 'least_conn', 'random']) {
      assert.ok(!block.some((d) => d.name === banned), `${banned} in the upstream: no affinity`);
    }
    const { config } = loadEtc(envOf(nodes()[0]![1]));
    const servers = block.filter((d) => d.name === 'server').map((d) => d.args[0]);
    assert.deepEqual(
      servers.sort(),
      nodes()
        .map(([k]) => `${k}:${config.server.port}`)
        .sort(),
    );
    const proxyPass = findAll(conf, 'proxy_pass').map((d) => d.args[0]);
    assert.deepEqual(proxyPass, [`http://${upstreams[0]!.args[0]}`]);
    assert.deepEqual(
      findAll(conf, 'listen').map((d) => d.args[0]),
      ['2013'],
    );
  });

  it('nginx passes WebSocket upgrades and keeps idle sockets past the heartbeat', () => {
    const conf = parseNginxConf(read('docker/nginx.conf'));
    const headers = findAll(conf, 'proxy_set_header').map((d) => d.args.join(' '));
    assert.ok(headers.includes('Upgrade $http_upgrade'), headers.join(' | '));
    assert.ok(headers.includes('Connection $connection_upgrade'), headers.join(' | '));
    assert.deepEqual(
      findAll(conf, 'proxy_http_version').map((d) => d.args[0]),
      ['1.1'],
    );
    const { config } = loadEtc({});
    const timeout = findAll(conf, 'proxy_read_timeout')[0]?.args[0] ?? '60s';
    const ms = /^(\d+)s$/.test(timeout) ? Number(timeout.slice(0, -1)) * 1000 : NaN;
    assert.ok(
      ms > 2 * config.server.heartbeatIntervalMs,
      `proxy_read_timeout ${timeout} must outlast two server heartbeats`,
    );
  });
});

describe('docker/k8s for a cluster', () => {
  const container = (): Obj => {
    const d = k8s('deployment.yaml', 'Deployment');
    const pod = obj(obj(obj(d.spec, 'spec').template, 'template').spec, 'pod');
    return obj((pod.containers as unknown[])[0], 'container');
  };
  const secretValues = (): Record<string, string> =>
    obj(k8s('secret.yaml', 'Secret').stringData, 'stringData') as Record<string, string>;

  it('the Deployment runs cluster nodes: Redis storage, the secret from the Secret, the pod name as node id', () => {
    const env: Record<string, string> = {};
    for (const e of container().env as Obj[]) {
      const name = String(e.name);
      if (e.value !== undefined) env[name] = String(e.value);
      else {
        const from = obj(e.valueFrom, name);
        if (from.fieldRef) {
          assert.equal(obj(from.fieldRef, name).fieldPath, 'metadata.name', name);
          env[name] = 'messaging-host-5d9c7b6f4-x2k8p';
        } else {
          const key = String(obj(from.secretKeyRef, name).key);
          assert.ok(Object.hasOwn(secretValues(), key), `${name}: the Secret has no ${key}`);
          env[name] = secretValues()[key]!;
        }
      }
    }
    assert.equal(env.CLUSTER__ENABLED, 'true');
    assert.equal(env.CLUSTER__NODEID, 'messaging-host-5d9c7b6f4-x2k8p');
    const cm = obj(k8s('configmap.yaml', 'ConfigMap').data, 'data');
    const dir = mkdtempSync(join(tmpdir(), 'mh-deploy-'));
    try {
      const p = join(dir, 'appsettings.json');
      writeFileSync(p, String(cm['appsettings.json']));
      const { config, warnings } = loadConfig({ argv: ['--config', p], env });
      assert.deepEqual(warnings, []);
      assert.equal(config.cluster.enabled, true);
      assert.equal(config.storage.driver, 'redis');
      assert.ok(config.cluster.secret.length >= 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const sources = (container().env as Obj[])
      .filter((e) => ['CLUSTER__SECRET', 'STORAGE__REDIS__URL'].includes(String(e.name)))
      .map((e) => (e.value === undefined ? 'secret' : 'plain'));
    assert.deepEqual(sources, ['secret', 'secret'], 'secrets come from the Secret only');
  });

  it('a PodDisruptionBudget keeps all but one pod through voluntary disruptions', () => {
    const pdb = k8s('poddisruptionbudget.yaml', 'PodDisruptionBudget');
    const d = k8s('deployment.yaml', 'Deployment');
    const spec = obj(pdb.spec, 'pdb spec');
    const replicas = Number(obj(d.spec, 'spec').replicas);
    if (spec.maxUnavailable !== undefined) {
      assert.ok(Number(spec.maxUnavailable) >= 1 && Number(spec.maxUnavailable) < replicas);
    } else {
      assert.ok(Number(spec.minAvailable) >= 1 && Number(spec.minAvailable) < replicas);
    }
    const labels = obj(
      obj(obj(obj(d.spec, 'spec').template, 'template').metadata, 'metadata').labels,
      'labels',
    );
    const match = obj(obj(spec.selector, 'selector').matchLabels, 'matchLabels');
    for (const [k, v] of Object.entries(match)) assert.equal(labels[k], v, `selector ${k}`);
  });

  it('the deployment notes name the Redis to use', () => {
    const text = read('docker/k8s/deployment.yaml');
    assert.match(text, /Redis: one instance reachable from every pod/);
  });
});
