// Deployment files (docker/) checked against the code they deploy: the configuration schema,
// the health routes of the health controller, the Dockerfile's command, and one another.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig } from '../apps/messaging-host/src/config/config.loader';

type Obj = Record<string, unknown>;

/** The repository root: the nearest folder above this file with package.json and docker/. */
function repoRoot(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'docker'))) return d;
    if (dirname(d) === d) throw new Error(`no repository root above ${__dirname}`);
  }
}

const ROOT = repoRoot();
const DOCKER = join(ROOT, 'docker');
const K8S = join(DOCKER, 'k8s');
const HEALTH_CONTROLLER = 'apps/messaging-host/src/health/health.controller.ts';

function read(rel: string): string {
  const p = join(ROOT, rel);
  assert.ok(existsSync(p), `${rel} is missing`);
  return readFileSync(p, 'utf8');
}

function obj(v: unknown, what: string): Obj {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} must be a mapping`);
  return v as Obj;
}

function arr(v: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(v), `${what} must be a list`);
  return v;
}

function yamlDocs(rel: string): Obj[] {
  return parseAllDocuments(read(rel)).map((d, i) => {
    assert.equal(
      d.errors.length,
      0,
      `${rel} document ${i}: ${d.errors.map((e) => e.message).join('; ')}`,
    );
    return obj(d.toJS(), `${rel} document ${i}`);
  });
}

function k8sKind(kind: string): Obj {
  const file = `docker/k8s/${kind.toLowerCase()}.yaml`;
  const docs = yamlDocs(file).filter((d) => d.kind === kind);
  assert.equal(docs.length, 1, `${file} must hold exactly one ${kind}`);
  return docs[0]!;
}

// ---------------------------------------------------------------- health routes

export interface HealthRoutes {
  live: string;
  ready: string;
}

/** The liveness and readiness paths as the controller's decorators declare them. */
export function healthRoutesFromSource(source: string): HealthRoutes {
  const ctrl = /@Controller\(\s*(?:\{[^}]*?\bpath\s*:\s*)?(['"`])([^'"`]*)\1/.exec(source);
  if (!ctrl) throw new Error('no @Controller(<path>) decorator found');
  const gets = [...source.matchAll(/@Get\(\s*(['"`])([^'"`]*)\1\s*\)/g)].map((m) => m[2]!);
  const join2 = (a: string, b: string): string =>
    '/' +
    [a, b]
      .map((s) => s.replace(/^\/+|\/+$/g, ''))
      .filter((s) => s)
      .join('/');
  const pick = (re: RegExp, what: string): string => {
    const found = gets.filter((g) => re.test(g));
    if (found.length !== 1) {
      throw new Error(`expected one @Get route for ${what}, found [${gets.join(', ')}]`);
    }
    return join2(ctrl[2]!, found[0]!);
  };
  return { live: pick(/live/i, 'liveness'), ready: pick(/read/i, 'readiness') };
}

function healthRoutes(): HealthRoutes {
  const p = join(ROOT, HEALTH_CONTROLLER);
  assert.ok(
    existsSync(p),
    `${HEALTH_CONTROLLER} is missing: the probe paths of docker/ are checked against its ` +
      `@Controller/@Get decorators`,
  );
  return healthRoutesFromSource(readFileSync(p, 'utf8'));
}

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  op: string;
  args: string;
}

/** The final stage's instructions (continuations joined, comments dropped). */
export function dockerfileFinalStage(text: string): Instruction[] {
  const logical: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (cur === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((cur + line).trim());
    cur = '';
  }
  if (cur.trim()) logical.push(cur.trim());
  const all = logical.map((l) => {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    return { op: m[1]!.toUpperCase(), args: m[2]! };
  });
  const lastFrom = all.map((i) => i.op).lastIndexOf('FROM');
  assert.ok(lastFrom >= 0, 'the Dockerfile has no FROM');
  return all.slice(lastFrom);
}

/** An exec-form (JSON array) argument list; shell form is rejected (signals must reach node). */
function execForm(args: string, what: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    assert.fail(`${what} must be in exec form (a JSON array), got: ${args}`);
  }
  assert.ok(Array.isArray(v) && v.every((s) => typeof s === 'string'), `${what}: ${args}`);
  return v as string[];
}

function last(stage: Instruction[], op: string): Instruction | undefined {
  return stage.filter((i) => i.op === op).at(-1);
}

/** ENTRYPOINT + CMD of the final stage: what the container runs. */
function imageCommand(stage: Instruction[]): { entrypoint: string[]; cmd: string[] } {
  const ep = last(stage, 'ENTRYPOINT');
  const cmd = last(stage, 'CMD');
  return {
    entrypoint: ep ? execForm(ep.args, 'ENTRYPOINT') : [],
    cmd: cmd ? execForm(cmd.args, 'CMD') : [],
  };
}

function configArg(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--config='))?.slice('--config='.length);
}

const dockerStage = (): Instruction[] => dockerfileFinalStage(read('docker/Dockerfile'));

function imageWorkdir(stage: Instruction[]): string {
  const w = last(stage, 'WORKDIR');
  assert.ok(w, 'the final stage sets no WORKDIR');
  return w.args.trim();
}

function imageConfigPath(): string {
  const stage = dockerStage();
  const { entrypoint, cmd } = imageCommand(stage);
  const p = configArg([...entrypoint, ...cmd]);
  assert.ok(p, `the image's command passes no --config: ${[...entrypoint, ...cmd].join(' ')}`);
  return posix.resolve(imageWorkdir(stage), p);
}

// ---------------------------------------------------------------- configuration

const ETC_APPSETTINGS = 'docker/etc/appsettings.json';

function loadFile(path: string, env: Record<string, string> = {}) {
  return loadConfig({ argv: ['--config', path], env, cwd: ROOT });
}

function withTempFile<T>(name: string, content: string, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mh-deploy-'));
  try {
    const p = join(dir, name);
    writeFileSync(p, content);
    return fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The docker/.env variables; with `includeExamples`, the commented `# NAME=value` lines too. */
function dotEnv(includeExamples: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of read('docker/.env').split('\n')) {
    let line = raw.trim();
    if (includeExamples && /^#\s*[A-Za-z_][A-Za-z0-9_]*=/.test(line))
      line = line.replace(/^#\s*/, '');
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

function configMapAppsettings(): string {
  const cm = k8sKind('ConfigMap');
  const data = obj(cm.data, 'ConfigMap data');
  assert.equal(
    typeof data['appsettings.json'],
    'string',
    'the ConfigMap holds no appsettings.json',
  );
  return data['appsettings.json'] as string;
}

/** The container's environment as the Deployment gives it, Secret references resolved. */
function deploymentEnv(container: Obj): Record<string, string> {
  const secret = k8sKind('Secret');
  const secretName = obj(secret.metadata, 'Secret metadata').name;
  const values: Obj = {
    ...Object.fromEntries(
      Object.entries((secret.data as Obj | undefined) ?? {}).map(([k, v]) => [
        k,
        Buffer.from(String(v), 'base64').toString('utf8'),
      ]),
    ),
    ...((secret.stringData as Obj | undefined) ?? {}),
  };
  const env: Record<string, string> = {};
  for (const e of arr(container.env ?? [], 'container env')) {
    const item = obj(e, 'env item');
    const name = String(item.name);
    if (item.value !== undefined) {
      env[name] = String(item.value);
      continue;
    }
    const fieldRef = obj(item.valueFrom, `env ${name} valueFrom`).fieldRef;
    if (fieldRef !== undefined) {
      // The downward API: what the pod would get (its name, here an example).
      const path = String(obj(fieldRef, `env ${name} fieldRef`).fieldPath);
      assert.equal(path, 'metadata.name', `env ${name}: fieldRef ${path} is not checked here`);
      env[name] = 'messaging-host-5d9c7b6f4-x2k8p';
      continue;
    }
    const ref = obj(
      obj(item.valueFrom, `env ${name} valueFrom`).secretKeyRef,
      `env ${name} secretKeyRef`,
    );
    assert.equal(
      ref.name,
      secretName,
      `env ${name} refers to Secret ${String(ref.name)}, secret.yaml holds ${String(secretName)}`,
    );
    assert.ok(
      Object.hasOwn(values, String(ref.key)),
      `env ${name} refers to key ${String(ref.key)}, which secret.yaml does not hold`,
    );
    env[name] = String(values[String(ref.key)]);
  }
  return env;
}

function deploymentContainer(): { deployment: Obj; pod: Obj; container: Obj } {
  const deployment = k8sKind('Deployment');
  const spec = obj(deployment.spec, 'Deployment spec');
  const template = obj(spec.template, 'pod template');
  const pod = obj(template.spec, 'pod spec');
  const containers = arr(pod.containers, 'containers');
  assert.equal(containers.length, 1, 'the Deployment runs one container');
  return { deployment, pod, container: obj(containers[0], 'container') };
}

/** A probe's or Service's port (a name or a number) as the container's port number. */
function containerPortOf(container: Obj, port: unknown, what: string): number {
  const ports = arr(container.ports, 'container ports').map((p) => obj(p, 'port'));
  if (typeof port === 'number') {
    assert.ok(
      ports.some((p) => p.containerPort === port),
      `${what}: port ${port} is not a container port`,
    );
    return port;
  }
  const named = ports.find((p) => p.name === port);
  assert.ok(named, `${what}: no container port is named ${String(port)}`);
  return named.containerPort as number;
}

/** The preStop sleep in seconds (exec `sleep N`, `sh -c "sleep N"`, or the sleep action). */
function preStopSeconds(container: Obj): number {
  const preStop = obj(obj(container.lifecycle, 'lifecycle').preStop, 'preStop');
  if (preStop.sleep) return Number(obj(preStop.sleep, 'preStop sleep').seconds);
  const command = arr(obj(preStop.exec, 'preStop exec').command, 'preStop command').join(' ');
  const m = /\bsleep\s+(\d+(?:\.\d+)?)/.exec(command);
  assert.ok(m, `preStop does not sleep: ${command}`);
  return Number(m[1]);
}

// ================================================================= tests

describe('health routes are read from the health controller', () => {
  it('parses @Controller and @Get decorators', () => {
    const src = `@Controller('health')\nexport class HealthController {\n  @Get('live')\n  live() {}\n  @Get("ready")\n  ready() {}\n}`;
    assert.deepEqual(healthRoutesFromSource(src), { live: '/health/live', ready: '/health/ready' });
    assert.deepEqual(
      healthRoutesFromSource(
        `@Controller({ path: '/probe/' }) class X { @Get('liveness') a() {} @Get('readiness') b() {} }`,
      ),
      { live: '/probe/liveness', ready: '/probe/readiness' },
    );
    assert.throws(
      () => healthRoutesFromSource(`@Controller('health') class X { @Get('live') a() {} }`),
      /readiness/,
    );
    assert.throws(() => healthRoutesFromSource(`class X {}`), /@Controller/);
  });

  it('the controller serves /health/live and /health/ready', () => {
    assert.deepEqual(healthRoutes(), { live: '/health/live', ready: '/health/ready' });
  });
});

describe('docker/etc/appsettings.json', () => {
  it('passes validation with no warnings', () => {
    const { config, warnings, file } = loadFile(join(ROOT, ETC_APPSETTINGS));
    assert.equal(file, join(ROOT, ETC_APPSETTINGS));
    assert.deepEqual(warnings, []);
    assert.equal(config.server.port, 2013);
    assert.equal(config.server.tlsPort, 2014);
    assert.equal(config.logging.toFile, true);
  });

  it('keeps the seed asterisk block as the seed writes it: string booleans and port', () => {
    const raw = obj(JSON.parse(read(ETC_APPSETTINGS)), 'appsettings');
    const asterisk = obj(raw.asterisk, 'asterisk');
    const seedKeys = [
      'url',
      'port',
      'userName',
      'secret',
      'originateContext',
      'parkingLotContext',
      'autoPauseOnCommutationStart',
      'queueExtensionFormat',
      'asyncOriginate',
      'sendRingStartedOnRingingState',
      'traceQueuesState',
      'protocol',
      'packetInfoConfig',
      'filePath',
    ];
    assert.deepEqual(Object.keys(asterisk).slice(0, seedKeys.length), seedKeys);
    for (const k of seedKeys)
      assert.equal(typeof asterisk[k], 'string', `asterisk.${k} as a string`);
    assert.equal(asterisk.port, '5038');
    assert.equal(
      asterisk.secret,
      '',
      'no password in the repository: it belongs in .env or a Secret',
    );
  });

  it('names every key of the schema (a full reference file)', () => {
    const { config } = loadFile(join(ROOT, ETC_APPSETTINGS));
    const raw = JSON.parse(read(ETC_APPSETTINGS)) as Obj;
    const missing: string[] = [];
    const walk = (schema: unknown, file: unknown, path: string): void => {
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return;
      for (const k of Object.keys(schema)) {
        const f = (file as Obj | undefined)?.[k];
        if (f === undefined) missing.push(path + k);
        else if (k !== 'levels') walk((schema as Obj)[k], f, `${path}${k}.`);
      }
    };
    walk(config, raw, '');
    assert.deepEqual(missing, []);
  });

  it('stays valid with every variable of docker/.env, examples included', () => {
    const { warnings } = loadFile(join(ROOT, ETC_APPSETTINGS), dotEnv(true));
    assert.deepEqual(warnings, []);
    assert.ok(Object.keys(dotEnv(false)).length > 0, 'docker/.env sets at least one variable');
  });
});

describe('docker/k8s ConfigMap', () => {
  it('embeds a valid appsettings.json when the secret comes from the environment', () => {
    const { container } = deploymentContainer();
    const env = deploymentEnv(container);
    assert.ok(env.ASTERISK__SECRET, 'the Deployment sets ASTERISK__SECRET');
    withTempFile('appsettings.json', configMapAppsettings(), (p) => {
      const { config, warnings } = loadFile(p, env);
      assert.deepEqual(warnings, []);
      assert.equal(config.asterisk.secret, env.ASTERISK__SECRET);
    });
  });

  it('is docker/etc/appsettings.json less the secrets', () => {
    const embedded = obj(JSON.parse(configMapAppsettings()), 'embedded appsettings');
    for (const block of ['asterisk', 'cluster']) {
      assert.ok(
        !Object.hasOwn(obj(embedded[block], block), 'secret'),
        `no ${block}.secret in a ConfigMap`,
      );
    }
    const etc = obj(JSON.parse(read(ETC_APPSETTINGS)), 'appsettings');
    delete obj(etc.asterisk, 'asterisk').secret;
    delete obj(etc.cluster, 'cluster').secret;
    assert.deepEqual(embedded, etc);
  });
});

describe('docker/Dockerfile', () => {
  it('runs the built service as a non-root user, with --config', () => {
    const stage = dockerStage();
    const user = last(stage, 'USER');
    assert.ok(user, 'the final stage sets no USER (it would run as root)');
    const name = user.args.trim().split(':')[0]!;
    assert.ok(name !== 'root' && name !== '0', `USER ${user.args} is root`);

    const { entrypoint, cmd } = imageCommand(stage);
    const pkg = JSON.parse(read('package.json')) as { scripts?: Record<string, string> };
    const start = /^node\s+(\S+)/.exec(pkg.scripts?.start ?? '');
    assert.ok(start, 'package.json has a start script running node');
    assert.deepEqual(entrypoint, ['node', start[1]!], 'ENTRYPOINT runs what `npm start` runs');
    assert.equal(
      cmd[0],
      '--config',
      'CMD holds only arguments, so Kubernetes args can replace them',
    );
    assert.equal(imageConfigPath(), '/app/etc/appsettings.json');
    assert.equal(imageWorkdir(stage), '/app');
  });

  it('exposes 2013 and 2014 and checks /health/live', () => {
    const stage = dockerStage();
    const exposed = stage
      .filter((i) => i.op === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((p) => p.replace(/\/tcp$/, ''));
    assert.ok(exposed.includes('2013'), `EXPOSE ${exposed.join(' ')} lacks 2013`);
    assert.ok(exposed.includes('2014'), `EXPOSE ${exposed.join(' ')} lacks 2014`);
    const hc = last(stage, 'HEALTHCHECK');
    assert.ok(hc, 'the final stage has no HEALTHCHECK');
    assert.ok(!/^NONE$/i.test(hc.args.trim()), 'HEALTHCHECK NONE');
    assert.ok(
      hc.args.includes(healthRoutes().live),
      `HEALTHCHECK does not call ${healthRoutes().live}: ${hc.args}`,
    );
    assert.ok(/\bnode\b/.test(hc.args), 'HEALTHCHECK uses node (slim images have no curl)');
  });

  it('copies the scripts npm run build runs (the web console bundle)', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts?: Record<string, string> };
    const scripts = [...(pkg.scripts?.build ?? '').matchAll(/\bnode\s+(scripts\/\S+)/g)].map(
      (m) => m[1]!,
    );
    assert.ok(scripts.length > 0, 'npm run build runs a script of scripts/');
    const text = read('docker/Dockerfile');
    const build = text.slice(0, text.search(/^FROM\s.*\bAS runtime\b/im));
    for (const script of scripts) {
      assert.ok(
        new RegExp(`^COPY\\s+(?:\\S+\\s+)*${script.replace(/[.]/g, '\\.')}\\s`, 'm').test(build) ||
          /^COPY\s+scripts\s/m.test(build),
        `the build stage does not COPY ${script}, which npm run build runs`,
      );
    }
  });

  it('copies only files that exist in the build context', () => {
    const text = read('docker/Dockerfile');
    for (const m of text.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
      const parts = m[1]!
        .trim()
        .split(/\s+/)
        .filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1))
        assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: not in the repository`);
    }
  });
});

describe('docker/healthcheck.mjs', () => {
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/health/live' ? 200 : 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const run = (path: string, p: number): Promise<number | null> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(DOCKER, 'healthcheck.mjs'), path], {
        env: { PATH: process.env.PATH ?? '', server__Port: String(p) },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });

  it('exits 0 on 200 and 1 on 503 or when nothing listens', async () => {
    assert.equal(await run('/health/live', port), 0);
    assert.equal(await run('/health/ready', port), 1);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    assert.equal(await run('/health/live', dead), 1);
  });
});

describe('docker/docker-compose.yml', () => {
  const service = (): Obj => {
    const compose = obj(parseYaml(read('docker/docker-compose.yml')), 'compose file');
    return obj(obj(compose.services, 'services')['messaging-host'], 'service messaging-host');
  };
  const mounts = (): { source: string; target: string; readOnly: boolean }[] =>
    arr(service().volumes, 'volumes').map((v) => {
      if (typeof v === 'string') {
        const [source, target, mode] = v.split(':');
        return {
          source: source!,
          target: target!,
          readOnly: (mode ?? '').split(',').includes('ro'),
        };
      }
      const o = obj(v, 'volume');
      return { source: String(o.source), target: String(o.target), readOnly: o.read_only === true };
    });

  it('builds the image from the repository root', () => {
    const build = obj(service().build, 'build');
    assert.equal(join(DOCKER, String(build.context)), ROOT);
    assert.ok(
      existsSync(join(ROOT, String(build.dockerfile))),
      `build.dockerfile ${String(build.dockerfile)}`,
    );
  });

  it('mounts ./etc/appsettings.json read-only where the image reads its --config', () => {
    const m = mounts().find((x) => x.source === './etc/appsettings.json');
    assert.ok(m, 'no mount of ./etc/appsettings.json');
    assert.equal(m.target, imageConfigPath());
    assert.ok(m.readOnly, 'the configuration is mounted read-only');
  });

  it('maps the configured ports 2013 and 2014', () => {
    const { config } = loadFile(join(ROOT, ETC_APPSETTINGS), dotEnv(false));
    const ports = arr(service().ports, 'ports').map((p) => {
      if (typeof p === 'object' && p !== null)
        return `${String((p as Obj).published)}:${String((p as Obj).target)}`;
      return String(p);
    });
    for (const port of [config.server.port, config.server.tlsPort]) {
      assert.ok(
        ports.some((p) => p.endsWith(`:${port}`)),
        `no published port for container port ${port}: ${ports.join(', ')}`,
      );
    }
  });

  it('reads .env and keeps logs and data outside the container', () => {
    const s = service();
    const envFiles =
      typeof s.env_file === 'string' ? [s.env_file] : arr(s.env_file, 'env_file').map(String);
    assert.ok(envFiles.includes('.env'), 'env_file .env');
    assert.ok(existsSync(join(DOCKER, '.env')), 'docker/.env exists');

    const { config } = loadFile(join(ROOT, ETC_APPSETTINGS), dotEnv(false));
    const workdir = imageWorkdir(dockerStage());
    assert.equal(config.logging.toFile, true);
    const logs = mounts().find((x) => x.target === posix.resolve(workdir, config.logging.dir));
    assert.ok(logs, `no volume at logging.dir ${config.logging.dir}`);
    assert.equal(logs.source, './logs');
    assert.ok(!logs.readOnly);
    assert.equal(config.storage.driver, 'file');
    const dataDir = posix.dirname(posix.resolve(workdir, config.storage.file.path));
    assert.ok(
      mounts().some((x) => x.target === dataDir),
      `no volume at ${dataDir} (storage.file.path)`,
    );

    assert.ok(s.restart, 'a restart policy');
    const hc = obj(s.healthcheck, 'healthcheck');
    assert.ok(arr(hc.test, 'healthcheck test').join(' ').includes(healthRoutes().live));
  });
});

describe('docker/k8s', () => {
  it('Deployment: 2+ replicas, probes on the configured port, a drain that fits the grace period', () => {
    const routes = healthRoutes();
    const { deployment, pod, container } = deploymentContainer();
    const spec = obj(deployment.spec, 'spec');
    assert.ok(Number(spec.replicas) >= 2, `replicas ${String(spec.replicas)}`);

    withTempFile('appsettings.json', configMapAppsettings(), (p) => {
      const { config } = loadFile(p, deploymentEnv(container));
      const probe = (name: string): Obj =>
        obj(obj(container[name], name).httpGet, `${name} httpGet`);
      const ready = probe('readinessProbe');
      const live = probe('livenessProbe');
      assert.equal(ready.path, routes.ready);
      assert.equal(live.path, routes.live);
      assert.equal(containerPortOf(container, ready.port, 'readinessProbe'), config.server.port);
      assert.equal(containerPortOf(container, live.port, 'livenessProbe'), config.server.port);

      const grace = Number(pod.terminationGracePeriodSeconds);
      const sleep = preStopSeconds(container);
      assert.ok(sleep > 0, 'preStop sleeps so that endpoints are removed before SIGTERM');
      assert.ok(
        grace > sleep + 5,
        `terminationGracePeriodSeconds ${grace} <= preStop ${sleep} s + 5 s of drain`,
      );
      assert.ok(config.server.shutdownDrainMs / 1000 + sleep < grace);
    });
  });

  it('Deployment: non-root, the ConfigMap at the --config path, the image command kept', () => {
    const { pod, container } = deploymentContainer();
    const podSc = (pod.securityContext as Obj | undefined) ?? {};
    const sc = (container.securityContext as Obj | undefined) ?? {};
    assert.ok(podSc.runAsNonRoot === true || sc.runAsNonRoot === true, 'runAsNonRoot');
    assert.equal(container.command, undefined, 'command would replace the image ENTRYPOINT');
    const args = arr(container.args, 'args').map(String);
    const configPath = configArg(args);
    assert.equal(configPath, '/app/etc/appsettings.json');
    assert.equal(configPath, imageConfigPath());

    const mount = arr(container.volumeMounts, 'volumeMounts')
      .map((m) => obj(m, 'mount'))
      .find((m) => m.mountPath === configPath);
    assert.ok(mount, `nothing is mounted at ${configPath}`);
    const volume = arr(pod.volumes, 'volumes')
      .map((v) => obj(v, 'volume'))
      .find((v) => v.name === mount.name);
    assert.ok(volume, `no volume ${String(mount.name)}`);
    const cmRef = obj(volume.configMap, 'configMap volume');
    const cm = k8sKind('ConfigMap');
    assert.equal(cmRef.name, obj(cm.metadata, 'metadata').name);
    const items = (cmRef.items as Obj[] | undefined) ?? [];
    const key = items.find((i) => i.path === mount.subPath)?.key ?? mount.subPath;
    assert.ok(
      Object.hasOwn(obj(cm.data, 'data'), String(key)),
      `the ConfigMap has no key ${String(key)}`,
    );
  });

  it('Deployment: Prometheus scrape annotations name the metrics port and path', () => {
    const { deployment, container } = deploymentContainer();
    const template = obj(obj(deployment.spec, 'spec').template, 'pod template');
    const annotations = obj(
      obj(template.metadata, 'pod template metadata').annotations,
      'pod template annotations',
    );
    withTempFile('appsettings.json', configMapAppsettings(), (p) => {
      const { config } = loadFile(p, deploymentEnv(container));
      assert.equal(config.metrics.enabled, true, 'the ConfigMap serves metrics');
      assert.equal(annotations['prometheus.io/scrape'], 'true');
      assert.equal(annotations['prometheus.io/path'], config.metrics.path);
      const port = Number(annotations['prometheus.io/port']);
      assert.equal(port, config.server.port, 'metrics are served on server.port');
      assert.equal(containerPortOf(container, port, 'prometheus.io/port'), config.server.port);
    });
  });

  it('Service targets the container port and selects the pods', () => {
    const { deployment, container } = deploymentContainer();
    const svc = k8sKind('Service');
    const spec = obj(svc.spec, 'Service spec');
    const ports = arr(spec.ports, 'Service ports').map((p) => obj(p, 'port'));
    const http = ports.find((p) => p.port === 2013);
    assert.ok(http, 'the Service has port 2013');
    const { config } = loadFile(join(ROOT, ETC_APPSETTINGS));
    assert.equal(
      containerPortOf(container, http.targetPort ?? http.port, 'Service'),
      config.server.port,
    );
    const labels = obj(
      obj(obj(obj(deployment.spec, 'spec').template, 'template').metadata, 'metadata').labels,
      'labels',
    );
    for (const [k, v] of Object.entries(obj(spec.selector, 'selector')))
      assert.equal(labels[k], v, `selector ${k}`);
    assert.ok(
      spec.sessionAffinity === undefined || spec.sessionAffinity === 'None',
      `sessionAffinity ${String(spec.sessionAffinity)}: the cluster needs none (signed SignalR tokens, leases in Redis)`,
    );
  });

  it('Secret holds the key the Deployment refers to, as a placeholder', () => {
    const { container } = deploymentContainer();
    const env = deploymentEnv(container); // asserts every secretKeyRef resolves
    assert.equal(env.ASTERISK__SECRET, 'change-me');
  });

  it('kustomization lists every manifest', () => {
    const k = obj(parseYaml(read('docker/k8s/kustomization.yaml')), 'kustomization');
    const resources = arr(k.resources, 'resources').map(String).sort();
    assert.deepEqual(resources, [
      'configmap.yaml',
      'deployment.yaml',
      'poddisruptionbudget.yaml',
      'secret.yaml',
      'service.yaml',
    ]);
    for (const r of resources) assert.ok(existsSync(join(K8S, r)));
  });
});
